"""The sidecar's top-k: exact (the same rows as a full sort, ties by row) on arrays large enough for
its sampled threshold, on heavy ties, and when the sample's threshold leaves too few candidates."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.store.sidecar import SAMPLE_STRIDE, best_rows


def reference(scores: np.ndarray, k: int) -> np.ndarray:
    return np.lexsort((np.arange(len(scores)), -scores))[:k]


@pytest.mark.parametrize("k", [1, 10, 80, 200])
@pytest.mark.parametrize("shape", ["continuous", "ties", "spike"])
def test_best_rows_equals_a_full_sort(k: int, shape: str) -> None:
    rng = np.random.default_rng(k)
    n = 4 * SAMPLE_STRIDE * k * 3  # large enough for the sampled threshold
    if shape == "continuous":
        scores = rng.normal(size=n).astype(np.float32)
    elif shape == "ties":  # BM25-like: most rows score 0, many share a score
        scores = np.where(rng.random(n) < 0.01, rng.integers(1, 5, n), 0).astype(np.float32)
    else:  # the best rows sit between sampled ones: the sample underestimates the threshold
        scores = np.zeros(n, dtype=np.float32)
        scores[1::SAMPLE_STRIDE][: 3 * k] = 1.0 + np.arange(3 * k, dtype=np.float32)
    assert best_rows(scores, k).tolist() == reference(scores, k).tolist()


def test_best_rows_small_and_degenerate_inputs() -> None:
    scores = np.array([0.5, 2.0, 2.0, -1.0], dtype=np.float32)
    assert best_rows(scores, 2).tolist() == [1, 2]
    assert best_rows(scores, 10).tolist() == [1, 2, 0, 3]
    assert best_rows(scores, 0).tolist() == []
    assert best_rows(np.zeros(0, dtype=np.float32), 3).tolist() == []
