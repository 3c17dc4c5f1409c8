"""Train the example models (scikit-learn, data sets the package ships) in seconds, into a model directory.

Each model directory holds ``model.pkl`` (the fitted estimator) and ``meta.json`` (its input and output formats),
the layout the example container reads from /opt/ml/model on SageMaker. A multi-model directory holds one
``<name>.tar.gz`` folder per target model.

    python -m examples.models binary build/models/binary
"""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path
from typing import Any

import numpy as np

KINDS = ("binary", "multiclass", "regression", "mme", "nlp")


def _save(directory: Path, model: Any, meta: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "model.pkl").open("wb") as fh:
        pickle.dump(model, fh)
    (directory / "meta.json").write_text(json.dumps(meta, indent=2))
    return directory


def _binary(directory: Path, algorithm: str = "gbm") -> Path:
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = load_breast_cancer()
    x, y = data.data[:, :10], 1 - data.target  # 1 = malignant
    model: Any
    if algorithm == "logistic":
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    elif algorithm == "forest":
        model = RandomForestClassifier(n_estimators=50, max_depth=6, random_state=0, n_jobs=1)
    else:
        model = GradientBoostingClassifier(n_estimators=60, max_depth=3, random_state=0)
    model.fit(x, y)
    meta = {
        "task": "binary",
        "input": "text/csv",
        "output": "text/csv",
        "n_features": 10,
        "features": [str(n) for n in data.feature_names[:10]],
    }
    return _save(directory, model, meta)


def _multiclass(directory: Path) -> Path:
    from sklearn.datasets import load_wine
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = load_wine()
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    model.fit(data.data, data.target)
    meta = {
        "task": "multiclass",
        "input": "application/jsonlines",
        "output": "application/jsonlines",
        "features_key": "features",
        "n_features": 13,
        "labels": [str(n) for n in data.target_names],
    }
    return _save(directory, model, meta)


def _regression(directory: Path) -> Path:
    from sklearn.datasets import load_diabetes
    from sklearn.ensemble import RandomForestRegressor

    data = load_diabetes()
    model = RandomForestRegressor(n_estimators=50, max_depth=6, random_state=0, n_jobs=1)
    model.fit(data.data, data.target)
    meta = {"task": "regression", "input": "text/csv", "output": "text/csv", "n_features": 10}
    return _save(directory, model, meta)


def _mme(directory: Path) -> Path:
    for name in ("logistic", "forest"):
        _binary(directory / f"{name}.tar.gz", algorithm=name)
    return directory


def _nlp(directory: Path) -> Path:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    corpus = Path(__file__).resolve().parent / "nlp" / "reviews.csv"
    import csv

    with corpus.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    texts = [r["text"] for r in rows]
    labels = np.array([int(r["label"]) for r in rows])
    model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=1), LogisticRegression(C=10, max_iter=1000))
    model.fit(texts, labels)
    meta = {"task": "text", "input": "text/csv", "output": "text/csv", "n_features": 1}
    return _save(directory, model, meta)


def train(kind: str, directory: str | Path) -> Path:
    """Train the example model ``kind`` into ``directory`` (skipped when it is already there)."""
    directory = Path(directory)
    marker = directory / ("logistic.tar.gz/model.pkl" if kind == "mme" else "model.pkl")
    if marker.exists():
        return directory
    builders = {"binary": _binary, "multiclass": _multiclass, "regression": _regression, "mme": _mme, "nlp": _nlp}
    if kind not in builders:
        raise SystemExit(f"unknown example {kind!r}; choose one of {', '.join(KINDS)}")
    return builders[kind](directory)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: python -m examples.models KIND DIRECTORY")
    print(train(sys.argv[1], sys.argv[2]))
