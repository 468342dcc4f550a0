"""The repository stands on its own: nothing it ships reaches outside the checkout for data or docs."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# A path that climbs out of the checkout into a sibling folder named shared/ (how the project once found
# its test data and regulation texts); "shared" on its own is an ordinary word.
OUTSIDE = re.compile(r"\.\./shared\b|parents?\W*\[?\d*\]?\W*/\s*[\"']shared[\"']")


def _tracked_text_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.splitlines()
    return [ROOT / name for name in names if (ROOT / name).is_file()]


def test_no_file_refers_to_a_shared_folder_beside_the_checkout() -> None:
    offenders = []
    for path in _tracked_text_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        offenders += [f"{path.relative_to(ROOT)}:{n}" for n, line in enumerate(text.splitlines(), 1)
                      if OUTSIDE.search(line)]
    assert offenders == []


def test_the_data_the_tests_replay_and_cite_is_in_the_repository() -> None:
    assert sorted(p.name for p in (ROOT / "tests" / "data" / "ami").glob("*.ami")) == [
        "agent_answers_queue_call.ami", "attended_transfer.ami", "basic_call.ami", "redirect_queue_caller.ami"]
    cited = {line.split('"')[1] for pack in (ROOT / "gateway" / "policies" / "packs").glob("*.toml")
             for line in pack.read_text(encoding="utf-8").splitlines() if line.startswith("seed = ")}
    assert cited and all((ROOT / "docs" / "regulations" / name).is_file() for name in cited)
