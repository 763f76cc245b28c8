"""INT8 post-training quantization with NNCF (the Workbench's "Default method")."""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import nncf
import numpy as np

from ..core.compile import core
from ..core.errors import Cancelled, SegwbError
from ..inference.preprocess import to_tensor
from ..io.datasets import Dataset
from ..io.images import load_image
from ..io.model_card import ModelCard
from ..io.model_file import save_ir
from .accuracy_aware import AccuracyTarget, quantize_with_accuracy_control
from .graph_fixes import fold_weight_constants, keep_tail_rewrite
from .validator import Validator

PRESETS = {"performance": nncf.QuantizationPreset.PERFORMANCE, "mixed": nncf.QuantizationPreset.MIXED}
METHODS = {"default": "Default (NNCF post-training quantization)",
           "accuracy_aware": "AccuracyAware (NNCF quantize_with_accuracy_control)"}
ACCURACY_FIELDS = ("max_drop", "drop_type", "metric", "max_iterations")
MAX_SUBSET = 300
PIPELINE_VERSION = 2  # part of the cache key: bump when the steps around NNCF change what they produce
CHECK_IMAGES = 4  # calibration images a graph rewrite must leave every output identical on


@dataclass(frozen=True)
class QuantizeSettings:
    """What the user chose: method, preset, calibration subset ("100%", "50%" or a count), bias correction, ignored
    scope, whether the graph rewrites of :mod:`segwb.optimize.graph_fixes` run around NNCF, and for the
    AccuracyAware method the allowed drop of its metric (see :mod:`segwb.optimize.accuracy_aware`)."""

    method: str = "default"
    preset: str = "performance"
    subset: str = "100%"
    # Full bias correction by default: on the deeplabv3 fixture it kept 98.60 % pixel agreement against 97.66 %
    # for the fast one, at no speed cost (README, "Why INT8 was slow"); it adds ~12 s to quantization there.
    fast_bias_correction: bool = False
    ignored_names: tuple[str, ...] = ()
    ignored_types: tuple[str, ...] = ()
    ignored_patterns: tuple[str, ...] = ()
    graph_fixes: bool = True
    max_drop: float = 0.5
    drop_type: str = "absolute"
    metric: str = "auto"
    max_iterations: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain data; the accuracy target only for the method that uses it (so it is no cache key of the other)."""
        d = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
        if not self.max_iterations:
            del d["max_iterations"]  # no cap, as before the option existed: earlier projects keep their cache key
        return {k: v for k, v in d.items() if self.method == "accuracy_aware" or k not in ACCURACY_FIELDS}

    @property
    def target(self) -> AccuracyTarget:
        return AccuracyTarget(self.max_drop, self.drop_type, self.metric, self.max_iterations)


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


def subset_size(spec: str | int, available: int) -> int:
    """Images used for statistics: a count or a percentage of the dataset, capped at 300."""
    text = str(spec).strip()
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*%", text)
    if match:
        percent = float(match.group(1))
        if not 0 < percent <= 100:
            raise SegwbError(f"subset size {text} must be a percentage in (0, 100]")
        count = max(1, round(available * percent / 100))
    elif text.isdigit() and int(text) > 0:
        count = int(text)
    else:
        raise SegwbError(f"subset size {text!r} must be a positive count (e.g. 300) or a percentage (e.g. 50%)")
    return min(count, available, MAX_SUBSET)


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
    args = {"preset": PRESETS[settings.preset], "subset_size": len(samples),
            "fast_bias_correction": settings.fast_bias_correction, "ignored_scope": ignored}
    accuracy = None
    if validator is not None:
        quantized, accuracy = quantize_with_accuracy_control(model, nncf.Dataset(samples, transform), validator,
                                                             settings.target, **args)
    else:
        quantized = nncf.quantize(model, nncf.Dataset(samples, transform), **args)
    if settings.graph_fixes:
        checks = [transform(s) for s in calibration_samples(dataset, min(CHECK_IMAGES, len(samples)))]
        quantized, tail = keep_tail_rewrite(quantized, checks)
        fixes += [tail] if tail else []
    seconds = time.perf_counter() - start
    save_ir(quantized, out_xml)
    return QuantizeResult(len(samples), seconds, parent_xml.with_suffix(".bin").stat().st_size,
                          out_xml.with_suffix(".bin").stat().st_size, settings.to_dict(), [f.to_dict() for f in fixes],
                          accuracy)
