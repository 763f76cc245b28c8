"""INT8 post-training quantization with NNCF (the Workbench's "Default method")."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nncf
import numpy as np
import openvino as ov

from ..core.compile import core
from ..core.errors import Cancelled, SegwbError
from ..inference.preprocess import to_tensor
from ..io.datasets import Dataset
from ..io.images import load_image
from ..io.model_card import ModelCard
from ..io.model_file import save_ir
from .accuracy_aware import quantize_with_accuracy_control
from .graph_fixes import fold_weight_constants, keep_tail_rewrite
from .ptq import quantize_model
from .settings import METHODS, PRESETS, QuantizeSettings, subset_size
from .validator import Validator

NNCF_PRESETS = {"performance": nncf.QuantizationPreset.PERFORMANCE, "mixed": nncf.QuantizationPreset.MIXED}
PIPELINE_VERSION = 3  # part of the cache key: bump when the steps around NNCF change what they produce
CHECK_IMAGES = 4  # calibration images a graph rewrite must leave every output identical on


@dataclass(frozen=True)
class QuantizeResult:
    """What quantization produced and what it cost."""

    subset_size: int
    seconds: float
    size_before: int
    size_after: int
    settings: dict[str, Any] = field(default_factory=dict)
    graph_fixes: list[dict[str, Any]] = field(default_factory=list)
    accuracy_aware: dict[str, Any] | None = None
    bias_correction_images: int | None = None  # the full bias correction's images; None for the fast one


def calibration_samples(dataset: Dataset, count: int) -> list:
    """``count`` images spread evenly over the dataset (not just its first files)."""
    indices = np.linspace(0, len(dataset) - 1, num=count).round().astype(int)
    return [dataset.samples[i] for i in sorted(set(indices.tolist()))]


def quantize(parent_xml: Path, card: ModelCard, dataset: Dataset, settings: QuantizeSettings, out_xml: Path,
             cancel: threading.Event | None = None, validator: Validator | None = None) -> QuantizeResult:
    """Quantize ``parent_xml`` to INT8 on images of ``dataset`` and save the result as ``out_xml``.

    Around NNCF, the graph rewrites of :mod:`segwb.optimize.graph_fixes` run (weight folding before, the tail layout
    after, each reported in ``graph_fixes``); neither changes what the model computes. The AccuracyAware
    method needs ``validator`` (:func:`segwb.optimize.accuracy_aware.prepare_validator`).
    """
    if settings.preset not in PRESETS:
        raise SegwbError(f"preset must be one of {', '.join(PRESETS)}, got {settings.preset!r}")
    if settings.method not in METHODS:
        raise SegwbError(f"method must be one of {', '.join(METHODS)}, got {settings.method!r}")
    if settings.method == "accuracy_aware" and validator is None:
        raise ValueError("the AccuracyAware method needs a validator")
    model = core().read_model(parent_xml)
    check_ignored(model, settings)
    input_type = model.input(0).get_element_type().to_dtype()
    samples = calibration_samples(dataset, subset_size(settings.subset, len(dataset)))

    def transform(sample: Any) -> np.ndarray:
        if cancel is not None and cancel.is_set():
            raise Cancelled("quantization cancelled; the parent model is unchanged")
        return to_tensor(load_image(sample.path), card, input_type)[0]

    ignored = nncf.IgnoredScope(names=list(settings.ignored_names), types=list(settings.ignored_types),
                                patterns=list(settings.ignored_patterns), validate=False)
    start = time.perf_counter()
    fixes = [fix] if settings.graph_fixes and (fix := fold_weight_constants(model)) else []
    logging.getLogger("nncf").setLevel(logging.WARNING)
    args = {"preset": NNCF_PRESETS[settings.preset], "subset_size": len(samples),
            "fast_bias_correction": settings.fast_bias_correction, "ignored_scope": ignored,
            "input_values": transform(samples[0]).size}
    accuracy = None
    if validator is not None:
        quantized, accuracy, bias_images = quantize_with_accuracy_control(model, nncf.Dataset(samples, transform),
                                                                          validator, settings.target, **args)
    else:
        quantized, bias_images = quantize_model(model, nncf.Dataset(samples, transform), **args)
    if settings.graph_fixes:
        checks = [transform(s) for s in calibration_samples(dataset, min(CHECK_IMAGES, len(samples)))]
        quantized, tail = keep_tail_rewrite(quantized, checks)
        fixes += [tail] if tail else []
    seconds = time.perf_counter() - start
    save_ir(quantized, out_xml)
    return QuantizeResult(len(samples), seconds, parent_xml.with_suffix(".bin").stat().st_size,
                          out_xml.with_suffix(".bin").stat().st_size, settings.to_dict(), [f.to_dict() for f in fixes],
                          accuracy, bias_images)


def check_ignored(model: ov.Model, settings: QuantizeSettings) -> None:
    """Refuse an ignored node name or op type the model does not have, in one line before NNCF runs (NNCF's own
    check is off: its error is a multi-line traceback after the statistics, and patterns may match nothing)."""
    ops = model.get_ops()
    names, types = {op.get_friendly_name() for op in ops}, {op.get_type_name() for op in ops}
    for given, known, what in ((settings.ignored_names, names, "node"), (settings.ignored_types, types, "op type")):
        missing = [g for g in given if g not in known]
        if missing:
            hint = f"; op types here: {', '.join(sorted(types))}" if what == "op type" else ""
            raise SegwbError(f"--ignore{'-type' if what == 'op type' else ''}: the model has no {what} "
                             f"{', '.join(map(repr, missing))}{hint}")
