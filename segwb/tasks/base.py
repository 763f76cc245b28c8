"""The Task interface: everything segwb does differently for semantic and instance segmentation, in one place.

A task says which model outputs it recognises and how to check them, how to turn a finished inference into its
prediction, how the tutorial predicts and compares a dataset with both models (:class:`ReportJob`), which
AccuracyAware metrics it has, how its report reads (tables, facts, ground truth), how the dashboard draws an
image, and what its deployment package carries. Callers look the task up once in :mod:`segwb.tasks` and never
compare task names themselves.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
import openvino as ov

from ..core.project import Project
from ..inference.preprocess import Geometry
from ..io.datasets import Dataset
from ..io.model_card import ModelCard

# Turns a finished request into the task's prediction of one image (a class map, or Instances).
Decoder = Callable[[ov.InferRequest, Geometry], Any]
MODES = ("basic", "advanced")
MIN_VALIDATION_IMAGES = 10  # AccuracyAware: fewer images cannot tell one layer's harm from another's


@dataclass(frozen=True)
class DetectionLimits:
    """The cut applied to both models' detections (instance tasks): minimum score, at most so many per image."""

    min_score: float = 0.1
    max_detections: int = 100

    def to_dict(self) -> dict[str, Any]:
        return {"min_score": self.min_score, "max_detections": self.max_detections}


@dataclass(frozen=True)
class Column:
    """One report column: the row key, its title (the Workbench's wording) and whether it holds numbers."""

    key: str
    title: str
    numeric: bool = True
    digits: int = 4  # decimals shown for floats


@dataclass(frozen=True)
class Table:
    """A report table in one mode: its columns, the column it opens sorted on (worst first, ascending unless
    ``descending``) and the value the report page filters on (at most)."""

    columns: tuple[Column, ...]
    sort_key: str
    descending: bool = False

    def title(self, key: str) -> str:
        return next(c.title for c in self.columns if c.key == key)


@dataclass(frozen=True)
class Fact:
    """One line of a result summary: what, and its value as text."""

    label: str
    value: str

    def line(self) -> str:
        return f"{self.label}: {self.value}"


def percent(fraction: float | None) -> str:
    """A fraction as a percentage with two decimals, N/A when missing."""
    return "N/A" if fraction is None else f"{100 * fraction:.2f} %"


def value(number: float | None, digits: int = 4) -> str:
    """A number with ``digits`` decimals, N/A when missing."""
    return "N/A" if number is None else f"{number:.{digits}f}"


@dataclass(frozen=True)
class Section:
    """A block of the report page: a paragraph, an optional table (first column a name, the rest numbers), notes."""

    text: str
    headers: tuple[str, ...] = ()
    rows: list[tuple[str, ...]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ImageRecord:
    """One report image: ``name`` as the report shows it, ``key`` names its output files, ``file`` is its place in
    the dataset folder (or a full path), ``image_id`` its COCO id (instance tasks)."""

    name: str
    key: str
    file: str
    height: int
    width: int
    image_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"image_id": self.image_id, "name": self.name, "key": self.key, "file": self.file,
                "width": self.width, "height": self.height}


@dataclass
class Badge:
    """A toggle in the overlay viewer: one class (semantic) or one instance (instance), in its colour."""

    key: Any
    label: str
    colour: str
    shown: bool
    group: str = ""  # e.g. "Optimized" / "Parent" for instances


@dataclass
class Panels:
    """Three BGR pictures of equal height for the viewer, and what it says about them."""

    parent: np.ndarray
    optimized: np.ndarray
    third: np.ndarray
    info: str = ""
    photo_found: bool = True


class Metric(Protocol):
    """An AccuracyAware metric: one image's prediction to its statistics, many images' statistics to the metric."""

    name: str
    reference: str  # "ground truth" or "parent model"

    def image(self, index: int, prediction: Any) -> tuple[Any, float]:
        """Statistics to combine, and the image's own value (0–1)."""

    def combine(self, indices: list[int], stats: list[Any]) -> float:
        """The metric over the images, in points."""


@dataclass
class ImageResult:
    """One image compared: its Basic row, its Advanced rows, and what the task adds up over the images."""

    row: dict[str, Any]
    per_class: list[dict[str, Any]]
    stats: Any = None


class Tally(Protocol):
    """The comparison of a dataset, built from its images' results as they arrive (in image order)."""

    def add(self, result: ImageResult) -> None:
        """Take one image's result."""

    def finish(self) -> dict[str, Any]:
        """``comparison`` and ``ground_truth`` of every image added (the role's predictions are on disk by now)."""


