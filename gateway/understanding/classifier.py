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
from gateway.understanding.cues import CueHit, Cues
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
    """The shipped hand-written corpus (``*.txt``) or labelled JSON lines (a deployment's closed tickets)."""
    if paths is None:
        paths = sorted(CORPUS.glob("*.txt")) + sorted(CORPUS.glob("*.jsonl"))
    examples: list[Example] = []
    for path in paths:
        path = Path(path)
        if path.suffix == ".txt":
            examples.extend(_read_written(path))
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                examples.append(Example(row["text"], row["category"], row["matter"], row.get("unit")))
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ConfigError(f"{path}:{n}: not a labelled example ({exc})") from exc
    return examples


def _read_written(path: Path) -> list[Example]:
    """``[MATTER]`` headers, then one ``类别 text`` a line; ``#`` lines are comments."""
    examples, matter = [], None
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            matter = line[1:-1]
            continue
        category, _, text = line.partition(" ")
        if matter is None or not text.strip():
            raise ConfigError(f"{path}:{n}: expected `类别 text` under a [matter] header")
        examples.append(Example(text.strip(), category, matter))
    return examples


def features(text: str, tokens: list[Token], cues: Cues | None = None) -> str:
    """The text plus LAC's view of it and the cue vocabulary's: extra space-separated terms."""
    words = " ".join(f"w:{t.word}" for t in tokens if t.tag not in ("w", "u", "xc"))
    kinds = " ".join(f"k:{t.tag}" for t in tokens if t.tag in ("PER", "LOC", "ORG", "TIME"))
    hints = " ".join(cues.terms(text)) if cues is not None else ""
    return f"{text}\t{words} {kinds} {hints}"


def _chars(doc: str) -> str:
    return doc.split("\t", 1)[0]


def _terms(doc: str) -> list[str]:
    return doc.split("\t", 1)[1].split() if "\t" in doc else []


def _pipeline() -> Any:
    """Tf-idf char 1–3-grams + word/entity/cue terms → a linear SVM, its scores calibrated to
    probabilities by cross-validated Platt scaling (seconds to fit, where a multinomial logistic
    regression over the same features took minutes)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion, make_pipeline
    from sklearn.svm import LinearSVC

    union = FeatureUnion(
        [
            ("chars", TfidfVectorizer(analyzer="char", ngram_range=(1, 3), preprocessor=_chars, sublinear_tf=True)),
            ("terms", TfidfVectorizer(analyzer=_terms, sublinear_tf=True)),
        ]
    )
    return make_pipeline(union, CalibratedClassifierCV(LinearSVC(C=0.5), cv=3, method="sigmoid"))


@dataclass
class Prediction:
    label: str
    confidence: float
    ranked: list[tuple[str, float]]  # best first
    evidence: CueHit | None = None  # the caller's words that name the predicted label, if a cue does


@dataclass
class Model:
    category: Any
    matter: Any
    cues: Cues
    meta: dict[str, Any] = field(default_factory=dict)

    def predict(self, text: str, tokens: list[Token]) -> tuple[Prediction, Prediction]:
        doc = features(text, tokens, self.cues)
        category, matter = _ranked(self.category, doc), _ranked(self.matter, doc)
        category.evidence = _first(self.cues.categories(text), category.label)
        matter.evidence = _first(self.cues.matters(text), matter.label)
        return category, matter

    def save(self, path: Path) -> None:
        import joblib

        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        joblib.dump({"category": self.category, "matter": self.matter, "cues": self.cues, "meta": self.meta}, tmp)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Model:
        import joblib

        data = joblib.load(path)
        if "cues" not in data:
            raise ConfigError(f"{path}: a model from an older version; run `hotline understanding train`")
        return cls(data["category"], data["matter"], data["cues"], data["meta"])


def _first(hits: list[CueHit], label: str) -> CueHit | None:
    return next((h for h in hits if h.label == label), None)


def _ranked(clf: Any, doc: str) -> Prediction:
    probs = clf.predict_proba([doc])[0]
    ranked = sorted(zip(clf.classes_, probs, strict=True), key=lambda p: -p[1])
    return Prediction(str(ranked[0][0]), float(ranked[0][1]), [(str(c), float(p)) for c, p in ranked[:5]])


def train(
    examples: list[Example],
    tag: Callable[[str], list[Token]],
    *,
    source: str,
    cues: Cues | None = None,
    holdout: float = 0.2,
) -> Model:
    """Fit on all examples; the metrics are from a first fit on (1 - holdout) scored on the rest."""
    if len({e.matter for e in examples}) < 2 or len({e.category for e in examples}) < 2:
        raise ConfigError("training needs at least two categories and two matters")
    cues = cues or Cues.load()
    docs = [features(e.text, tag(e.text), cues) for e in examples]
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
        cues,
    )
    model.meta = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": source,
        "examples": len(examples),
        "matters": len({e.matter for e in examples}),
        "metrics": metrics,
    }
    return model
