"""What a tutorial run takes: the task, the model and its card, the dataset, the INT8 settings, the benchmark."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..optimize.settings import QuantizeSettings
from ..tasks import DEFAULT
from ..tasks.base import DetectionLimits

UNTIL = ("quantize", "benchmark", "report")  # where a run may stop


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

    @property
    def limits(self) -> DetectionLimits:
        return DetectionLimits(self.min_score, self.max_detections)