class ReportJob(ABC):
    """The tutorial's last steps for one project: predict every image with each model and compare them, one image
    at a time (:mod:`segwb.tasks.report_pass` runs both models over a chunk and compares it while the next one is
    inferred).

    A prediction has two forms: what :meth:`decode` makes of a finished request and :meth:`keep` saves (a class
    map, or COCO result entries), and the same read back by :meth:`saved`; :meth:`compare_image` takes either,
    so a comparison of predictions made now and one of predictions made by an earlier run are the same.
    """

    version: ClassVar[int] = 1  # part of the comparison's cache key: bump when the comparison of an image changes

    def __init__(self, project: Project, dataset: Dataset, card: ModelCard, limits: DetectionLimits) -> None:
        self.project, self.dataset, self.card, self.limits = project, dataset, card, limits

    @property
    @abstractmethod
    def images(self) -> list[ImageRecord]:
        """The images in the order they are predicted."""

    def image_paths(self) -> list[Path]:
        """Where the photos of :attr:`images` are, for the input feed."""
        by_key = {s.key: s.path for s in self.dataset.samples}
        return [by_key[i.key] for i in self.images]

    def predict_inputs(self) -> dict[str, Any]:
        """What besides the model, dataset, precision and card decides the predictions (part of their cache key)."""
        return {}

    @abstractmethod
    def prediction_outputs(self, role: str) -> tuple[Path, ...]:
        """The files a finished prediction of ``role`` leaves."""

    @abstractmethod
    def decode(self, role: str, request: ov.InferRequest, index: int, geometry: Geometry) -> Any:
        """The prediction of image ``index`` by ``role``'s model (called on OpenVINO's threads, several at once)."""

    @abstractmethod
    def keep(self, role: str, index: int, prediction: Any) -> None:
        """Save (or hold until :meth:`chunk_kept`) one prediction; called on OpenVINO's threads."""

    def chunk_kept(self, role: str, indices: list[int]) -> None:
        """Every image of ``indices`` is kept by ``role``: write what is held of them (called in image order)."""

    def end_predictions(self, role: str) -> dict[str, Any]:
        """Every image of ``role`` predicted: finish its files; what to add to the step record."""
        return {}

    def discard_predictions(self) -> None:
        """The pass failed or was cancelled: remove what :meth:`chunk_kept` wrote (a cancelled run saves nothing)."""

    @abstractmethod
    def saved(self, role: str, index: int) -> Any:
        """The prediction of image ``index`` that an earlier run of ``role`` saved."""

    @abstractmethod
    def compare_inputs(self) -> dict[str, Any]:
        """What besides both predictions decides the comparison (part of its cache key)."""

    @abstractmethod
    def compare_image(self, index: int, parent: Any, optimized: Any) -> ImageResult:
        """Image ``index`` compared (thread-safe: called in a pool)."""

    @abstractmethod
    def tally(self) -> Tally:
        """An empty comparison of the dataset."""

    @abstractmethod
    def draw_overlay(self, index: int, parent: Any, optimized: Any, photo: np.ndarray, row: dict[str, Any],
                     path: Path) -> None:
        """Save the overlay picture of image ``index`` (its Basic ``row`` given) as ``path`` (thread-safe)."""

    def report_extras(self) -> dict[str, Any]:
        """Task-specific top-level entries of ``report.json``."""
        return {}


