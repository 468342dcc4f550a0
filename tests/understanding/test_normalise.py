"""ASR text comes out readable: no fillers, stutters or stray spaces, numbers as digits where they are
quantities, dates or times — and nothing that carries meaning is touched."""

from __future__ import annotations

import pytest

from gateway.understanding.normalise import normalise


@pytest.mark.parametrize("heard, clean", [
    ("嗯 那个 我 家 楼下 的 路灯 坏 了", "我家楼下的路灯坏了"),
    ("呃我想问一下就是说那个社保怎么交", "我想问一下社保怎么交"),
    ("我我我爸他他说", "我爸他说"),
    ("快来快来快来", "快来"),
    ("ＡＢＣ１２３", "ABC123"),
])
def test_fillers_stutters_spaces_and_full_width_are_cleaned(heard: str, clean: str) -> None:
    assert normalise(heard) == clean


@pytest.mark.parametrize("heard, clean", [
    ("二零二六年十月八号下午三点", "2026年10月8号下午3点"),
    ("三号楼二单元", "3号楼2单元"),
    ("交了三百五十块", "交了350块"),
    ("电话一三八零零一三八零零零", "电话13800138000"),
])
def test_spoken_numbers_dates_and_times_become_digits(heard: str, clean: str) -> None:
    assert normalise(heard) == clean


@pytest.mark.parametrize("text", ["我一直等了一下", "万一着火了", "十万火急", "三四个人", "十字路口", "我妈妈看看",
                                  "那个路灯坏了", "额度不够"])
def test_words_that_contain_numerals_or_look_like_fillers_are_kept(text: str) -> None:
    assert normalise(text) == text


@pytest.mark.parametrize("text", ["嗯 那个 我我 家 着火了着火了 三号楼", "二零二六年 啊 十月", "他他他们 的的 事"])
def test_normalising_twice_changes_nothing(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
