"""The one percentile definition, and the histogram that every reported latency percentile is
read from.

**Definition.** The percentile ``p`` (a fraction) of ``n`` values is their nearest-rank
percentile: the smallest value with at least ``p * n`` of the values at or below it
(:func:`nearest_rank`).

**As ctxrouter reports it.** ``ctxrouter metrics`` does not read the values: it counts them in
a histogram (in SQL), and estimates the percentile from it. Everything that shows a latency
percentile of recorded calls — ``ctxrouter metrics``, the dashboard and the latency alerts
(through it), and the fleet month's summary (``make demo``, through :func:`percentiles_of`) —
uses that estimate, so the same events give the same p50 / p95 / p99 everywhere.

- *Histogram*: buckets at most :data:`LATENCY_RESOLUTION` (5%) as wide as their lower bound:
  ``[0, 1)`` ms, then 70 buckets a decade from 1 to 10^7 ms (:func:`latency_bucket`,
  :func:`bucket_bounds`); :data:`OVERFLOW_BUCKET` holds 10^7 ms and more. ``ctxrouter metrics``
  counts the same buckets in SQL (:data:`~ctxrouter.analytics.metrics_sql.BUCKET_SQL`).
- *Estimate* (:func:`percentiles` of a histogram; :func:`percentiles_of` of values, through
  their histogram): the value of rank ``p * n`` read inside the bucket that holds that rank,
  with the bucket's ``c`` values taken as spread evenly over its width (the k-th at
  ``low + (k - 0.5) / c`` of the width).
- *Error bound*: the estimate lies in the same bucket as the nearest-rank percentile, so it is
  within 5% of it (within 1 ms under 1 ms; a percentile at 10^7 ms or more reads 10^7 ms).

Where the values are at hand and 5% is too coarse — the benchmarks in ``bench/``, which compare
microseconds or the difference of two distributions — :func:`nearest_rank` gives the exact
figure of the same definition.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Final

Histogram = dict[int, int]  # bucket -> how many values fell in it

PERCENTILES: Final = (0.50, 0.95, 0.99)
LATENCY_RESOLUTION: Final = 0.05  # a bucket is at most this fraction of its lower bound wide

# A decade [D, 10D) is cut into 70 buckets: [D, 2D) in 20 of D/20, [2D, 5D) in 30 of D/10,
# [5D, 10D) in 20 of D/4 — each at most 5% of its lower bound wide. Bucket 0 is [0, 1);
# decades run from 1 to 10^7; OVERFLOW_BUCKET holds 10^7 and more.
# (upper end / D, multiplier m, offset): bucket = 1 + 70k + offset + floor(value * m / D)
DECADE_PARTS: Final = ((2, 20, -20), (5, 10, 0), (10, 4, 30))
PER_DECADE: Final = 70
DECADES: Final = 7
OVERFLOW_BUCKET: Final = 1 + PER_DECADE * DECADES


def latency_bucket(ms: float) -> int:
    """The bucket of ``ms`` (as ``BUCKET_SQL`` computes it: the same float operations)."""
    if ms < 1:
        return 0
    for k in range(DECADES):
        d: int = 10**k
        if ms < 10 * d:
            for upper, m, off in DECADE_PARTS:
                if ms < upper * d:
                    return 1 + PER_DECADE * k + off + math.floor(ms * m / d)
    return OVERFLOW_BUCKET


def bucket_bounds(bucket: int) -> tuple[float, float]:
    """``[low, high)`` of a bucket; the overflow bucket is ``(1e7, 1e7)``."""
    if bucket <= 0:
        return 0.0, 1.0
    if bucket >= OVERFLOW_BUCKET:
        top = float(10**DECADES)
        return top, top
    k, j = divmod(bucket - 1, PER_DECADE)
    d: int = 10**k
    for upper, m, off in DECADE_PARTS:
        if j < upper * m + off:
            low = (j - off) * d / m
            return low, low + d / m
    raise AssertionError(bucket)  # unreachable: the last part ends at 70


def histogram(values: Iterable[float]) -> Histogram:
    """The ``{bucket: count}`` histogram of ``values``."""
    counts: Histogram = {}
    for value in values:
        bucket = latency_bucket(value)
        counts[bucket] = counts.get(bucket, 0) + 1
    return counts


def merge(into: Histogram, other: Histogram) -> None:
    """Add the counts of ``other`` to ``into``."""
    for bucket, n in other.items():
        into[bucket] = into.get(bucket, 0) + n


def percentiles(histogram: Histogram, points: Sequence[float] = PERCENTILES) -> list[float | None]:
    """Percentiles (fractions in ``points``) of a ``{bucket: count}`` histogram, as the module
    docstring defines them; ``None`` for an empty histogram."""
    total = sum(histogram.values())
    if total <= 0:
        return [None for _ in points]
    ordered = sorted((b, n) for b, n in histogram.items() if n > 0)
    out: list[float | None] = []
    for p in points:
        rank = p * total
        below = 0
        for bucket, n in ordered:
            if below + n >= rank:
                low, high = bucket_bounds(bucket)
                share = min(max((rank - below - 0.5) / n, 0.0), 1.0)
                out.append(low + (high - low) * share)
                break
            below += n
        else:  # p > 1: the top of the last bucket
            out.append(bucket_bounds(ordered[-1][0])[1])
    return out


def nearest_rank(values: Iterable[float], points: Sequence[float] = PERCENTILES) -> list[float]:
    """The exact percentiles (fractions in ``points``) of ``values``: for each ``p``, the
    smallest value with at least ``p * n`` of the values at or below it. Raises ValueError for
    no values."""
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        raise ValueError("no values to take percentiles of")
    return [ordered[min(max(math.ceil(p * n), 1), n) - 1] for p in points]


def percentiles_of(
    values: Iterable[float], points: Sequence[float] = PERCENTILES
) -> list[float | None]:
    """Percentiles of ``values``: those of their histogram (see the module docstring)."""
    return percentiles(histogram(values), points)
