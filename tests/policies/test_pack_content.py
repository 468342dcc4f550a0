"""What the packs say, beyond the arithmetic: categories, sources, lists, survey rules, inheritance."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path

import pytest

from gateway.errors import InvalidInput
from gateway.policies import Category, Duration, available_packs, load_pack

PACKS = ["chuxiong", "qingyang", "liaoyang", "hanbin"]
SEEDS = Path(__file__).resolve().parents[2] / "docs" / "regulations"  # the texts the packs cite


def test_the_five_packs_ship() -> None:
    assert set(available_packs()) >= {"national", *PACKS}


@pytest.mark.parametrize(("text", "category"), [
    ("投诉", Category.COMPLAINT), ("complaint", Category.COMPLAINT), ("Complaint", Category.COMPLAINT),
    ("投诉类", Category.COMPLAINT), ("咨询", Category.CONSULTATION), ("consultation", Category.CONSULTATION),
    ("求助", Category.HELP), ("help", Category.HELP), ("举报", Category.REPORT), ("report", Category.REPORT),
    ("建议", Category.SUGGESTION), ("suggestion", Category.SUGGESTION), ("致谢", Category.THANKS),
    ("thanks", Category.THANKS), ("其他", Category.OTHER), (" other ", Category.OTHER),
])
def test_categories_parse_chinese_and_english(text: str, category: Category) -> None:
    assert Category.parse(text) is category


def test_category_zh_and_unknown() -> None:
    assert [c.zh for c in Category] == ["咨询", "求助", "投诉", "举报", "建议", "致谢", "其他"]
    with pytest.raises(InvalidInput) as caught:
        Category.parse("表扬")
    assert caught.value.error_id == "unknown-category"
    assert "投诉" in caught.value.message


@pytest.mark.parametrize("pack_id", ["national", *PACKS])
def test_every_limit_names_its_source(pack_id: str) -> None:
    pack = load_pack(pack_id)
    durations = pack.durations()
    assert len(durations) >= 12
    assert all(duration.source for _, duration in durations)
    for name in ("acceptance", "non_acceptance", "guidance"):
        for item in getattr(pack, name):
            assert item.source and item.label and re.fullmatch(r"[a-z][a-z0-9_]*", item.code)


_PUNCTUATION = str.maketrans("，；：（）", ",;:()")


def _normalised(text: str) -> str:
    """The seeds mix full- and half-width punctuation and wrap lines; compare without either."""
    return re.sub(r"\s+", "", text).translate(_PUNCTUATION)


def _quoted_parts(source: str) -> list[str]:
    """The Chinese quotation in 'ARTICLE: quote…quote (comment)'; empty for defaults and notes."""
    if "default" in source or ": " not in source:
        return []
    quote = source.split(": ", 1)[1].split(" (", 1)[0]
    return [part for part in re.split(r"[…]", quote) if part]


@pytest.mark.parametrize("pack_id", PACKS)
def test_quoted_sources_are_verbatim_from_the_seed_text(pack_id: str) -> None:
    pack = load_pack(pack_id)
    assert pack.seed is not None
    text = _normalised((SEEDS / pack.seed).read_text(encoding="utf-8"))
    checked = 0
    for where, duration in pack.durations():
        for part in _quoted_parts(duration.source):
            assert _normalised(part) in text, f"{where}: {part!r} is not in {pack.seed}"
            checked += 1
    assert checked >= 5


def test_sign_rules() -> None:
    assert load_pack("qingyang").sign_deemed_accepted is True
    assert "视为受理" in load_pack("qingyang").sign.deemed_accepted_source
    assert not any(load_pack(p).sign_deemed_accepted for p in ("chuxiong", "liaoyang", "hanbin"))
    assert load_pack("chuxiong").sign.off_hours_by == time(10, 0)
    assert load_pack("qingyang").sign_limit(urgent=False) == Duration(
        amount=3, unit="working_hours", source=load_pack("qingyang").sign.limit.source)


def test_return_rules() -> None:
    qingyang = load_pack("qingyang")
    urgent, normal = qingyang.return_limit(urgent=True), qingyang.return_limit(urgent=False)
    assert (urgent.amount, urgent.unit) == (30, "minutes")
    assert (normal.amount, normal.unit) == (1, "working_days")
    assert load_pack("chuxiong").return_limit(site_check=True).amount == 3
    assert load_pack("liaoyang").return_limit().unit == "working_hours"
    # No text sets a deadline for reviewing a return.
    assert all(load_pack(p).return_review_limit is None for p in PACKS)


def test_extension_rules() -> None:
    hanbin = load_pack("hanbin")
    assert hanbin.extension.max_count == 2
    assert hanbin.extension.request_before == Duration(amount=1, unit="working_days",
                                                       source=hanbin.extension.request_before.source)
    assert hanbin.extension.allowed_for_reopened is False
    assert hanbin.reopen.limit is not None and hanbin.reopen.limit.amount == 5
    terms = hanbin.extension_terms(Category.CONSULTATION)
    assert terms.per_extension is not None and terms.per_extension.amount == 2  # same as the limit
    assert load_pack("liaoyang").extension.max_total_extension.amount == 15  # type: ignore[union-attr]
    chuxiong = load_pack("chuxiong")
    assert [chuxiong.extension_terms(c).max_count for c in Category] == [1, 1, 2, 2, 1, 0, 0]
    assert chuxiong.extension_terms(Category.COMPLAINT).total_handling.amount == 35  # type: ignore[union-attr]


def test_handling_limit_priorities() -> None:
    qingyang = load_pack("qingyang")
    assert qingyang.handling_limit(Category.CONSULTATION, urgent=False).amount == 2
    assert qingyang.handling_limit(Category.CONSULTATION, urgent=False, provincial=True).amount == 4
    assert qingyang.handling_limit(Category.CONSULTATION, urgent=True) == qingyang.emergency.done
    assert load_pack("hanbin").handling_limit(Category.CONSULTATION, reopened=True).amount == 5
    # no reopen limit in the text: the original limit applies
    assert load_pack("qingyang").handling_limit(Category.COMPLAINT, reopened=True).amount == 5
    # no provincial rule: the category's limit
    assert load_pack("liaoyang").handling_limit(Category.HELP, provincial=True).amount == 7


def test_survey_rules() -> None:
    qingyang = load_pack("qingyang")
    assert qingyang.survey.no_reply_means_satisfied is True
    assert qingyang.survey.reply_window is not None and qingyang.survey.reply_window.amount == 24
    closing = [level.zh for level in qingyang.survey.levels if level.outcome == "close"]
    assert closing == ["非常满意", "满意", "基本满意"]
    assert qingyang.survey.level("不满意").outcome == "reopen_if_unit_at_fault"
    assert [e.code for e in qingyang.satisfaction_exclusions] == [
        "suggestion_ticket", "mediation_or_enforcement_done_by_law", "no_policy_basis_explained"]
    assert qingyang.satisfaction_exclusions[0].category is Category.SUGGESTION
    assert all(not load_pack(p).satisfaction_exclusions for p in ("chuxiong", "liaoyang", "hanbin"))
    assert not any(load_pack(p).survey.no_reply_means_satisfied for p in ("chuxiong", "liaoyang", "hanbin"))


def test_emergency_rules() -> None:
    chuxiong, qingyang, hanbin = (load_pack(p) for p in ("chuxiong", "qingyang", "hanbin"))
    assert (chuxiong.emergency.response.amount, chuxiong.emergency.first_feedback.amount,  # type: ignore[union-attr]
            chuxiong.emergency.done.amount) == (1, 2, 48)
    assert qingyang.emergency.done.unit == "working_days"
    assert (hanbin.emergency.done.amount, hanbin.emergency.done.unit) == (2, "days")


@pytest.mark.parametrize("pack_id", PACKS)
def test_lists_send_emergencies_to_110(pack_id: str) -> None:
    pack = load_pack(pack_id)
    items = {item.code: item for item in pack.non_acceptance + pack.guidance}
    assert "110" in items["emergency_channel"].guidance
    assert pack.acceptance


def test_liaoyang_has_a_separate_guidance_list() -> None:
    codes = [item.code for item in load_pack("liaoyang").guidance]
    assert codes == ["party_congress_court_military", "legal_procedure", "discipline_cadre",
                     "emergency_channel", "litigation_petition"]
    assert all(item.source.startswith("第七条") for item in load_pack("liaoyang").guidance)


def test_silent_texts_inherit_national_defaults_and_say_so() -> None:
    liaoyang, qingyang, chuxiong = (load_pack(p) for p in ("liaoyang", "qingyang", "chuxiong"))
    assert "product default" in liaoyang.handling[Category.THANKS].source
    assert qingyang.working_hours == load_pack("national").working_hours
    assert chuxiong.reopen == load_pack("national").reopen
    assert chuxiong.working_hours.seconds_per_day == 8 * 3600
    assert liaoyang.clock_start == "dispatch" and load_pack("hanbin").clock_start == "sign"
    assert liaoyang.notes and not liaoyang.notes[0].startswith("Honesty")
