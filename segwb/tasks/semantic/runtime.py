"""What the deployment package's ``infer.py`` does with a finished request of a semantic model: save the class map
as segwb does, and say what it found. Copied into the package; imports only what the package carries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import openvino as ov

from ...inference.preprocess import Geometry
from ...io.model_card import ModelCard
from .adapters import decoder
from .class_maps import save_class_map


def save(request: ov.InferRequest, settings: dict[str, Any], card: ModelCard, geometry: Geometry, dest: Path) -> str:
    """Save the class map of a finished request as ``dest``.png; a summary of its classes."""
    ids = decoder(card)(request, geometry)
    save_class_map(dest.with_suffix(".png"), ids)
    counts = np.bincount(ids.ravel())
    classes = ", ".join(f"{card.label(c) or c} {n} px" for c, n in enumerate(counts) if n)
    return f"{ids.shape[1]}x{ids.shape[0]}, {classes} -> {dest.with_suffix('.png')}"
