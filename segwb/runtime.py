"""The process-wide OpenVINO Core (creating one per call costs time and plugin state)."""

from __future__ import annotations

from functools import lru_cache

import openvino as ov

DEVICE = "CPU"


@lru_cache(maxsize=1)
def core() -> ov.Core:
    """The shared :class:`openvino.Core`."""
    return ov.Core()
