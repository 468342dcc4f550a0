"""Character n-gram classifiers for the two safety flags: "which emergency service, if any" (the
emergency detector's second opinion for wording its vocabulary does not know, 有个老人躺在小区门口叫他也
不应) and "which out-of-scope reason, if any" (scope.py, for wording its phrases do not know).

Trained with scikit-learn (TF-IDF over character 1–3-grams, multinomial logistic regression) by
``python -m gateway.understanding.emergency_model train emergency|out_of_scope OUT FILE…`` and shipped as
plain weights (data/emergency_model.json, data/scope_model.json), so prediction needs no scikit-learn and
costs a dictionary look-up per n-gram. Besides the labelled files, every line of the shipped call corpus
is a negative example (ordinary 12345 calls), except the lines the rules alone would flag: without
them a model trained on a few hundred labelled lines flagged a quarter of ordinary calls. The decision
threshold is chosen on 5-fold out-of-fold probabilities and recorded in the file with those figures.
Detections never carry more than ``MAX_CONFIDENCE``: on their own they flag a call for a person, they do
not send it to a trunk (ivr [emergency] asr_transfer_confidence).
"""

from __future__ import annotations

import json
import math
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

NONE = "none"
THRESHOLD = 0.4  # used when a weights file records none
MAX_CONFIDENCE = 0.55
MIN_CHARS = 6  # shorter utterances (喂, 你好啊) carry too little for the model; the vocabulary still reads them
_PRUNE = 0.05  # n-grams whose weights are all smaller than this are dropped: the shipped files stay under 4 MB
# Threshold choice on this grid from out-of-fold figures. Emergencies: recall first — the highest
# threshold whose recall on the positives is at least 97 %. Out of scope: a wrong flag may turn away a
# legitimate request — the lowest threshold that flags at most 1 % of ordinary calls.
_GRID = tuple(round(0.2 + 0.05 * k, 2) for k in range(15))
RECALL_TARGET = 0.97
FALSE_ALARM_CAP = 0.01
WEIGHTS_FILE = {"emergency": "emergency_model.json", "out_of_scope": "scope_model.json"}


@dataclass(frozen=True)
class ModelHit:
    label: str  # the service or reason
    probability: float  # of any positive label (some emergency / some reason)
    start: int  # the n-gram that weighed most for the label, in the given (compact) text
    end: int

    @property
    def service(self) -> str:
        return self.label


def _grams(text: str) -> Counter[str]:
    return Counter(text[at:at + n] for n in (1, 2, 3) for at in range(len(text) - n + 1))


class NgramModel:
    def __init__(self, weights: dict[str, Any]) -> None:
        self.classes: list[str] = weights["classes"]
        self.intercept: list[float] = weights["intercept"]
        self.features: dict[str, list[float]] = weights["features"]  # n-gram → [idf, weight per class…]
        self.threshold: float = float(weights.get("threshold", THRESHOLD))
        self.trained_at: str = weights.get("trained_at", "")

    @classmethod
    def shipped(cls, flag: str = "emergency") -> NgramModel:
        with resources.files("gateway.understanding").joinpath("data", WEIGHTS_FILE[flag]).open("rb") as fh:
            return cls(json.load(fh))

    def probabilities(self, text: str) -> tuple[dict[str, float], dict[str, float]]:
        """(class → probability, n-gram → its tf-idf value in the text)."""
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
        return dict(zip(self.classes, (e / total for e in exp), strict=True)), values

    def predict(self, text: str, threshold: float | None = None) -> ModelHit | None:
        """The most likely positive label when "any positive" is more likely than the threshold."""
        if len(text) < MIN_CHARS:
            return None
        probabilities, values = self.probabilities(text)
        positive = 1.0 - probabilities.get(NONE, 0.0)
        if positive <= (self.threshold if threshold is None else threshold) or not values:
            return None
        label = max((c for c in self.classes if c != NONE), key=probabilities.__getitem__)
        k = self.classes.index(label)
        # Evidence: the longest-weighing n-gram of two or more characters for that label.
        gram = max((g for g in values if len(g) > 1), default=max(values, key=len),
                   key=lambda g: values[g] * self.features[g][k + 1] * len(g))
        start = text.find(gram)
        return ModelHit(label, round(positive, 3), start, start + len(gram))


EmergencyModel = NgramModel  # the name the emergency detector has always used


def _compact(text: str) -> str:
    return "".join(text.split())


