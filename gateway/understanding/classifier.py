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
from itertools import pairwise
from pathlib import Path
from typing import Any

from sklearn.base import BaseEstimator, ClassifierMixin

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


def shipped_data_version() -> str:
    """A fingerprint of the shipped corpus and cue vocabulary: a model trained on other contents is stale."""
    import hashlib

    from gateway.understanding.taxonomy import DATA

    digest = hashlib.sha256()
    for path in [*_shipped_files(), DATA / "taxonomy.toml"]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _shipped_files() -> list[Path]:
    return sorted(CORPUS.glob("*.txt")) + sorted(CORPUS.glob("*.jsonl"))


def read_corpus(paths: Iterable[Path] | None = None) -> list[Example]:
    """The shipped hand-written corpus (``*.txt``) or labelled JSON lines (a deployment's closed tickets)."""
    if paths is None:
        paths = _shipped_files()
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


def _chars(doc: str) -> list[str]:
    # Spaces dropped: where an ASR engine or a writer puts them is no evidence of what the call is about.
    text = "".join(doc.partition("\t")[0].split())
    return [text[i : i + n] for n in (1, 2, 3) for i in range(len(text) - n + 1)]


def _terms(doc: str) -> list[str]:
    """The terms plus each pair of neighbouring LAC words (物业 + 不修 says more than either alone)."""
    terms = doc.partition("\t")[2].split()
    words = [t for t in terms if t.startswith("w:")]
    return terms + [f"{a}+{b[2:]}" for a, b in pairwise(words)]


class Vectoriser:
    """Two tf-idf blocks, each L2-normalised, side by side: the text's character 1–3-grams, and the
    terms (LAC words and word pairs, entity kinds, cue features) — so a handful of cue terms are not
    drowned by a hundred n-grams. Plain hstack: a FeatureUnion's per-call overhead was most of a
    prediction."""

    def __init__(self) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.chars = TfidfVectorizer(analyzer=_chars, sublinear_tf=True)
        self.terms = TfidfVectorizer(analyzer=_terms, sublinear_tf=True)

    def fit(self, docs: list[str]) -> Vectoriser:
        self.chars.fit(docs)
        self.terms.fit(docs)
        return self

    def transform(self, docs: list[str]) -> Any:
        from scipy.sparse import hstack

        return hstack([self.chars.transform(docs), self.terms.transform(docs)], format="csr")


def _vectoriser() -> Vectoriser:
    return Vectoriser()


class TemperedSVC(ClassifierMixin, BaseEstimator):
    """A linear SVM (one-vs-rest) with calibrated confidences: softmax(scores / T), T chosen to minimise
    the log loss of 3-fold out-of-fold scores. Unlike CalibratedClassifierCV (three SVMs and a sigmoid
    per class at every prediction) it costs one matrix product — the draft is rebuilt on every ASR final."""

    def __init__(self, C: float = 0.5) -> None:
        self.C = C

    def fit(self, X: Any, y: Any) -> TemperedSVC:
        import numpy as np
        from sklearn.model_selection import cross_val_predict
        from sklearn.svm import LinearSVC

        y = np.asarray(y)
        self.svc_ = LinearSVC(C=self.C).fit(X, y)
        self.classes_ = self.svc_.classes_
        self.temperature_ = 1.0
        counts = np.unique(y, return_counts=True)[1]
        if len(self.classes_) > 2 and counts.min() >= 3:  # too few examples of a class: leave T = 1
            scores = cross_val_predict(LinearSVC(C=self.C), X, y, cv=3, method="decision_function")
            truth = np.searchsorted(self.classes_, y)
            self.temperature_ = min(np.geomspace(0.02, 2.0, 40), key=lambda t: _log_loss(scores / t, truth))
        return self

    def predict_proba(self, X: Any) -> Any:
        return _softmax(self.svc_.decision_function(X) / self.temperature_)

    def predict(self, X: Any) -> Any:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]  # also right for two classes (one score column)


def _softmax(scores: Any) -> Any:
    import numpy as np

    if scores.ndim == 1:  # two classes: one score column
        scores = np.column_stack([-scores, scores])
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _log_loss(scores: Any, truth: Any) -> float:
    import numpy as np

    probs = _softmax(scores)[np.arange(len(truth)), truth]
    return float(-np.log(np.clip(probs, 1e-12, None)).mean())


