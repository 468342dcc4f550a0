"""Every numeric rule of the four packs, reproduced through deadlines() on the real calendar.

Each row names the rule and its article. Dates: 2026-11-23 is a Monday; National Day 10-01..07 is off,
Sat 10-10 and Sun 09-20 are 调休 working days, Mid-Autumn 09-25 (Fri) is off. 楚雄 works 08:00–12:00 and
14:00–18:00 (8 h); the other three packs use the national default 08:30–12:00, 14:00–17:30 (7 h).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gateway.errors import InvalidInput
from gateway.policies import Category, load_pack
from gateway.workcalendar import CalendarOutOfRange, WorkCalendar
from gateway.workcalendar.sla import Deadlines, deadlines, survey_deadlines

TZ = ZoneInfo("Asia/Shanghai")
MON = "2026-11-23"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


@cache
def calendar(pack_id: str) -> WorkCalendar:
    return WorkCalendar.for_pack(load_pack(pack_id))


def compute(pack_id: str, category: str, dispatched: str, **options: Any) -> Deadlines:
    pack = load_pack(pack_id)
    urgent = options.pop("urgent", False)
    if "signed" in options:
        options["signed_at"] = at(options.pop("signed"))
    return deadlines(pack, calendar(pack_id), Category.parse(category), urgent, at(dispatched), **options)


# (rule id, pack, category, dispatched, options, field, expected)
RULES: list[tuple[str, str, str, str, dict[str, Any], str, Any]] = [
    # ---- 楚雄 (解读 四(二), 四(三)) -----------------------------------------------------------------
    ("cx-sign-2wh-across-lunch", "chuxiong", "咨询", f"{MON} 11:00", {}, "sign_by", f"{MON} 15:00"),
    ("cx-sign-2wh-overnight", "chuxiong", "咨询", f"{MON} 17:00", {}, "sign_by", "2026-11-24 09:00"),
    ("cx-sign-offhours-evening", "chuxiong", "咨询", f"{MON} 19:00", {}, "sign_by", "2026-11-24 10:00"),
    ("cx-sign-offhours-early", "chuxiong", "咨询", "2026-11-24 07:00", {}, "sign_by", "2026-11-24 10:00"),
    ("cx-sign-offhours-lunch", "chuxiong", "咨询", f"{MON} 12:30", {}, "sign_by", "2026-11-24 10:00"),
    ("cx-sign-offhours-weekend", "chuxiong", "咨询", "2026-11-28 09:00", {}, "sign_by", "2026-11-30 10:00"),
    ("cx-sign-offhours-national-day", "chuxiong", "咨询", "2026-09-30 19:00", {},
     "sign_by", "2026-10-08 10:00"),
    ("cx-sign-offhours-make-up-sat", "chuxiong", "咨询", "2026-10-09 19:30", {},
     "sign_by", "2026-10-10 10:00"),
    ("cx-consultation-1wd", "chuxiong", "咨询", f"{MON} 10:00", {}, "due", "2026-11-24 10:00"),
    ("cx-consultation-total-3wd", "chuxiong", "咨询", f"{MON} 10:00", {}, "max_due", "2026-11-26 10:00"),
    ("cx-consultation-1-extension", "chuxiong", "咨询", f"{MON} 10:00", {}, "max_extensions", 1),
    ("cx-suggestion-3wd", "chuxiong", "建议", f"{MON} 10:00", {}, "due", "2026-11-26 10:00"),
    ("cx-suggestion-total-5wd", "chuxiong", "建议", f"{MON} 10:00", {}, "max_due", "2026-11-30 10:00"),
    ("cx-help-3wd", "chuxiong", "求助", f"{MON} 10:00", {}, "due", "2026-11-26 10:00"),
    ("cx-help-total-5wd", "chuxiong", "求助", f"{MON} 10:00", {}, "max_due", "2026-11-30 10:00"),
    ("cx-help-1-extension", "chuxiong", "求助", f"{MON} 10:00", {}, "max_extensions", 1),
    # 15 wd from Mon 09-14: over the 调休 Sunday 09-20, Mid-Autumn and National Day, onto Sat 10-10
    ("cx-complaint-15wd", "chuxiong", "投诉", "2026-09-14 10:00", {}, "due", "2026-10-10 10:00"),
    ("cx-complaint-total-35wd", "chuxiong", "投诉", "2026-09-14 10:00", {}, "max_due", "2026-11-06 10:00"),
    ("cx-complaint-2-extensions", "chuxiong", "投诉", "2026-09-14 10:00", {}, "max_extensions", 2),
    ("cx-report-15wd", "chuxiong", "举报", "2026-09-14 10:00", {}, "due", "2026-10-10 10:00"),
    ("cx-report-total-35wd", "chuxiong", "举报", "2026-09-14 10:00", {}, "max_due", "2026-11-06 10:00"),
    ("cx-thanks-national-5wd", "chuxiong", "致谢", f"{MON} 10:00", {}, "due", "2026-11-30 10:00"),
    ("cx-thanks-no-extension", "chuxiong", "致谢", f"{MON} 10:00", {}, "max_due", "2026-11-30 10:00"),
    ("cx-return-1wd", "chuxiong", "咨询", f"{MON} 10:00", {}, "return_by", "2026-11-24 10:00"),
    ("cx-return-site-check-3wd", "chuxiong", "咨询", f"{MON} 10:00", {"site_check": True}, "return_by",
     "2026-11-26 10:00"),
    ("cx-forward-end-of-sign-day", "chuxiong", "咨询", f"{MON} 19:00", {}, "forward_by", "2026-11-24 18:00"),
    ("cx-forward-signed-at-night", "chuxiong", "咨询", f"{MON} 19:00", {"signed": f"{MON} 20:00"},
     "forward_by",
     "2026-11-24 18:00"),
    ("cx-forward-signed-same-day", "chuxiong", "咨询", f"{MON} 09:00", {"signed": f"{MON} 09:30"},
     "forward_by",
     f"{MON} 18:00"),
    ("cx-emergency-response-1h", "chuxiong", "求助", "2026-10-09 22:00", {"urgent": True},
     "emergency_response_by", "2026-10-09 23:00"),
    ("cx-emergency-feedback-2h", "chuxiong", "求助", "2026-10-09 22:00", {"urgent": True},
     "emergency_feedback_by", "2026-10-10 00:00"),
    ("cx-emergency-done-48h", "chuxiong", "求助", "2026-10-09 22:00", {"urgent": True},
     "due", "2026-10-11 22:00"),
    ("cx-local-holiday-torch-festival", "chuxiong", "咨询", "2025-07-15 17:00", {},
     "due", "2025-07-21 17:00"),
    # ---- 庆阳 (第二十一条) ----------------------------------------------------------------------------
    ("qy-sign-3wh", "qingyang", "投诉", f"{MON} 10:00", {}, "sign_by", f"{MON} 15:00"),
    ("qy-sign-3wh-evening", "qingyang", "投诉", f"{MON} 19:00", {}, "sign_by", "2026-11-24 11:30"),
    ("qy-sign-3wh-national-day", "qingyang", "投诉", "2026-09-30 16:00", {}, "sign_by", "2026-10-08 10:00"),
    ("qy-consultation-2wd", "qingyang", "咨询", f"{MON} 10:00", {}, "due", "2026-11-25 10:00"),
    ("qy-consultation-ext-le-limit", "qingyang", "咨询", f"{MON} 10:00", {}, "max_due", "2026-11-27 10:00"),
    ("qy-complaint-5wd", "qingyang", "投诉", f"{MON} 10:00", {}, "due", "2026-11-30 10:00"),
    ("qy-complaint-ext-le-limit", "qingyang", "投诉", f"{MON} 10:00", {}, "max_due", "2026-12-07 10:00"),
    ("qy-help-5wd", "qingyang", "求助", f"{MON} 10:00", {}, "due", "2026-11-30 10:00"),
    ("qy-report-5wd", "qingyang", "举报", f"{MON} 10:00", {}, "due", "2026-11-30 10:00"),
    ("qy-suggestion-5wd", "qingyang", "建议", f"{MON} 10:00", {}, "due", "2026-11-30 10:00"),
    ("qy-thanks-5wd", "qingyang", "致谢", f"{MON} 10:00", {}, "due", "2026-11-30 10:00"),
    ("qy-other-5wd", "qingyang", "其他", f"{MON} 10:00", {}, "due", "2026-11-30 10:00"),
    ("qy-provincial-4wd", "qingyang", "咨询", f"{MON} 10:00", {"provincial": True},
     "due", "2026-11-27 10:00"),
    ("qy-provincial-ext-le-limit", "qingyang", "咨询", f"{MON} 10:00", {"provincial": True}, "max_due",
     "2026-12-03 10:00"),
    ("qy-extension-before-expiry", "qingyang", "投诉", f"{MON} 10:00", {}, "extension_request_by",
     "2026-11-30 10:00"),
    ("qy-emergency-feedback-2h", "qingyang", "求助", "2026-10-09 16:00", {"urgent": True},
     "emergency_feedback_by", "2026-10-09 18:00"),
    # 2 wd = 14 working hours: Fri 1.5 h, make-up Sat 7 h, Mon 5.5 h
    ("qy-emergency-done-2wd", "qingyang", "求助", "2026-10-09 16:00", {"urgent": True},
     "due", "2026-10-12 16:00"),
    ("qy-return-1wd", "qingyang", "投诉", f"{MON} 10:00", {}, "return_by", "2026-11-24 10:00"),
    ("qy-return-emergency-30min", "qingyang", "求助", "2026-10-03 23:50", {"urgent": True}, "return_by",
     "2026-10-04 00:20"),
    # ---- 辽阳 (第十四–十六条) -------------------------------------------------------------------------
    ("ly-return-8wh", "liaoyang", "投诉", f"{MON} 10:00", {}, "return_by", "2026-11-24 11:00"),
    ("ly-consultation-3wd", "liaoyang", "咨询", f"{MON} 10:00", {}, "due", "2026-11-26 10:00"),
    ("ly-consultation-ext-15wd", "liaoyang", "咨询", f"{MON} 10:00", {}, "max_due", "2026-12-17 10:00"),
    ("ly-suggestion-5wd", "liaoyang", "建议", f"{MON} 10:00", {}, "due", "2026-11-30 10:00"),
    ("ly-suggestion-ext-15wd", "liaoyang", "建议", f"{MON} 10:00", {}, "max_due", "2026-12-21 10:00"),
    ("ly-help-7wd", "liaoyang", "求助", f"{MON} 10:00", {}, "due", "2026-12-02 10:00"),
    ("ly-complaint-10wd", "liaoyang", "投诉", f"{MON} 10:00", {}, "due", "2026-12-07 10:00"),
    ("ly-complaint-ext-15wd", "liaoyang", "投诉", f"{MON} 10:00", {}, "max_due", "2026-12-28 10:00"),
    ("ly-report-10wd", "liaoyang", "举报", f"{MON} 10:00", {}, "due", "2026-12-07 10:00"),
    ("ly-extension-before-expiry", "liaoyang", "投诉", f"{MON} 10:00", {}, "extension_request_by",
     "2026-12-07 10:00"),
    ("ly-sign-national-1wd", "liaoyang", "投诉", f"{MON} 10:00", {}, "sign_by", "2026-11-24 10:00"),
    ("ly-emergency-national-48h", "liaoyang", "求助", f"{MON} 10:00", {"urgent": True}, "due",
     "2026-11-25 10:00"),
    ("ly-emergency-national-response-2h", "liaoyang", "求助", f"{MON} 10:00", {"urgent": True},
     "emergency_response_by", f"{MON} 12:00"),
    # ---- 汉滨 (第十一、十四、十五、十七条) ----------------------------------------------------------------
    ("hb-sign-1wd", "hanbin", "咨询", f"{MON} 10:00", {}, "sign_by", "2026-11-24 10:00"),
    ("hb-sign-1wd-weekend", "hanbin", "咨询", "2026-11-27 16:00", {}, "sign_by", "2026-11-30 16:00"),
    ("hb-consultation-2wd-from-signing", "hanbin", "咨询", f"{MON} 10:00", {"signed": f"{MON} 11:00"}, "due",
     "2026-11-25 11:00"),
    ("hb-unsigned-clock-starts-at-sign-deadline", "hanbin", "咨询", f"{MON} 10:00", {},
     "due", "2026-11-26 10:00"),
    ("hb-late-signing-cannot-delay-clock", "hanbin", "咨询", f"{MON} 10:00", {"signed": "2026-11-25 09:00"},
     "clock_start", "2026-11-24 10:00"),
    ("hb-complaint-5wd", "hanbin", "投诉", f"{MON} 10:00", {"signed": f"{MON} 10:00"},
     "due", "2026-11-30 10:00"),
    ("hb-complaint-2-extensions-of-5wd", "hanbin", "投诉", f"{MON} 10:00", {"signed": f"{MON} 10:00"},
     "max_due",
     "2026-12-14 10:00"),
    ("hb-extension-requested-1wd-before", "hanbin", "投诉", f"{MON} 10:00", {"signed": f"{MON} 10:00"},
     "extension_request_by", "2026-11-27 10:00"),
    ("hb-max-2-extensions", "hanbin", "投诉", f"{MON} 10:00", {}, "max_extensions", 2),
    ("hb-report-5wd", "hanbin", "举报", f"{MON} 10:00", {"signed": f"{MON} 10:00"},
     "due", "2026-11-30 10:00"),
    ("hb-help-5wd", "hanbin", "求助", f"{MON} 10:00", {"signed": f"{MON} 10:00"}, "due", "2026-11-30 10:00"),
    ("hb-suggestion-5wd", "hanbin", "建议", f"{MON} 10:00", {"signed": f"{MON} 10:00"},
     "due", "2026-11-30 10:00"),
    ("hb-reopened-5wd", "hanbin", "咨询", f"{MON} 10:00", {"signed": f"{MON} 10:00", "reopened": True}, "due",
     "2026-11-30 10:00"),
    ("hb-reopened-no-extension", "hanbin", "咨询", f"{MON} 10:00",
     {"signed": f"{MON} 10:00", "reopened": True}, "max_due", "2026-11-30 10:00"),
    ("hb-reopened-0-extensions", "hanbin", "咨询", f"{MON} 10:00", {"reopened": True}, "max_extensions", 0),
    ("hb-emergency-response-2h", "hanbin", "求助", "2026-11-28 10:00", {"urgent": True},
     "emergency_response_by",
     "2026-11-28 12:00"),
    ("hb-emergency-done-2-days", "hanbin", "求助", "2026-11-28 10:00", {"urgent": True},
     "due", "2026-11-30 10:00"),
    ("hb-return-1wd", "hanbin", "投诉", f"{MON} 10:00", {}, "return_by", "2026-11-24 10:00"),
]


@pytest.mark.parametrize(("pack_id", "category", "dispatched", "options", "field", "expected"),
                         [pytest.param(*row[1:], id=row[0]) for row in RULES])
def test_rule(pack_id: str, category: str, dispatched: str, options: dict[str, Any], field: str,
              expected: Any) -> None:
    result = getattr(compute(pack_id, category, dispatched, **options), field)
    if isinstance(expected, str):
        assert result == at(expected)
        assert result.utcoffset().total_seconds() == 8 * 3600
    else:
        assert result == expected


@pytest.mark.parametrize(("pack_id", "intake", "expected"), [
    ("qingyang", "2026-11-28 23:00", "2026-11-29 01:00"),  # 第二十一条(一): 2 natural hours, round the clock
    ("liaoyang", f"{MON} 10:00", "2026-11-24 11:00"),      # 第十四条: 8 working hours
])
def test_dispatch_limit(pack_id: str, intake: str, expected: str) -> None:
    pack = load_pack(pack_id)
    assert pack.dispatch.limit is not None
    assert calendar(pack_id).add(at(intake), pack.dispatch.limit) == at(expected)


@pytest.mark.parametrize(("pack_id", "closed", "survey_by", "reply_hours"), [
    ("chuxiong", "2026-11-27 17:00", "2026-11-30 17:00", None),  # 解读 四(二)2: 1 wd; no reply window
    ("liaoyang", "2026-11-27 10:00", "2026-12-02 10:00", None),  # 第二十二条(二): 3 wd, by telephone
    ("qingyang", "2026-11-27 10:00", "2026-12-02 10:00", 24),  # national 3 wd; 第二十二条(三): 24 h
])
def test_survey_deadlines(pack_id: str, closed: str, survey_by: str, reply_hours: int | None) -> None:
    by, window = survey_deadlines(load_pack(pack_id), calendar(pack_id), at(closed))
    assert by == at(survey_by)
    if reply_hours is None:
        assert window is None
    else:
        assert window is not None and window.amount == reply_hours and window.unit == "hours"


def test_every_deadline_names_its_source() -> None:
    result = compute("qingyang", "投诉", f"{MON} 10:00")
    for key in ("sign_by", "due", "max_due", "return_by", "clock_start", "sign_deemed_accepted"):
        assert result.sources[key], key
    assert "第二十一条(一)" in result.sources["due"]
    assert "视为受理" in result.sources["sign_deemed_accepted"]


def test_signing_before_dispatch_is_refused() -> None:
    with pytest.raises(InvalidInput):
        compute("hanbin", "咨询", f"{MON} 10:00", signed="2026-11-22 10:00")


def test_a_long_limit_running_into_2027_fails_until_the_year_is_supplied(tmp_path: Path) -> None:
    # 楚雄 complaints may be extended to 35 working days: from late November 2026 that reaches 2027, which
    # chinesecalendar 1.11 does not cover. The product refuses to guess...
    pack = load_pack("chuxiong")
    with pytest.raises(CalendarOutOfRange, match="2027"):
        deadlines(pack, calendar("chuxiong"), Category.COMPLAINT, False, at(f"{MON} 10:00"))
    # ...until the operator supplies the year (here: a made-up schedule with only 元旦 off).
    overrides = tmp_path / "calendar.toml"
    overrides.write_text('full_years = [2027]\n[[days]]\nstart = "2027-01-01"\nend = "2027-01-03"\n'
                         'kind = "holiday"\nname = "元旦"\n', encoding="utf-8")
    cal = WorkCalendar.for_pack(pack, overrides_file=overrides)
    result = deadlines(pack, cal, Category.COMPLAINT, False, at(f"{MON} 10:00"))
    assert result.due == at("2026-12-14 10:00")
    # 12-14 + 20 wd: 15–18, 21–25, 28–31 (13), 2027-01-04..08 (18), 01-11, 01-12 (20)
    assert result.max_due == at("2027-01-12 10:00")


def test_emergency_clock_runs_from_dispatch_even_where_the_clock_starts_at_signing() -> None:
    result = compute("hanbin", "求助", "2026-11-28 10:00", urgent=True)
    assert result.clock_start == at("2026-11-28 10:00")
