"""并案 candidates: the same caller's open ticket, or another citizen's about the same place and matter."""

from gateway.tickets.duplicates import TicketDuplicates
from gateway.tickets.service import TicketService
from tests.tickets.support import AGENT, complaint


async def test_same_caller_and_same_place(service: TicketService) -> None:
    mine = await service.create(complaint(), AGENT)
    neighbour = await service.create(complaint(caller_number="13900139000", content="幸福路23号的路灯坏了好几天"),
                                     AGENT)
    unrelated = await service.create(complaint(caller_number="13700137000", content="菜市场噪音扰民",
                                               location="东关街"), AGENT)
    await service.withdraw(unrelated.number, AGENT, "已解决")
    lookup = TicketDuplicates(service)
    found = await lookup.similar("13800138000", "幸福路23号", "幸福路23号路灯坏了")
    assert [(c.ticket_id, c.reason) for c in found][:2] == [
        (mine.number, "same-caller"), (neighbour.number, "same-place-and-matter")]
    assert await lookup.similar(None, "东关街", "菜市场噪音扰民") == []  # withdrawn tickets are not candidates
    assert await lookup.similar(None, None, "路灯") == []