@dataclass
class Prediction:
    label: str
    confidence: float
    ranked: list[tuple[str, float]]  # best first
    evidence: CueHit | None = None  # the caller's words that name the predicted label, if a cue does


@dataclass
class Model:
    """Tf-idf of char 1–3-grams and of LAC words, entity kinds, cue terms; two linear classifiers."""

    vectoriser: Vectoriser
    category: TemperedSVC
    matter: TemperedSVC
    cues: Cues
    meta: dict[str, Any] = field(default_factory=dict)

    def predict(self, text: str, tokens: list[Token]) -> tuple[Prediction, Prediction]:
        x = self.vectoriser.transform([features(text, tokens, self.cues)])
        category, matter = _ranked(self.category, x), _ranked(self.matter, x)
        category.evidence = _first(self.cues.categories(text), category.label)
        matter.evidence = _first(self.cues.matters(text), matter.label)
        return category, matter

    def save(self, path: Path) -> None:
        import joblib

        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        parts = {"vectoriser": self.vectoriser, "category": self.category, "matter": self.matter}
        joblib.dump({**parts, "cues": self.cues, "meta": self.meta}, tmp)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Model:
        import joblib

        try:
            data = joblib.load(path)
        except (AttributeError, ImportError, EOFError, ValueError) as exc:  # another version's classes
            raise ConfigError(f"{path}: not readable by this version ({exc})") from exc
        if not isinstance(data, dict) or "vectoriser" not in data:
            raise ConfigError(f"{path}: a model from an older version; run `hotline understanding train`")
        return cls(data["vectoriser"], data["category"], data["matter"], data["cues"], data["meta"])


def _first(hits: list[CueHit], label: str) -> CueHit | None:
    return next((h for h in hits if h.label == label), None)


def _ranked(clf: TemperedSVC, x: Any) -> Prediction:
    probs = clf.predict_proba(x)[0]
    ranked = sorted(zip(clf.classes_, probs, strict=True), key=lambda p: -p[1])
    return Prediction(str(ranked[0][0]), float(ranked[0][1]), [(str(c), float(p)) for c, p in ranked[:5]])


def train(
    examples: list[Example],
    tag: Callable[[str], list[Token]],
    *,
    source: str,
    cues: Cues | None = None,
    holdout: float = 0.2,
    folds: int = 0,
) -> Model:
    """Fit on all examples; the metrics are from a first fit on (1 - holdout) scored on the rest, and
    with ``folds`` ≥ 2 a stratified k-fold cross-validation (every example scored once, by a model that
    never saw it)."""
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
        vectoriser = _vectoriser().fit([docs[i] for i in fit_i])
        x_fit, x_test = vectoriser.transform([docs[i] for i in fit_i]), vectoriser.transform([docs[i] for i in test_i])
        for name in ("category", "matter"):
            clf = TemperedSVC().fit(x_fit, [getattr(examples[i], name) for i in fit_i])
            predicted = clf.predict(x_test)
            right = sum(p == getattr(examples[i], name) for p, i in zip(predicted, test_i, strict=True))
            metrics[f"{name}_holdout_accuracy"] = round(right / len(test_i), 4)
    if folds >= 2:
        metrics.update(_cross_validate(docs, examples, folds))
    vectoriser = _vectoriser().fit(docs)
    x = vectoriser.transform(docs)
    model = Model(
        vectoriser,
        TemperedSVC().fit(x, [e.category for e in examples]),
        TemperedSVC().fit(x, [e.matter for e in examples]),
        cues,
    )
    model.meta = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": source,
        "shipped_data": shipped_data_version(),
        "examples": len(examples),
        "matters": len({e.matter for e in examples}),
        "metrics": metrics,
    }
    return model


def _cross_validate(docs: list[str], examples: list[Example], folds: int) -> dict[str, float]:
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    out = {}
    for name in ("category", "matter"):
        y = np.array([getattr(e, name) for e in examples])
        right = 0
        for fit_i, test_i in StratifiedKFold(folds, shuffle=True, random_state=0).split(docs, y):
            vectoriser = _vectoriser().fit([docs[i] for i in fit_i])
            clf = TemperedSVC().fit(vectoriser.transform([docs[i] for i in fit_i]), y[fit_i])
            right += int((clf.predict(vectoriser.transform([docs[i] for i in test_i])) == y[test_i]).sum())
        out[f"{name}_cv{folds}_accuracy"] = round(right / len(examples), 4)
    return out
