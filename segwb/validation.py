"""Validation metrics for accuracy-aware quantization: one per task and reference, in points (0–100).

The reference is the ground truth when the dataset annotates the model's classes (semantic: mean IoU; instance:
COCO mask AP), else the parent model itself (semantic: mean Optimized Model Average Result; instance: F1 of the
matches between A and B), so a folder of unannotated images still bounds the drift. A :class:`Validator` is
the ``validation_fn`` NNCF calls with a compiled model and dataset indices: it returns the metric and one value
per image (NNCF picks the images that changed most to rank layers on).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import openvino as ov

from .coco import UNMAPPED, segmentation_rle, category_map, evaluate, to_result
from .datasets import Dataset, Sample, load_mask
from .errors import Cancelled, SegwbError
from .feed import InputFeed
from .instance_adapters import decode
from .instance_metrics import MATCH_IOU, compare_instances
from .instances import Instances, empty
from .modelcard import ModelCard
from .preprocess import Geometry
from .runtime import DEVICE, core
from .semantic import class_map
from .semantic_metrics import compare_maps, confusion_matrix, label_lut, mean_iou

log = logging.getLogger("segwb")
METRICS = ("auto", "ground_truth", "agreement")
# NNCF compiles every candidate with an f32 precision hint and nothing else: the parent's reference predictions
# are made the same way, so the parent scores exactly 100 against itself.
REFERENCE_CONFIG = {"INFERENCE_PRECISION_HINT": "f32"}


class Metric(Protocol):
    """Turns one image's prediction into its statistics, and the statistics of many images into the metric."""

    name: str
    reference: str  # "ground truth" or "parent model"

    def image(self, index: int, prediction: Any) -> tuple[Any, float]:
        """Statistics to combine, and the image's own value (0–1)."""

    def combine(self, indices: list[int], stats: list[Any]) -> float:
        """The metric over the images, in points."""


@dataclass
class SemanticTruth:
    """Mean IoU against VOC masks (void ignored), dataset classes mapped to the model's by name."""

    masks: list[np.ndarray]
    classes: int
    name: str = "mean IoU"
    reference: str = "ground truth"

    def image(self, index: int, prediction: np.ndarray) -> tuple[np.ndarray, float]:
        cm = confusion_matrix(self.masks[index], prediction, self.classes)
        value = mean_iou(cm)[0]
        return cm, 1.0 if value is None else value  # no valid pixel: nothing to get wrong

    def combine(self, indices: list[int], stats: list[np.ndarray]) -> float:
        value = mean_iou(np.sum(stats, axis=0))[0] if stats else None
        return 100.0 * (value or 0.0)


@dataclass
class SemanticAgreement:
    """Mean Optimized Model Average Result with the parent's class maps as the reference."""

    parent: list[np.ndarray]
    classes: int
    name: str = "mean Optimized Model Average Result"
    reference: str = "parent model"

    def image(self, index: int, prediction: np.ndarray) -> tuple[float, float]:
        average = compare_maps(self.parent[index], prediction, self.classes).average
        value = 1.0 if average is None else average
        return value, value

    def combine(self, indices: list[int], stats: list[float]) -> float:
        return 100.0 * float(np.mean(stats)) if stats else 0.0


def _f1(matches: int, a: int, b: int) -> float:
    return 2 * matches / (a + b) if a + b else 1.0


@dataclass
class InstanceAgreement:
    """F1 of the matches between A (candidate) and B (parent) at mask IoU 0.5, over all detections."""

    parent: list[Instances]
    name: str = "F1 of matches between A and B"
    reference: str = "parent model"

    def image(self, index: int, prediction: Instances) -> tuple[tuple[int, int, int], float]:
        result = compare_instances(self.parent[index], prediction, MATCH_IOU)
        counts = (result.matches, result.optimized, result.parent)
        return counts, _f1(*counts)

    def combine(self, indices: list[int], stats: list[tuple[int, int, int]]) -> float:
        return 100.0 * _f1(*(int(sum(s[i] for s in stats)) for i in range(3)))


