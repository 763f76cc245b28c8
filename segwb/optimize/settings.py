"""What the user chooses for INT8, checked before any long work, without importing NNCF (the command line and the
dashboard read these at start-up): the method, the preset, the calibration subset, the ignored scope, the graph
rewrites, and for the AccuracyAware method the allowed drop of its metric."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from ..core.errors import SegwbError

PRESETS = ("performance", "mixed")
METHODS = {"default": "Default (NNCF post-training quantization)",
           "accuracy_aware": "AccuracyAware (NNCF quantize_with_accuracy_control)"}
DROP_TYPES = ("absolute", "relative")
MAX_DROP_RANGE = (0.1, 10.0)  # points (absolute) or percent (relative), as in the original
DEFAULT_MAX_DROP = 0.5  # on the ground truth, when the user gives none (agreement: half the Default method's loss)
ACCURACY_FIELDS = ("max_drop", "drop_type", "metric", "max_iterations")
MAX_SUBSET = 300
# Undone revert steps in a row that end an AccuracyAware run: the groups left ranked lower (each restored less when
# reverted alone), and each step is a validation of every image (7 s for deeplabv3 on coco96). Without it, a drop the
# model cannot reach (the agreement default's) tried every group: 56 steps for deeplabv3, 97 for YOLO26n-seg. In the
# capped run of deeplabv3 before (4969d23, cap 10), the one step kept after undone ones (five in a row) lowered the
# drop by 0.05 points.
PATIENCE = 3


@dataclass(frozen=True)
class AccuracyTarget:
    """How much the metric may drop, and against what.

    ``auto_drop``: the user gave no drop, so ``max_drop`` is the ground-truth default and, when the metric is agreement
    with the parent, the drop is set once the Default method's INT8 is measured: half of what it loses
    (:func:`segwb.optimize.accuracy_aware.allowed_drop`)."""

    max_drop: float = DEFAULT_MAX_DROP
    drop_type: str = "absolute"
    metric: str = "auto"  # auto | ground_truth | agreement (see segwb.optimize.validator)
    # Revert steps (each a validation of every image, a step undone included); the restorer ranks once, and without
    # a cap ends when PATIENCE steps in a row do not lower the drop (or every group was tried). A cap ends it with
    # the best scope validated. 0: no cap.
    max_iterations: int = 0
    auto_drop: bool = False



def check_drop(target: AccuracyTarget) -> None:
    """Refuse an unknown drop type or a drop out of the original's range (one line)."""
    if target.drop_type not in DROP_TYPES:
        raise SegwbError(f"drop type must be absolute or relative, got {target.drop_type!r}")
    low, high = MAX_DROP_RANGE
    if not low <= target.max_drop <= high:
        unit = "points" if target.drop_type == "absolute" else "percent"
        raise SegwbError(f"max accuracy drop must be between {low:g} and {high:g} {unit} ({target.drop_type}), "
                         f"got {target.max_drop:g}")
    if target.max_iterations < 0:
        raise SegwbError(f"max iterations must be 0 (no cap) or more, got {target.max_iterations}")


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
    max_drop: float | None = None  # None: the method's default (see AccuracyTarget.auto_drop)
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
        return AccuracyTarget(DEFAULT_MAX_DROP if self.max_drop is None else self.max_drop, self.drop_type, self.metric,
                              self.max_iterations, auto_drop=self.max_drop is None)


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
