"""Periods on the consoles are the centre's calendar days, whatever zone the browser's machine runs in.

A supervisor's laptop on UTC at 00:30 Beijing time is still on the previous date; "today" and the
midnights that bound a chosen period must be Beijing's (the deployment's `timezone`), or the day's calls
fall outside the period the page asks for.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.consoles.browser import Browser
from tests.consoles.support import Gateway

pytestmark = pytest.mark.slow

HELPERS = """
const done = arguments[arguments.length - 1];
import('/console/static/common.js').then((c) => done({
  day: c.centreDay(new Date(arguments[0]), 'Asia/Shanghai'),
  period: c.centrePeriod('2026-12-31', '2026-12-31', 'Asia/Shanghai'),
  month_end: c.addDays('2027-02-28', 1),
  utc: c.centreMidnight('2026-03-29', 'UTC'),
})).catch((e) => done(String(e)));
"""


async def test_the_centres_day_and_midnights_do_not_follow_the_browsers_zone(gateway: Gateway,
                                                                             browser: Browser) -> None:
    await browser.in_time_zone("UTC")
    await browser.open(f"{gateway.url}/console/")
    got = await browser._run(browser.driver.execute_async_script, HELPERS, "2026-12-04T16:30:00Z")
    assert got == {
        "day": "2026-12-05",  # 00:30 in Beijing; the browser's own date is still the 4th
        "period": {"start": "2026-12-31T00:00:00+08:00", "end": "2027-01-01T00:00:00+08:00"},
        "month_end": "2027-03-01",
        "utc": "2026-03-29T00:00:00+00:00",
    }


@pytest.mark.parametrize("zone", ["Pacific/Honolulu", "Pacific/Kiritimati"])
async def test_the_supervisor_pages_periods_end_today_in_beijing(gateway: Gateway, browser: Browser,
                                                                 zone: str) -> None:
    await browser.in_time_zone(zone)  # 18 hours behind Beijing, or 6 ahead: most of the day another date
    before = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    await browser.sign_in(gateway.url, gateway.tokens["supervisor"], "supervisor")
    ends = await browser.until("(() => { const e = [...document.querySelectorAll('#period [name=end], "
                               "#performance-period [name=end]')].map((i) => i.value); "
                               "return e.length === 2 && e.every(Boolean) && e; })()")
    after = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    await browser.until("document.querySelectorAll('#charts svg').length === 5")  # the page has settled
    assert ends in ([before, before], [after, after])
