"""A malformed pack is refused at load time with a ConfigError naming the file and the field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gateway.errors import ConfigError
from gateway.policies import Category, PolicyPack, load_pack
from gateway.policies.loader import PACKS_DIR

GOOD = """
id = "testland"
name = "测试"
document = "test"
[handling]
consultation = { amount = 1, unit = "working_days", source = "第一条" }
"""


@pytest.fixture
def packs(tmp_path: Path) -> Path:
    shutil.copy(PACKS_DIR / "national.toml", tmp_path / "national.toml")
    return tmp_path


def write(packs: Path, text: str, name: str = "testland") -> Path:
    path = packs / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_minimal_pack_inherits_everything_else(packs: Path) -> None:
    write(packs, GOOD)
    pack = load_pack("testland", packs)
    assert isinstance(pack, PolicyPack)
    assert pack.handling_limit(Category.CONSULTATION).amount == 1
    assert "product default" in pack.handling_limit(Category.COMPLAINT).source
    assert pack.notes == []


def test_unknown_pack_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        load_pack("atlantis")
    assert caught.value.error_id == "unknown-policy"
    assert "atlantis" in caught.value.message
    for known in ("chuxiong", "qingyang", "liaoyang", "hanbin", "national"):
        assert known in caught.value.message


@pytest.mark.parametrize(("extra", "field", "words"), [
    ('[sign]\nlimit = { amount = 2, unit = "weeks", source = "x" }\n', "sign.limit.unit", "working_days"),
    ('[sign]\nlimit = { amount = -1, unit = "hours", source = "x" }\n', "sign.limit.amount", "greater than"),
    ('[sign]\nlimit = { amount = 2, unit = "hours" }\n', "sign.limit", "no source"),
    ('[sign]\nlimit = { amount = 2, unit = "hours", source = "x" }\nhurry = true\n', "sign.hurry", "Extra"),
    ('[clock]\nstart = "whenever"\nsource = "x"\n', "clock.start", "dispatch"),
    ('[working_hours]\nperiods = [["14:00", "12:00"]]\nsource = "x"\n', "working_hours.periods", "before"),
    ('[extension]\nmax_count = 1\ncount_source = "x"\n', "extension", "length bound"),
    ('[[acceptance]]\ncode = "Bad Code"\nlabel = "x"\nsource = "x"\n', "acceptance.0.code", "pattern"),
])
def test_malformed_field_is_named_with_the_file(packs: Path, extra: str, field: str, words: str) -> None:
    path = write(packs, GOOD + extra)
    with pytest.raises(ConfigError) as caught:
        load_pack("testland", packs)
    message = caught.value.message
    assert str(path) in message
    assert field in message
    assert words in message
    assert caught.value.error_id == "invalid-policy-pack"


def test_handling_override_may_not_drop_a_category_source(packs: Path) -> None:
    write(packs, GOOD.replace(', source = "第一条"', ""))
    with pytest.raises(ConfigError, match=r"handling\.consultation has no source"):
        load_pack("testland", packs)


def test_id_must_match_the_file_name(packs: Path) -> None:
    write(packs, GOOD.replace('id = "testland"', 'id = "otherland"'))
    with pytest.raises(ConfigError, match="field 'id' must be 'testland'"):
        load_pack("testland", packs)


def test_invalid_toml_is_refused(packs: Path) -> None:
    path = write(packs, GOOD + "[sign\n")
    with pytest.raises(ConfigError) as caught:
        load_pack("testland", packs)
    assert str(path) in caught.value.message and "not valid TOML" in caught.value.message


def test_operators_can_point_at_their_own_packs(packs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(packs, GOOD)
    monkeypatch.setenv("HOTLINE_POLICY_DIR", str(packs))
    assert load_pack("testland").id == "testland"
