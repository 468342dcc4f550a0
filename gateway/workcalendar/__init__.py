"""Working-time calendar (national holidays, 调休, local days, deployment overrides) and the SLA clock.

    from gateway.workcalendar import WorkCalendar
    from gateway.workcalendar.sla import deadlines
    cal = WorkCalendar.for_pack(pack, overrides_file=None)
    d = deadlines(pack, cal, Category.COMPLAINT, False, dispatched_at)
"""

from gateway.workcalendar.calendar import CalendarOutOfRange, WorkCalendar
from gateway.workcalendar.overrides import CalendarOverrides, load_overrides

__all__ = ["CalendarOutOfRange", "CalendarOverrides", "WorkCalendar", "load_overrides"]
