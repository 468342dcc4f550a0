"""A character n-gram classifier as the emergency detector's safety net for wording the vocabulary
does not know (有个老人躺在小区门口叫他也不应).

Trained with scikit-learn (TF-IDF over character 1–3-grams, multinomial logistic regression) by
``python -m gateway.understanding.emergency_model train OUT FILE…`` and shipped as plain weights
(data/emergency_model.json), so prediction needs no scikit-learn and costs a dictionary look-up per
n-gram. Its detections never carry more than ``MAX_CONFIDENCE``: on their own they flag a call for a
person, they do not send it to a trunk (ivr [emergency] asr_transfer_confidence).
"""

from __future__ import annotations

import json
import math
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

NONE = "none"
THRESHOLD = 0.4  # probability of "some emergency" above which the model flags one
MAX_CONFIDENCE = 0.55
MIN_CHARS = 6  # shorter utterances (喂, 你好啊) carry too little for the model; the vocabulary still reads them
_PRUNE = 0.02  # n-grams whose weights are all smaller than this are dropped from the shipped file


@dataclass(frozen=True)
class ModelHit:
    service: str
    probability: float  # of any emergency
    start: int  # the n-gram that weighed most for the service, in the given (compact) text
    end: int


def _grams(text: str) -> Counter[str]:
    return Counter(text[at:at + n] for n in (1, 2, 3) for at in range(len(text) - n + 1))


class EmergencyModel:
    def __init__(self, weights: dict[str, Any]) -> None:
        self.classes: list[str] = weights["classes"]
        self.intercept: list[float] = weights["intercept"]
        self.features: dict[str, list[float]] = weights["features"]  # n-gram → [idf, weight per class…]
        self.trained_at: str = weights.get("trained_at", "")

    @classmethod
    def shipped(cls) -> EmergencyModel:
        with resources.files("gateway.understanding").joinpath("data", "emergency_model.json").open("rb") as fh:
            return cls(json.load(fh))

    def predict(self, text: str) -> ModelHit | None:
        if len(text) < MIN_CHARS:
            return None
        values: dict[str, float] = {}
        for gram, count in _grams(text).items():
            feature = self.features.get(gram)
            if feature is not None:
                values[gram] = (1.0 + math.log(count)) * feature[0]
        norm = math.sqrt(sum(v * v for v in values.values())) or 1.0
        scores = list(self.intercept)
        for gram, value in values.items():
            weights = self.features[gram]
            for k in range(len(scores)):
                scores[k] += value / norm * weights[k + 1]
        top = max(scores)
        exp = [math.exp(s - top) for s in scores]
        total = sum(exp)
        probabilities = dict(zip(self.classes, (e / total for e in exp), strict=True))
        emergency = 1.0 - probabilities.get(NONE, 0.0)
        if emergency <= THRESHOLD:
            return None
        service = max((c for c in self.classes if c != NONE), key=probabilities.__getitem__)
        k = self.classes.index(service)
        # Evidence: the longest-weighing n-gram of two or more characters for that service.
        gram = max((g for g in values if len(g) > 1), default=max(values, key=len),
                   key=lambda g: values[g] * self.features[g][k + 1] * len(g))
        start = text.find(gram)
        return ModelHit(service, round(emergency, 3), start, start + len(gram))


def train(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Weights from labelled rows (text, emergency); needs scikit-learn."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts = ["".join(row["text"].split()) for row in rows]
    labels = [row.get("emergency") or NONE for row in rows]
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, lowercase=False)
    model = LogisticRegression(C=10, max_iter=2000, class_weight="balanced")
    model.fit(vectorizer.fit_transform(texts), labels)
    classes = [str(c) for c in model.classes_]
    features = {}
    for gram, column in vectorizer.vocabulary_.items():
        weights = [float(model.coef_[k][column]) for k in range(len(classes))]
        if max(map(abs, weights)) >= _PRUNE:
            features[gram] = [round(float(vectorizer.idf_[column]), 4)] + [round(w, 4) for w in weights]
    return {"classes": classes, "intercept": [round(float(b), 4) for b in model.intercept_],
            "features": features, "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "trained_on": len(rows), "threshold": THRESHOLD}


if __name__ == "__main__":
    if len(sys.argv) < 4 or sys.argv[1] != "train":
        sys.exit("usage: python -m gateway.understanding.emergency_model train OUT.json FILE.jsonl…")
    rows = [json.loads(line) for name in sys.argv[3:]
            for line in Path(name).read_text(encoding="utf-8").splitlines() if line.strip()]
    Path(sys.argv[2]).write_text(json.dumps(train(rows), ensure_ascii=False, separators=(",", ":")),
                                 encoding="utf-8")