def _fit(texts: list[str], labels: list[str]) -> tuple[Any, Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, lowercase=False)
    model = LogisticRegression(C=10, max_iter=3000, class_weight="balanced")
    model.fit(vectorizer.fit_transform(texts), labels)
    return vectorizer, model


def _out_of_fold(texts: list[str], labels: list[str]) -> list[float]:
    """Each text's probability of "any positive" from a model that did not see it (5 folds)."""
    from sklearn.model_selection import StratifiedKFold

    positive = [label != NONE for label in labels]
    out = [0.0] * len(texts)
    for train_at, test_at in StratifiedKFold(5, shuffle=True, random_state=0).split(texts, positive):
        vectorizer, model = _fit([texts[i] for i in train_at], [labels[i] for i in train_at])
        none = list(model.classes_).index(NONE)
        probabilities = model.predict_proba(vectorizer.transform([texts[i] for i in test_at]))
        for i, row in zip(test_at, probabilities, strict=True):
            out[i] = 1.0 - float(row[none])
    return out


def train(rows: list[dict[str, Any]], flag: str = "emergency") -> dict[str, Any]:
    """Weights from labelled rows (text plus ``flag``: a label or null); needs scikit-learn."""
    texts = [_compact(row["text"]) for row in rows]
    labels = [row.get(flag) or NONE for row in rows]
    scores = _out_of_fold(texts, labels)
    positives = [s for s, label in zip(scores, labels, strict=True) if label != NONE]
    negatives = [s for s, label in zip(scores, labels, strict=True) if label == NONE]
    figures = {str(t): {"recall": round(sum(s > t for s in positives) / len(positives), 3),
                        "false_alarm_rate": round(sum(s > t for s in negatives) / len(negatives), 4)}
               for t in _GRID}
    if flag == "emergency":
        threshold = max((t for t in _GRID if figures[str(t)]["recall"] >= RECALL_TARGET), default=_GRID[0])
    else:
        threshold = min((t for t in _GRID if figures[str(t)]["false_alarm_rate"] <= FALSE_ALARM_CAP),
                        default=_GRID[-1])
    vectorizer, model = _fit(texts, labels)
    classes = [str(c) for c in model.classes_]
    features = {}
    for gram, column in vectorizer.vocabulary_.items():
        weights = [float(model.coef_[k][column]) for k in range(len(classes))]
        if max(map(abs, weights)) >= _PRUNE:
            features[gram] = [round(float(vectorizer.idf_[column]), 4)] + [round(w, 4) for w in weights]
    return {"classes": classes, "intercept": [round(float(b), 4) for b in model.intercept_],
            "features": features, "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "trained_on": len(rows), "positives": len(positives), "threshold": threshold,
            "out_of_fold": figures}


def corpus_negatives(flagged_by_rules: Callable[[str], bool]) -> list[dict[str, Any]]:
    """The shipped call corpus as negative rows, leaving out the lines the rules alone flag (some of
    them are real emergencies or out-of-scope calls the corpus files under a matter)."""
    from gateway.understanding.classifier import read_corpus

    return [{"text": example.text} for example in read_corpus() if not flagged_by_rules(example.text)]


def _rules(flag: str) -> Callable[[str], bool]:
    if flag == "emergency":
        from gateway.understanding.emergency import EmergencyDetector
        from gateway.understanding.vocabulary import load

        detector = EmergencyDetector(load("emergency.toml"))  # the vocabulary alone
        return lambda text: detector.detect(text) is not None
    from gateway.understanding.scope import ScopeJudge
    from gateway.understanding.vocabulary import load

    judge = ScopeJudge(load("scope.toml"))  # the phrases alone
    return lambda text: judge.judge(text) is not None


if __name__ == "__main__":
    if len(sys.argv) < 5 or sys.argv[1] != "train" or sys.argv[2] not in WEIGHTS_FILE:
        sys.exit("usage: python -m gateway.understanding.emergency_model train emergency|out_of_scope "
                 "OUT.json FILE.jsonl…")
    flag = sys.argv[2]
    rows = [json.loads(line) for name in sys.argv[4:]
            for line in Path(name).read_text(encoding="utf-8").splitlines() if line.strip()]
    labelled = {row["text"] for row in rows}
    weights = train(rows + [row for row in corpus_negatives(_rules(flag)) if row["text"] not in labelled], flag)
    Path(sys.argv[3]).write_text(json.dumps(weights, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    print(json.dumps({k: weights[k] for k in ("trained_on", "positives", "threshold", "out_of_fold")}, indent=1))
