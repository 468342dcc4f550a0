"""Chinese word segmentation for the search index and for queries (rjieba + hotline vocabulary).

Loading the jieba dictionary takes ~0.4 s of CPU: build a ``Segmenter`` once, in a thread
(``await asyncio.to_thread(Segmenter.load)``), never on the event loop. Segmenting a short query
afterwards costs tens of microseconds and is fine inline.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import rjieba

DATA = Path(__file__).with_name("data")
TERMS_FILE = DATA / "hotline_terms.txt"

# Words that carry no topic: dropped from index and query terms (a query made only of them keeps them).
STOPWORDS = frozenset(
    "的 了 吗 呢 吧 啊 呀 么 是 在 有 和 与 及 或 就 都 也 还 又 被 把 对 向 从 给 让 要 会 能 可"
    " 可以 可不可以"
    " 我 我们 你 你们 您 他 她 它 他们 这 那 这个 那个 这些 那些 哪 哪些 哪个 什么 怎么 怎么办 怎么样 怎样"
    " 如何 为什么"
    " 请问 请 一下 一个 多少 多久 几 几天 吗 嗯 喂 哦 呃 就是 然后 那么 想 想问 问 问下 知道 告诉 说 里 上 下"
    " 个 些 得 地 着 过 没 没有 不是 还是 是不是 能不能 应该 需要 时候 现在 已经 自己".split()
)
# Interjections and fillers of live speech, dropped before suggesting entries from a transcript.
FILLERS = frozenset("嗯 啊 呃 哦 喂 那个 这个 就是 然后 你好 您好 对 对对 好的 好 是的 谢谢".split())

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORDLIKE = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
MAX_TERM_LEN = 64


def normalize(text: str) -> str:
    """Full-width → half-width, lower case: "１２３４５" and "12345" index alike."""
    return unicodedata.normalize("NFKC", text).lower()


def is_cjk(char: str) -> bool:
    return bool(_CJK.fullmatch(char))


def load_terms(path: Path = TERMS_FILE) -> list[tuple[str, int | None]]:
    terms = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, freq = line.partition(" ")
        terms.append((normalize(word), int(freq) if freq.strip() else None))
    return terms


class Segmenter:
    def __init__(self, jieba: rjieba.Jieba) -> None:
        self._jieba = jieba

    @classmethod
    def load(
        cls, extra_terms: Iterable[tuple[str, int | None]] = (), terms_file: Path = TERMS_FILE
    ) -> Segmenter:
        """CPU work (~0.4 s): call from a thread."""
        jieba = rjieba.Jieba()
        for word, freq in [*load_terms(terms_file), *extra_terms]:
            jieba.add_word(word, freq, None)
        return cls(jieba)

    def words(self, text: str) -> list[str]:
        """Search-mode segmentation (long words also yield their dictionary sub-words), word-like only."""
        out = []
        for token in self._jieba.cut_for_search(normalize(text)):
            token = token.strip()
            if token and len(token) <= MAX_TERM_LEN and _WORDLIKE.search(token):
                out.append(token)
        return out

    def terms(self, text: str) -> list[str]:
        """Distinct topic words of ``text`` in order of appearance (stopwords dropped)."""
        return list(dict.fromkeys(w for w in self.words(text) if w not in STOPWORDS))

    def query_terms(self, text: str) -> list[str]:
        """Terms of a query. One made only of stopwords is kept as typed so that it still finds
        something. (A word the index lacks falls back to its characters at search time.)"""
        terms = self.terms(text)
        compact = "".join(self.words(text))
        if not terms and compact and len(compact) <= MAX_TERM_LEN:
            terms = [compact]
        return terms

    def transcript_terms(self, text: str) -> list[str]:
        """Terms of live speech: fillers and stopwords dropped."""
        return [t for t in self.terms(text) if t not in FILLERS]


def cjk_chars(text: str) -> list[str]:
    """Distinct CJK characters: indexed for short fields so single-character queries match."""
    return list(dict.fromkeys(c for c in normalize(text) if is_cjk(c)))
