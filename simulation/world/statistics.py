"""Confidence intervals of means and of paired differences: one definition for every report.

Every table and figure of the project (compare, validation, explore, the view) states its
interval the same way: the mean over replications with a two-sided Student-t interval on
n - 1 degrees of freedom. With a single replication there is no spread to show and the
interval is the mean itself. Replication r of every compared package shares its seed
(SeedSequence(root, spawn_key=(design point, r))), so a difference between two packages is
taken replication by replication (paired), which removes the randomness they share.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

CONFIDENCE = 0.95
INTERVAL_METHOD = "Student t on n - 1 degrees of freedom over replications (paired by seed)"


def method_note(confidence: float = CONFIDENCE) -> str:
    """Return the sentence that names the interval, for table footers and figure captions."""
    return f"{confidence:.0%} interval: {INTERVAL_METHOD}"


def t_half_width(
    sd: np.ndarray | float, n: np.ndarray | int, confidence: float = CONFIDENCE
) -> np.ndarray:
    """Half width of the t interval of a mean: t((1 + c) / 2, n - 1) * sd / sqrt(n).

    Args:
        sd: sample standard deviations (ddof = 1).
        n: sample sizes; where n < 2 the half width is 0 (the interval is the mean).
        confidence: two-sided coverage, 0 < confidence < 1.

    Returns:
        The half widths, an array shaped like the broadcast of ``sd`` and ``n``.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    n = np.asarray(n, dtype=float)
    sd = np.asarray(sd, dtype=float)
    from scipy import stats  # imported here: `smartcity` commands start faster without it

    with np.errstate(invalid="ignore", divide="ignore"):
        t = stats.t.ppf(0.5 + confidence / 2, np.maximum(n - 1, 1))
        return np.where(n > 1, t * sd / np.sqrt(np.maximum(n, 1)), 0.0)


def mean_interval(
    values: Sequence[float] | np.ndarray, confidence: float = CONFIDENCE
) -> tuple[float, float, float]:
    """Mean and t interval of the finite values (the mean itself for one value, NaN for none).

    Returns:
        (mean, low, high).
    """
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return (np.nan, np.nan, np.nan)
    mean = float(values.mean())
    sd = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    half = float(t_half_width(sd, len(values), confidence))
    return (mean, mean - half, mean + half)


def paired_interval(
    a: np.ndarray, b: np.ndarray, confidence: float = CONFIDENCE
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and t interval of the paired differences b - a along the first axis.

    Args:
        a, b: arrays of equal shape; row k of both comes from the same seed (replication k).

    Returns:
        (mean, low, high), each shaped like one row.
    """
    return difference_interval(np.asarray(b, dtype=float) - np.asarray(a, dtype=float), confidence)


def difference_interval(
    diffs: np.ndarray, confidence: float = CONFIDENCE
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and t interval of already paired differences along the first axis (one row per
    seed pair); low = high = mean for one pair.

    Returns:
        (mean, low, high), each shaped like one row.
    """
    diffs = np.asarray(diffs, dtype=float)
    k = len(diffs)
    mean = diffs.mean(axis=0)
    sd = diffs.std(axis=0, ddof=1) if k > 1 else np.zeros_like(mean)
    half = t_half_width(sd, k, confidence)
    return mean, mean - half, mean + half
