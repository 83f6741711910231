"""Handwritten digits: scikit-learn's 1,797 real 8×8 scans, two classifiers trained on
their training split only, and the lines the server takes from them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image
from sklearn.base import ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC

# The scans' ink goes from 0 to 16.
INK = 16.0
# 8×8 pixels are too small for a gallery card; nearest neighbour keeps them crisp.
SCALE = 8
SPLIT_SHARES = {"TRAINING": 0.6, "VALIDATION": 0.2, "TEST": 0.2}
QUESTION = "digit"
ONTOLOGY: dict[str, Any] = {
    "classifications": [{"name": QUESTION, "kind": "RADIO", "answers": [str(d) for d in range(10)]}]
}
PIXELS_SPACE = "pixels"
DECISION_SPACE = "svm-decision"
SVM = "svm"


@dataclass(frozen=True)
class Digits:
    """The scans (ink per pixel, one row each), their true digits and the split of each,
    drawn with a fixed seed so that every load trains on the same rows."""

    pixels: np.ndarray
    targets: np.ndarray
    splits: tuple[str, ...]

    @property
    def keys(self) -> list[str]:
        return [f"digits/{i:04d}.png" for i in range(len(self.targets))]

    def split_mask(self, split: str) -> np.ndarray:
        return np.array([s == split for s in self.splits])


@dataclass(frozen=True)
class Classifier:
    """A trained model and its class probabilities for every row (columns: digits 0-9)."""

    name: str
    estimator: ClassifierMixin
    probabilities: np.ndarray


def load(count: int | None, seed: int) -> Digits:
    """The first `count` scans (all with None), each put in a split at random."""
    bunch = load_digits()
    pixels, targets = bunch.data[:count], bunch.target[:count]
    order = np.random.default_rng(seed).permutation(len(targets))
    bounds = np.cumsum([round(share * len(targets)) for share in SPLIT_SHARES.values()])
    splits = np.empty(len(targets), dtype=object)
    for split, part in zip(SPLIT_SHARES, np.split(order, bounds[:-1]), strict=True):
        splits[part] = split
    return Digits(pixels, targets, tuple(splits))


def image(pixels: np.ndarray) -> Image.Image:
    """Dark ink on white, as the digits were written, enlarged for the gallery."""
    grey = (255 - pixels.reshape(8, 8) * (255 / INK)).astype(np.uint8)
    return Image.fromarray(grey, mode="L").resize((8 * SCALE, 8 * SCALE), Image.Resampling.NEAREST)


def data_rows(digits: Digits, row_data: dict[str, str]) -> list[dict[str, Any]]:
    """One row per scan, its true digit as the label and as metadata (to filter on)."""
    return [
        {
            "globalKey": key,
            "rowData": row_data[key],
            "width": 8 * SCALE,
            "height": 8 * SCALE,
            "metadata": {"true_digit": int(target), "ink": round(float(pixels.sum() / INK), 2)},
            "labels": [{"name": QUESTION, "answer": {"name": str(target)}}],
        }
        for key, pixels, target in zip(digits.keys, digits.pixels, digits.targets, strict=True)
    ]


def split_assignments(digits: Digits) -> dict[str, Any]:
    """The splits the classifiers were trained with, given to the run row by row."""
    rows = zip(digits.keys, digits.splits, strict=True)
    return {"assignments": [{"dataRow": key, "split": split} for key, split in rows]}


def train(digits: Digits) -> list[Classifier]:
    """A logistic regression and an SVM, fitted on the training split only, so the
    validation and test rows show how they do on scans they never saw."""
    features = digits.pixels / INK
    train_rows = digits.split_mask("TRAINING")
    estimators: dict[str, ClassifierMixin] = {
        "logistic-regression": LogisticRegression(max_iter=2000),
        # The SVM's probabilities come from a calibration on cross-validated decision values.
        SVM: CalibratedClassifierCV(SVC(gamma=2.0 / features.shape[1], C=10.0), ensemble=False),
    }
    trained = []
    for name, estimator in estimators.items():
        estimator.fit(features[train_rows], digits.targets[train_rows])
        trained.append(
            Classifier(name, estimator, _all_digits(estimator, estimator.predict_proba(features)))
        )
    return trained


def _all_digits(estimator: ClassifierMixin, probabilities: np.ndarray) -> np.ndarray:
    """Probabilities with one column per digit 0-9, even if a small sample lacked one."""
    full = np.zeros((len(probabilities), 10))
    full[:, np.asarray(estimator.classes_, dtype=int)] = probabilities
    return full


def predictions(digits: Digits, classifier: Classifier) -> list[dict[str, Any]]:
    """The most probable digit with its probability as the confidence. A radio question
    takes one answer per row, so the runner-up goes into the `margin` custom metric."""
    return [
        {
            "dataRow": {"globalKey": key},
            "name": QUESTION,
            "answer": {"name": str(int(np.argmax(p)))},
            "confidence": round(float(p.max()), 4),
        }
        for key, p in zip(digits.keys, classifier.probabilities, strict=True)
    ]


def margins(digits: Digits, classifier: Classifier) -> list[dict[str, Any]]:
    """How far the best digit is ahead of the runner-up: small margins are the scans the
    model hesitated over, worth sorting the gallery by."""
    ranked = np.sort(classifier.probabilities, axis=1)
    return [
        {
            "dataRow": {"globalKey": key},
            "metricName": "margin",
            "metricValue": round(float(top[-1] - top[-2]), 4),
        }
        for key, top in zip(digits.keys, ranked, strict=True)
    ]


def embeddings(digits: Digits, classifiers: list[Classifier]) -> dict[str, np.ndarray]:
    """The raw pixels (64-d), and the SVM's one-vs-rest decision values (10-d), a space
    where the digits the SVM confuses sit close together."""
    calibrated = next(c.estimator for c in classifiers if c.name == SVM)
    svm = calibrated.calibrated_classifiers_[0].estimator
    return {
        PIXELS_SPACE: digits.pixels / INK,
        DECISION_SPACE: svm.decision_function(digits.pixels / INK),
    }