class Task(ABC):
    """One kind of segmentation; :mod:`segwb.tasks` holds the registry of instances."""

    name: ClassVar[str]  # as in model cards, report.json and the CLI
    title: ClassVar[str]  # for people
    adapters: ClassVar[tuple[str, ...]]  # model-card adapters, the first the most common
    zoo_defaults: ClassVar[tuple[str, ...]]  # the tutorial's zoo model, then its fallbacks
    tables: ClassVar[dict[str, Table]]  # per mode ("basic", "advanced")
    # The deployment package: the module (path under segwb/) whose ``save`` infer.py calls, copied with what it
    # imports, and the distributions it needs beyond the common ones.
    runtime_module: ClassVar[str]
    runtime_requirements: ClassVar[tuple[str, ...]] = ()

    # --- model import ----------------------------------------------------------------------------

    @abstractmethod
    def recognise(self, model: ov.Model) -> dict[str, Any]:
        """Card fields the outputs imply when they have this task's signature (``task``, ``adapter``, input
        conventions), else {}."""

    def output_fields(self, model: ov.Model, fields: dict[str, Any], path: Path) -> dict[str, Any]:
        """Card fields the outputs determine once the task is known (given fields win)."""
        return {}

    @abstractmethod
    def check_outputs(self, model: ov.Model, card: ModelCard, path: Path) -> None:
        """Refuse outputs that do not fit ``card``'s adapter (:class:`~segwb.core.errors.ModelError`)."""

    # --- inference -------------------------------------------------------------------------------

    @abstractmethod
    def decoder(self, card: ModelCard, limits: DetectionLimits) -> Decoder:
        """What turns a finished request into this task's prediction of one image."""

    # --- the tutorial ----------------------------------------------------------------------------

    @abstractmethod
    def report_job(self, project: Project, dataset: Dataset, card: ModelCard, limits: DetectionLimits) -> ReportJob:
        """The predictions and comparison of one project."""

    def prediction_settings(self, limits: DetectionLimits) -> dict[str, Any]:
        """What besides the card decides this task's predictions (part of the AccuracyAware cache key)."""
        return {}

    # --- AccuracyAware ---------------------------------------------------------------------------

    def validation_dataset(self, dataset: Dataset, card: ModelCard, xml: Path) -> Dataset:
        """The images the ground-truth metric is ranked on (all of them, unless the task knows better)."""
        return dataset

    @abstractmethod
    def truth_metric(self, dataset: Dataset, card: ModelCard, xml: Path) -> Metric | str:
        """The metric against the dataset's annotations, or why it cannot be computed."""

    @abstractmethod
    def agreement_metric(self, parent: list[Any], card: ModelCard, xml: Path) -> Metric:
        """The metric against the parent's predictions ``parent`` (one per validation image)."""

    # --- presenting ------------------------------------------------------------------------------

    @abstractmethod
    def headline(self, comparison: dict[str, Any]) -> float | None:
        """The dataset's agreement with the parent (0–1), the number a user judges the INT8 model by."""

    @abstractmethod
    def facts(self, comparison: dict[str, Any], ground_truth: dict[str, Any] | None) -> list[Fact]:
        """The accuracy lines of the result summary."""

    @abstractmethod
    def method_notes(self, comparison: dict[str, Any]) -> list[str]:
        """How the report's numbers are defined, and where segwb differs from the original Workbench."""

    @abstractmethod
    def ground_truth_section(self, ground_truth: dict[str, Any] | None) -> Section:
        """The report page's section against the annotations."""

    def table_rows(self, comparison: dict[str, Any], mode: str) -> list[dict[str, Any]]:
        """The rows of ``mode`` as the tables show them (copies: a table never changes the report)."""
        return [dict(r) for r in comparison[mode]]

    @abstractmethod
    def viewer(self, project: Project, report: dict[str, Any]) -> Viewer:
        """What the dashboard's overlay viewer shows of this report."""

    # --- deployment ------------------------------------------------------------------------------

    def runtime_settings(self, comparison: dict[str, Any]) -> dict[str, Any]:
        """What ``deploy.json`` carries for this task besides the hints (e.g. the detection limits)."""
        return {}

    @abstractmethod
    def runtime_outputs(self, settings: dict[str, Any]) -> str:
        """What the deployment package's ``infer.py`` writes, in words for its README."""


class Viewer(ABC):
    """One report's images for the overlay viewer: which ones, the badges of each, and their three panels."""

    third_title: ClassVar[str]  # the caption of the third panel
    scored: ClassVar[bool] = False  # whether a score threshold applies (instances)
    keys_per_image: ClassVar[bool] = True  # a badge key means one thing in one image only (an instance's rank)

    def __init__(self, project: Project, report: dict[str, Any]) -> None:
        self.project, self.report = project, report
        self.rows = {r["image"]: r for r in report["comparison"]["basic"]}

    @property
    @abstractmethod
    def names(self) -> list[str]:
        """The images, in the order the report lists them."""

    @abstractmethod
    def badges(self, name: str, hidden: set[Any], threshold: float) -> list[Badge]:
        """The toggles of image ``name`` (``hidden``: the keys toggled off)."""

    @abstractmethod
    def legend(self, name: str) -> list[tuple[str, str]]:
        """(colour, class name) of the classes image ``name`` shows."""

    @abstractmethod
    def panels(self, name: str, hidden: set[Any], opacity: float, threshold: float, height: int) -> Panels:
        """Parent, optimized and the third panel of image ``name``."""

    def initially_hidden(self) -> set[Any]:
        """Badges that start toggled off."""
        return set()
