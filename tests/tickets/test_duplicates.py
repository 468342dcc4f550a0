"""并案 candidates: the same caller's open ticket, or another citizen's about the same matter in the same
place, scored by what matches (caller 45, matter 35, place 20/15/8) and saying why."""

from gateway.tickets.duplicates import TicketDuplicates
from gateway.tickets.service import TicketService
from gateway.understanding.shared import SharedUnderstanding
from tests.tickets.support import AGENT, complaint


async def test_same_caller_and_same_place(service: TicketService, understanding: SharedUnderstanding) -> None:
    mine = await service.create(complaint(), AGENT)
    neighbour = await service.create(complaint(caller_number="13900139000", content="幸福路23号的路灯坏了好几天"),
                                     AGENT)
    unrelated = await service.create(complaint(caller_number="13700137000", content="菜市场噪音扰民",
                                               location="东关街"), AGENT)
    await service.withdraw(unrelated.number, AGENT, "已解决")
    lookup = TicketDuplicates(service, understanding)
    found = await lookup.similar("13800138000", "幸福路23号", "幸福路23号路灯坏了")
    assert [(c.ticket_id, c.reason, c.score) for c in found] == [
        (mine.number, "same-caller", 95), (neighbour.number, "same-place-and-matter", 50)]  # a road: 15
    assert found[0].reasons == ("同一来电号码", "同一事项：路灯照明", "同一地点：幸福路")
    assert found[1].reasons == ("同一事项：路灯照明", "同一地点：幸福路")
    assert await lookup.similar(None, "东关街", "菜市场噪音扰民") == []  # withdrawn tickets are not candidates


async def test_the_same_matter_elsewhere_or_another_matter_here_is_no_candidate(
        service: TicketService, understanding: SharedUnderstanding) -> None:
    await service.create(complaint(caller_number="13900139001", location="递铺街道翠竹苑",
                                   content="翠竹苑小区从早上开始停电了，冰箱里的东西都要坏了"), AGENT)
    await service.create(complaint(caller_number="13900139002", location="递铺街道金桂园",
                                   content="金桂园这边整个小区都没电了"), AGENT)
    await service.create(complaint(caller_number="13900139003", location="递铺街道翠竹苑",
                                   content="翠竹苑五号楼的电梯又坏了，老人下不了楼"), AGENT)
    lookup = TicketDuplicates(service, understanding)
    found = await lookup.similar(None, "递铺街道翠竹苑", "翠竹苑停电两个小时了还没来电")
    assert [(c.reason, c.score, c.reasons) for c in found] == [
        ("same-place-and-matter", 55, ("同一事项：电力供应", "同一地点：递铺街道翠竹苑"))]


async def test_the_same_callers_other_matter_is_shown_lower_than_a_real_duplicate(
        service: TicketService, understanding: SharedUnderstanding) -> None:
    other = await service.create(complaint(content="我家门口的垃圾桶好几天没人清运了，臭得不行", location="孝丰镇老街"),
                                 AGENT)
    same = await service.create(complaint(caller_number="13900139004"), AGENT)  # 城关镇幸福路23号, 路灯
    found = await TicketDuplicates(service, understanding).similar("13800138000", "城关镇幸福路", "幸福路路灯还是不亮")
    assert [(c.ticket_id, c.score) for c in found] == [(same.number, 50), (other.number, 45)]
    assert found[1].reasons == ("同一来电号码",)


async def test_without_the_understanding_pipeline_only_the_same_caller_is_found(service: TicketService) -> None:
    mine = await service.create(complaint(), AGENT)
    await service.create(complaint(caller_number="13900139000"), AGENT)
    found = await TicketDuplicates(service).similar("13800138000", "幸福路23号", "幸福路23号路灯坏了")
    assert [(c.ticket_id, c.reason, c.score) for c in found] == [(mine.number, "same-caller", 45)]
