"""Stage 4: category and matter from a linear model (scikit-learn) on character n-grams plus LAC's
words and entity tags. Trained from the shipped corpus or the deployment's closed tickets; the model
file keeps its training date, data size and held-out metrics.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.errors import ConfigError
from gateway.understanding.ner import Token

CORPUS = Path(__file__).with_name("data") / "corpus"
MODEL_FILE = "understanding-model.joblib"


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    category: str
    matter: str
    unit: str | None = None


def read_corpus(paths: Iterable[Path] | None = None) -> list[Example]:
    examples = []
    for path in paths or sorted(CORPUS.glob("*.jsonl")):
        for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                examples.append(Example(row["text"], row["category"], row["matter"], row.get("unit")))
            except (json.JSONDecodeError, KeyError) as exc:
                raise ConfigError(f"{path}:{n}: not a labelled example ({exc})") from exc
    return examples


def features(text: str, tokens: list[Token]) -> str:
    """The text plus LAC's view of it: words and entity kinds become extra space-separated terms."""
    words = " ".join(f"w:{t.word}" for t in tokens if t.tag not in ("w", "u", "xc"))
    kinds = " ".join(f"k:{t.tag}" for t in tokens if t.tag in ("PER", "LOC", "ORG", "TIME"))
    return f"{text}\t{words} {kinds}"


def _chars(doc: str) -> str:
    return doc.split("\t", 1)[0]


def _terms(doc: str) -> list[str]:
    return doc.split("\t", 1)[1].split() if "\t" in doc else []


def _pipeline() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, make_pipeline

    union = FeatureUnion(
        [
            ("chars", TfidfVectorizer(analyzer="char", ngram_range=(1, 3), preprocessor=_chars, sublinear_tf=True)),
            ("words", TfidfVectorizer(analyzer=_terms, sublinear_tf=True)),
        ]
    )
    return make_pipeline(union, LogisticRegression(C=20.0, max_iter=2000))


@dataclass
class Prediction:
    label: str
    confidence: float
    ranked: list[tuple[str, float]]  # best first


@dataclass
class Model:
    category: Any
    matter: Any
    meta: dict[str, Any] = field(default_factory=dict)

    def predict(self, doc: str) -> tuple[Prediction, Prediction]:
        return _ranked(self.category, doc), _ranked(self.matter, doc)

    def save(self, path: Path) -> None:
        import joblib

        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        joblib.dump({"category": self.category, "matter": self.matter, "meta": self.meta}, tmp)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Model:
        import joblib

        data = joblib.load(path)
        return cls(data["category"], data["matter"], data["meta"])


def _ranked(clf: Any, doc: str) -> Prediction:
    probs = clf.predict_proba([doc])[0]
    ranked = sorted(zip(clf.classes_, probs, strict=True), key=lambda p: -p[1])
    return Prediction(str(ranked[0][0]), float(ranked[0][1]), [(str(c), float(p)) for c, p in ranked[:5]])


def train(examples: list[Example], tag: Callable[[str], list[Token]], *, source: str, holdout: float = 0.2) -> Model:
    """Fit on all examples; the metrics are from a first fit on (1 - holdout) scored on the rest."""
    if len({e.matter for e in examples}) < 2 or len({e.category for e in examples}) < 2:
        raise ConfigError("training needs at least two categories and two matters")
    docs = [features(e.text, tag(e.text)) for e in examples]
    order = list(range(len(examples)))
    random.Random(0).shuffle(order)
    cut = int(len(order) * (1 - holdout))
    fit_i, test_i = order[:cut], order[cut:]
    metrics: dict[str, float] = {}
    if test_i:
        for name in ("category", "matter"):
            clf = _pipeline().fit([docs[i] for i in fit_i], [getattr(examples[i], name) for i in fit_i])
            predicted = clf.predict([docs[i] for i in test_i])
            right = sum(p == getattr(examples[i], name) for p, i in zip(predicted, test_i, strict=True))
            metrics[f"{name}_holdout_accuracy"] = round(right / len(test_i), 4)
    model = Model(
        _pipeline().fit(docs, [e.category for e in examples]),
        _pipeline().fit(docs, [e.matter for e in examples]),
    )
    model.meta = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": source,
        "examples": len(examples),
        "matters": len({e.matter for e in examples}),
        "metrics": metrics,
    }
    return model
