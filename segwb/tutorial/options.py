"""What a tutorial run takes: the task, the model and its card, the dataset, the INT8 settings, the benchmark."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.compile import DEFAULT_DEVICE
from ..core.devices import check_device
from ..core.errors import SegwbError
from ..core.paths import is_within, overlapping
from ..core.project import DATASET_COPY
from ..io.datasets import EMBEDDED
from ..optimize.settings import QuantizeSettings, check_drop, subset_size
from ..tasks import DEFAULT
from ..tasks.base import DetectionLimits

UNTIL = ("quantize", "benchmark", "report")  # where a run may stop
MAX_BENCH_SECONDS = 3600.0


@dataclass
class TutorialOptions:
    """Everything ``segwb tutorial semantic|instance`` takes."""

    out: Path
    task: str = DEFAULT
    model: str | None = None  # zoo name or model path; None = the task's default zoo model
    model_card: str | None = None
    card_overrides: dict[str, Any] = field(default_factory=dict)
    dataset: str = "embedded"
    split: str | None = None
    quantize: QuantizeSettings = field(default_factory=QuantizeSettings)
    bench_seconds: float = 10.0
    no_bf16: bool = False
    min_score: float = 0.1  # instance: detections below this are dropped on both sides
    max_detections: int = 100  # instance: per image, by descending score
    optimized: str | None = None  # a model the user already has, compared as the optimized one (NNCF skipped)
    device: str = DEFAULT_DEVICE  # OpenVINO device of the benchmark and the predictions (NNCF runs on the CPU)

    @property
    def limits(self) -> DetectionLimits:
        return DetectionLimits(self.min_score, self.max_detections)

    def check(self) -> None:
        """Refuse, in one line and before any long step, options that cannot give a meaningful run."""
        if not (math.isfinite(self.bench_seconds) and 0 < self.bench_seconds <= MAX_BENCH_SECONDS):
            raise SegwbError(f"--bench-seconds must be a number of seconds in (0, {MAX_BENCH_SECONDS:g}], "
                             f"got {self.bench_seconds}")
        if not (math.isfinite(self.min_score) and 0 <= self.min_score <= 1):
            raise SegwbError(f"--min-score must be between 0 and 1, got {self.min_score}")
        if self.max_detections < 1:
            raise SegwbError(f"--max-detections must be at least 1, got {self.max_detections}")
        if self.split is not None and (not self.split or any(c in self.split for c in "/\\\0") or self.split in (".", "..")):
            raise SegwbError(f"--split must be the name of an image-set list or instances file, got {self.split!r}")
        subset_size(self.quantize.subset, 1)
        check_device(self.device)
        if self.optimized is not None:
            self.check_optimized()
        if self.quantize.method == "accuracy_aware":
            check_drop(self.quantize.target)
        self.check_out()

    def check_optimized(self) -> None:
        """``--optimized`` is a model to compare, not one to make: AccuracyAware has nothing to quantize, and a file in
        the project's own models folder would be overwritten by its own import."""
        if not self.optimized:
            raise SegwbError("--optimized needs a model file")
        if self.quantize.method == "accuracy_aware":
            raise SegwbError("--method accuracy-aware quantizes the parent with NNCF; with --optimized there is nothing "
                             "to quantize: drop one of the two", self.optimized)
        if is_within(self.optimized, Path(self.out) / "models"):
            raise SegwbError("--optimized is inside the project's own models folder, which the run rewrites: "
                             "copy it out, or choose another --out", self.optimized)

    def check_out(self) -> None:
        """The project folder must be a folder (new or existing), apart from the dataset: a project inside the dataset
        would read its own overlays as photos on the next run, a dataset inside the project could be overwritten. The
        one exception is the project's own dataset copy (an archive imported with its dataset), which no run writes."""
        out = Path(self.out)
        if out.exists() and not out.is_dir():
            raise SegwbError("--out names a file; the project must be a folder (new or existing)", out)
        own_copy = is_within(self.dataset, out / DATASET_COPY) and is_within(out / DATASET_COPY, self.dataset)
        if self.dataset != EMBEDDED and Path(self.dataset).is_dir() and overlapping(out, self.dataset) and not own_copy:
            raise SegwbError(f"the project folder and the dataset folder {self.dataset} must not contain each other", out)