@dataclass
class InstanceTruth:
    """COCO mask AP (faster-coco-eval) against the dataset's instances; per image, our own mask AP over its classes."""

    coco: dict[str, Any]
    image_ids: list[int]
    truth: list[Instances]
    crowd: list[Instances]  # crowd regions, which COCO ignores detections on
    mapping: dict[int, int]
    name: str = "mask AP"
    reference: str = "ground truth"

    def image(self, index: int, prediction: Instances) -> tuple[list[dict[str, Any]], float]:
        image_id = self.image_ids[index]
        results = [to_result(image_id, self.mapping.get(int(c), UNMAPPED), int(c), s, b, m)
                   for c, s, b, m in zip(prediction.class_ids, prediction.scores, prediction.boxes, prediction.masks, strict=True)]
        aps = [row.average_precision for row in compare_instances(self.truth[index], prediction,
                                                                  crowd=self.crowd[index]).classes
               if row.average_precision is not None]
        return results, float(np.mean(aps)) if aps else 1.0

    def combine(self, indices: list[int], stats: list[list[dict[str, Any]]]) -> float:
        results = [r for image in stats for r in image]
        ids = [self.image_ids[i] for i in indices]
        return 100.0 * evaluate(self.coco, ids, results, sorted(set(self.mapping.values())), box=False)["mask_ap"]


class Validator:
    """NNCF's ``validation_fn``: runs a compiled model on images (given as indices) and scores the predictions."""

    def __init__(self, card: ModelCard, samples: list[Sample], min_score: float = 0.1, max_detections: int = 100,
                 cancel: threading.Event | None = None) -> None:
        self.card, self.samples, self.cancel = card, samples, cancel
        self.min_score, self.max_detections = min_score, max_detections
        self.metric: Metric | None = None
        self._inputs = InputFeed([s.path for s in samples], card)  # NNCF validates the same images many times

    def _output(self, request: ov.InferRequest, compiled: ov.CompiledModel, geometry: Geometry) -> Any:
        if self.card.task == "semantic":
            output = compiled.output(self.card.output) if self.card.output else compiled.output(0)
            return class_map(request.get_tensor(output).data, self.card, geometry)
        outputs = {o.get_any_name(): request.get_output_tensor(i).data for i, o in enumerate(compiled.outputs)}
        return decode(outputs, self.card, geometry, self.min_score, self.max_detections)

    def predict(self, compiled: ov.CompiledModel, indices: list[int]) -> list[Any]:
        """Predictions of ``indices`` in order (class maps or :class:`Instances`); the next image is prepared
        while one request runs.

        No AsyncInferQueue callback: a callback holding the compiled model could drop its last reference on an
        OpenVINO worker thread, whose executor then joins itself and aborts the process. NNCF compiles with
        the LATENCY default, where a queue would hold one request anyway.
        """
        dtype = compiled.input(0).get_element_type().to_dtype()
        request = compiled.create_infer_request()
        found: list[Any] = []
        running: Geometry | None = None
        for index in indices:
            if self.cancel is not None and self.cancel.is_set():
                if running is not None:
                    request.wait()
                raise Cancelled("accuracy-aware quantization cancelled; the parent model is unchanged")
            tensor, geometry = self._inputs.input(index, dtype)
            if running is not None:
                request.wait()
                found.append(self._output(request, compiled, running))
            request.start_async({0: tensor})
            running = geometry
        if running is not None:
            request.wait()
            found.append(self._output(request, compiled, running))
        return found

    def reference_predictions(self, xml: Any) -> list[Any]:
        """The parent's predictions of every image, compiled as NNCF compiles the models it validates."""
        return self.predict(core().compile_model(xml, DEVICE, REFERENCE_CONFIG), list(range(len(self.samples))))

    def score(self, model: Any) -> float:
        """The metric of ``model`` (IR path or :class:`openvino.Model`) over every image, compiled as NNCF compiles."""
        return self(core().compile_model(model, DEVICE, REFERENCE_CONFIG), range(len(self.samples)))[0]

    def __call__(self, compiled: ov.CompiledModel, items: Iterable[int]) -> tuple[float, list[float]]:
        if self.metric is None:
            raise RuntimeError("Validator.metric must be set before validation")
        indices = [int(i) for i in items]
        scored = [self.metric.image(i, p) for i, p in zip(indices, self.predict(compiled, indices), strict=True)]
        return self.metric.combine(indices, [s for s, _ in scored]), [v for _, v in scored]


