"""``report.json`` and the step records, as typed records: the one description of what a report holds.

Paths inside the project (the models) are relative to the project folder; the dataset's path is where the user's
dataset was (see :meth:`segwb.core.project.Project.dataset_root`). Reports written by earlier versions hold absolute
model paths; readers take the models from the project folder (:meth:`segwb.core.project.Project.model_xml`). The per-task parts (``comparison``, ``ground_truth``) are described by
the task's tables (:attr:`segwb.tasks.base.Task.tables`) and in ``docs/report-schema.md``.
"""

from __future__ import annotations

from typing import Any, TypedDict


class LatencyMs(TypedDict):
    median: float
    average: float
    min: float
    max: float


class RunRecord(TypedDict, total=False):
    """One benchmarked configuration (the faster of its rounds)."""

    fps: float
    latency_ms: LatencyMs
    iterations: int
    seconds: float
    precision_requested: str | None  # None: the plugin's default
    properties: dict[str, str]  # read back from the compiled model, e.g. EXECUTION_DEVICES "CPU"
    device: str  # as asked, e.g. "AUTO"
    inference_precision: str
    rounds_fps: list[float]


class PerformanceRecord(TypedDict):
    """The benchmark step's result: parent pinned to f32 (and at its default precision), INT8 under both hints."""

    parent: RunRecord
    parent_default: RunRecord | None
    optimized: RunRecord  # the faster INT8 configuration
    optimized_runs: dict[str, RunRecord]  # "default", "f32"
    optimized_precision: str  # the hint of ``optimized``: "default" or "f32"
    speedup: float  # optimized.fps / parent.fps
    device: str  # as asked (--device): "CPU", "AUTO", "HETERO:GPU,CPU" ...
    device_name: str  # the device's full name; for AUTO/MULTI/HETERO "executed on CPU: <full name>, ..."
    execution_devices: list[str]  # what the compiled models reported running on (EXECUTION_DEVICES), e.g. ["CPU"]
    openvino_version: str
    seconds_per_run: float
    rounds: int
    input_shape: list[int]


class PrecisionRecord(TypedDict):
    """What a model's graph holds (:func:`segwb.io.model_precision.precision_summary`)."""

    kind: str  # "int8" (FakeQuantize or int8 weights), "fp16" (f16 weights) or "f32"
    quantized: bool  # kind == "int8"
    fake_quantize: int
    int8_weights: int  # u8/i8/u4/i4 constants feeding convolutions and matmuls (through their decompression)
    f16_weights: int
    description: str  # one line, e.g. "INT8: 139 FakeQuantize, 118 int8 weights"


class GivenRecord(TypedDict):
    """The optimized model the user gave (``--optimized``), as it was before its import."""

    path: str  # absolute
    digest: str  # its content hash


class QuantizeRecord(TypedDict, total=False):
    """The quantize step's result: segwb's NNCF run, or with ``source`` "given" the import of the ``--optimized``
    model (which has ``given`` and ``precision`` instead of the NNCF fields)."""

    source: str  # "given"; absent for segwb's own INT8
    given: GivenRecord
    precision: PrecisionRecord
    subset_size: int
    seconds: float
    size_before: int
    size_after: int
    settings: dict[str, Any]
    graph_fixes: list[dict[str, Any]]
    accuracy_aware: dict[str, Any] | None
    bias_correction_images: int | None  # the full bias correction's share of the subset; None for the fast one
    digest: str


class DroppedRecord(TypedDict):
    action: str  # "dropped", or "changed" (kept with a value replaced, e.g. a COCO bbox by the mask's)
    what: str  # "image", "annotation", "line", "file"
    reason: str
    count: int
    examples: list[str]  # the first ten names


class DatasetRecord(TypedDict):
    path: str
    layout: str  # "images", "voc", "coco", "yolo", "cityscapes", "image_masks" or "embedded"
    images: int
    annotated: bool
    dropped: list[DroppedRecord]  # what the dataset reader left out or changed, by reason


class ModelRecord(TypedDict):
    path: str  # relative to the project folder
    digest: str
    size_bytes: int


class ParentRecord(ModelRecord):
    card: dict[str, Any]
    precision: PrecisionRecord  # reports of earlier versions have none


class OptimizedRecord(ModelRecord, total=False):
    """Where the optimized model came from and what it is. ``source`` "segwb": quantized by segwb with NNCF (the
    NNCF fields, from ``method`` on); "given": the model the user gave with ``--optimized`` (``given``). Reports
    before ``source`` are all segwb's."""

    source: str  # "segwb" or "given"
    precision: PrecisionRecord
    seconds: float  # quantizing, or importing the given model
    given: GivenRecord
    method: str
    preset: str
    subset_size: int
    settings: dict[str, Any]
    graph_fixes: list[dict[str, Any]]
    accuracy_aware: dict[str, Any] | None
    bias_correction_images: int | None


class ReportSeconds(TypedDict):
    predict_parent: float
    predict_optimized: float
    compare: float
    total: float
    target: float  # 1.1 x (images / FPS of the parent + images / FPS of the optimized model) + 3 s


class Report(TypedDict, total=False):
    """``report.json``."""

    segwb_version: str
    task: str
    model_choice: str
    dataset: DatasetRecord
    parent: ParentRecord
    optimized: OptimizedRecord
    performance: PerformanceRecord
    comparison: dict[str, Any]  # the task's: rows per mode ("basic", "advanced") and dataset-level totals
    ground_truth: dict[str, Any] | None
    report_seconds: ReportSeconds
    predictions: dict[str, str]  # instance tasks: the COCO results files
    steps_cached: dict[str, bool]
    wall_seconds: float

