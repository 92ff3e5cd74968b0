"""top_rows: the partial sort must give exactly what the full stable sort gives."""

import numpy as np
import pytest

from rag.index.lexical import top_rows


@pytest.mark.parametrize("seed", range(20))
def test_top_rows_equals_stable_full_sort(seed):
    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, 3000))
    # Few distinct values, so ties straddle the cut-off; zeros as in BM25 scores.
    scores = rng.integers(0, 6, size).astype(np.float64) * rng.choice([0.0, 1.0, 1.5], size)
    for n in (1, 5, 100, size - 1, size, size + 10):
        if n < 1:
            continue
        np.testing.assert_array_equal(top_rows(scores, n), np.argsort(-scores, kind="stable")[:n])
