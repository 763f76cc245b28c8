"""What a measurement feeds a model: fixed data, filled once, as benchmark_app does."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def random_input(shape: Sequence[int], dtype: np.dtype) -> np.ndarray:
    """Seeded random data of ``shape``: bytes 0..255 for integer inputs, 0..1 for floating-point ones."""
    rng = np.random.default_rng(0)
    if np.issubdtype(dtype, np.integer):
        return rng.integers(0, 256, size=tuple(shape)).astype(dtype)
    return rng.random(tuple(shape), dtype=np.float32).astype(dtype)