def semantic_truth_problem(dataset: Dataset, card: ModelCard, classes: int) -> str | None:
    """Why mean IoU against the dataset's masks cannot be computed (None: it can); reads no mask."""
    annotated = [s for s in dataset.samples if s.annotation]
    if not dataset.labels or not annotated:
        return f"{dataset.root}: no class masks (Pascal VOC layout: JPEGImages/ and SegmentationClass/)"
    if len(annotated) < len(dataset.samples):
        return (f"{dataset.root}: only {len(annotated)} of {len(dataset.samples)} images have a class mask, "
                "too few to rank layers on")
    _, unmapped = label_lut(dataset.labels, _model_labels(card, classes))
    if not [n for n in dataset.labels if n not in unmapped and n.lower() != "background"]:
        return f"{dataset.root}: none of its classes ({', '.join(dataset.labels[:5])}, ...) is a class of the model"
    return None


def _model_labels(card: ModelCard, classes: int) -> tuple[str, ...]:
    return card.labels or tuple(f"class {i}" for i in range(classes))


def semantic_truth(dataset: Dataset, card: ModelCard, classes: int) -> SemanticTruth | str:
    """The ground-truth metric, or why it cannot be computed."""
    if problem := semantic_truth_problem(dataset, card, classes):
        return problem
    lut, _ = label_lut(dataset.labels, _model_labels(card, classes))
    return SemanticTruth([lut[load_mask(s.annotation)] for s in dataset.samples], classes)


def instance_truth(dataset: Dataset, card: ModelCard) -> InstanceTruth | str:
    """The ground-truth metric (COCO mask AP), or why it cannot be computed."""
    if dataset.coco is None:
        return f"{dataset.root}: needs COCO instance annotations (annotations/instances*.json)"
    mapping, _, _ = category_map(card.labels, dataset.coco["categories"])
    if not card.labels:
        return "the model card has no class labels to match the COCO categories: pass --labels FILE"
    if not mapping:
        return f"{dataset.annotation_file}: none of its categories is a class of the model"
    to_class = {cat: cls for cls, cat in mapping.items()}
    sizes = {i["id"]: (i["height"], i["width"]) for i in dataset.coco["images"]}
    by_image: dict[tuple[int, bool], list[dict[str, Any]]] = {}
    for ann in dataset.coco["annotations"]:
        if ann["category_id"] in to_class:
            by_image.setdefault((ann["image_id"], bool(ann.get("iscrowd"))), []).append(ann)

    def instances(image_id: int, crowd: bool) -> Instances:
        size, anns = sizes[image_id], by_image.get((image_id, crowd), [])
        if not anns:
            return empty(size)
        masks = [segmentation_rle(a["segmentation"], size) for a in anns]
        boxes = np.float32([[x, y, x + w, y + h] for x, y, w, h in (a["bbox"] for a in anns)])
        return Instances(size, np.int64([to_class[a["category_id"]] for a in anns]), np.ones(len(anns), np.float32),
                         boxes, masks)

    ids = [s.image_id for s in dataset.samples]
    return InstanceTruth(dataset.coco, ids, [instances(i, False) for i in ids], [instances(i, True) for i in ids], mapping)


def choose_metric(validator: Validator, dataset: Dataset, parent_xml: Any, wanted: str, classes: int) -> Metric:
    """The metric for ``wanted`` ("auto": ground truth when the dataset annotates the model's classes)."""
    if wanted not in METRICS:
        raise SegwbError(f"metric must be one of {', '.join(METRICS)}, got {wanted!r}")
    card = validator.card
    if wanted != "agreement":
        truth = semantic_truth(dataset, card, classes) if card.task == "semantic" else instance_truth(dataset, card)
        if not isinstance(truth, str):
            return truth
        if wanted == "ground_truth":
            raise SegwbError(f"the ground-truth metric cannot be computed: {truth}")
        log.warning("AccuracyAware: agreement with the parent instead of the ground truth (%s)", truth)
    parent = validator.reference_predictions(parent_xml)
    return SemanticAgreement(parent, classes) if card.task == "semantic" else InstanceAgreement(parent)
