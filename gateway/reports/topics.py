"""What a ticket is about, in words: the matter words of its content (rjieba with the project's
dictionary), used to cluster hot issues and to count topics in reports."""

from __future__ import annotations

from gateway.speech.extract import Segmenter

# Parts of speech that carry the matter: nouns, verbs, adjectives, idioms, place names, user-dictionary
# words (tags are those of jieba).
MATTER_TAGS = ("n", "v", "a", "l", "i", "s", "j", "x_user")
# Person names (nr, nrfg, nrt) are never matter words: topics and hot-issue summaries must not name callers.
PERSON_TAGS = ("nr",)
STOP = frozenset({"反映", "问题", "希望", "请求", "解决", "处理", "情况", "现在", "没有", "一直", "我们", "你们",
                  "市民", "来电", "咨询", "投诉", "要求", "相关", "部门", "有关", "已经", "进行"})


def matter_words(segmenter: Segmenter, text: str, limit: int = 12) -> list[str]:
    words: list[str] = []
    for word, tag, _ in segmenter.tag(text):
        if len(word) >= 2 and not word.isdigit() and tag.startswith(MATTER_TAGS) \
                and not tag.startswith(PERSON_TAGS) and word not in STOP and word not in words:
            words.append(word)
    return words[:limit]


def cluster_key(category: str, place: str | None, words: list[str]) -> str:
    """Category, place and matter words, space-separated so rapidfuzz's token-set ratio compares sets."""
    return " ".join([category, *(place.split() if place else []), *words])
