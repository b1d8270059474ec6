"""The one percentile definition: the histogram, its percentiles, and the stated error bound."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from ctxrouter.analytics.percentiles import (
    LATENCY_RESOLUTION,
    OVERFLOW_BUCKET,
    bucket_bounds,
    histogram,
    latency_bucket,
    merge,
    nearest_rank,
    percentiles,
    percentiles_of,
)


def test_buckets_tile_the_axis() -> None:
    edges = [bucket_bounds(b) for b in range(OVERFLOW_BUCKET)]
    assert edges[0] == (0.0, 1.0)
    for (_, high), (low, _) in itertools.pairwise(edges):
        assert low == pytest.approx(high)
    assert edges[-1][1] == pytest.approx(1e7)
    assert bucket_bounds(OVERFLOW_BUCKET) == (1e7, 1e7)
    assert [latency_bucket(low + 1e-9 * max(low, 1)) for low, _ in edges] == list(
        range(OVERFLOW_BUCKET)
    )
    for low, high in edges[1:]:
        assert high - low <= LATENCY_RESOLUTION * low * (1 + 1e-9)


def test_percentiles_of_a_histogram() -> None:
    assert percentiles({}) == [None, None, None]
    one = latency_bucket(1234.0)
    low, high = bucket_bounds(one)
    width = high - low
    # one value: rank p of 1, placed at (p - 0.5) of the bucket's width, from its low end
    assert percentiles({one: 1}) == [low, low + 0.45 * width, pytest.approx(low + 0.49 * width)]
    assert percentiles({one: 2}, (0.5,)) == [low + 0.25 * width]
    assert percentiles({0: 99, OVERFLOW_BUCKET: 1}, (0.5, 1.0)) == [0.5, 1e7]


def test_percentiles_of_values_are_those_of_their_histogram() -> None:
    values = [0.2, 3.0, 3.01, 150.0, 2_000.0, 2_050.0, 9_999.0, 2e7]
    counts = histogram(values)
    assert sum(counts.values()) == len(values)
    assert counts[latency_bucket(3.0)] == 2  # 3.0 and 3.01 share a bucket
    assert percentiles_of(values) == percentiles(counts)
    assert percentiles_of([]) == [None, None, None]
    assert percentiles_of(values, (0.25,)) == percentiles(counts, (0.25,))


def test_merged_histograms_count_every_value() -> None:
    a, b = [1.5, 20.0, 300.0], [20.0, 4_000.0]
    merged = histogram(a)
    merge(merged, histogram(b))
    assert merged == histogram(a + b)


def test_nearest_rank_is_the_smallest_value_with_p_of_them_at_or_below() -> None:
    values = [5.0, 1.0, 4.0, 2.0, 3.0, 10.0, 9.0, 8.0, 7.0, 6.0]  # 1..10, unsorted
    assert nearest_rank(values, (0.0, 0.1, 0.5, 0.55, 0.95, 1.0)) == [
        1.0,
        1.0,
        5.0,
        6.0,
        10.0,
        10.0,
    ]
    assert nearest_rank([42.0]) == [42.0, 42.0, 42.0]
    with pytest.raises(ValueError, match="no values"):
        nearest_rank([])


@pytest.mark.parametrize("seed", range(5))
def test_within_the_stated_bound_of_the_exact_nearest_rank(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.choice([1, 2, 7, 100, 2_500])
    values = [rng.lognormvariate(math.log(1500), 1.2) for _ in range(n)]
    points = (0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 1.0)
    for got, exact in zip(
        percentiles_of(values, points), nearest_rank(values, points), strict=True
    ):
        assert got is not None
        assert latency_bucket(got) == latency_bucket(exact)
        assert abs(got - exact) <= LATENCY_RESOLUTION * exact
