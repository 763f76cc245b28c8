"""The instance-segmentation tutorial: import → quantize → benchmark → predict (COCO results) → compare → report."""

from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import openvino as ov

from . import __version__
from .benchmark import compiled_properties
from .coco import UNMAPPED, category_map, default_category_ids, evaluate, to_result
from .datasets import Dataset, load_image
from .errors import Cancelled
from .feed import InputFeed
from .instance_adapters import decode
from .instance_metrics import MATCH_IOU, compare_instances
from .instances import Instances, empty
from .modelcard import ModelCard
from .overlays import instance_overlay, save_image
from .pipeline import TutorialOptions, optimized_precision, report_seconds, report_sections, shared_steps
from .predict import Progress, compile_model, prediction_queue
from .project import Project
from .report_html import write_report_html
from .runtime import single_threaded_host
from .storage import read_json, write_json

log = logging.getLogger("segwb")


def image_table(dataset: Dataset) -> list[dict[str, Any]]:
    """Every image with its id: the COCO file's ids when there is one, else 1.. by sorted file name."""
    samples = sorted(dataset.samples, key=lambda s: s.name)
    rows = []
    for n, sample in enumerate(samples, start=1):
        h, w = sample.size or load_image(sample.path).shape[:2]  # the embedded photos are not decoded on opening
        rows.append({"image_id": sample.image_id if sample.image_id is not None else n, "name": sample.name,
                     "key": sample.key, "width": w, "height": h, "path": str(sample.path)})
    return rows


def categories(card: ModelCard, dataset: Dataset) -> dict[str, Any]:
    """Model class → category id (by name against the dataset's categories, else COCO's or class id + 1)."""
    if dataset.coco is None:
        return {"mapping": default_category_ids(card.labels), "unmapped_model_classes": [],
                "unmapped_dataset_classes": []}
    mapping, model_left, dataset_left = category_map(card.labels, dataset.coco["categories"])
    if not mapping:
        log.warning("no model class name matches a category of %s: ground-truth AP cannot be computed",
                    dataset.annotation_file)
    return {"mapping": mapping, "unmapped_model_classes": model_left, "unmapped_dataset_classes": dataset_left}


def predict_instances(compiled: ov.CompiledModel, card: ModelCard, images: list[dict[str, Any]],
                      mapping: dict[int, int], min_score: float, max_detections: int,
                      progress: Progress | None = None, cancel: threading.Event | None = None,
                      feed: InputFeed | None = None) -> list[dict[str, Any]]:
    """Detections of every image in the COCO results format, at the original image size.

    ``feed`` (made here when not given) preprocesses ahead of the queue; pass one to share its inputs
    between models.
    """
    input_type = compiled.input(0).get_element_type().to_dtype()
    names = [o.get_any_name() for o in compiled.outputs]
    results: dict[int, list[dict[str, Any]]] = {}
    errors: list[BaseException] = []
    lock = threading.Lock()

    def finished(request: ov.InferRequest, userdata: tuple) -> None:
        image_id, geometry = userdata
        try:
            outputs = {name: request.get_output_tensor(i).data for i, name in enumerate(names)}
            found = decode(outputs, card, geometry, min_score, max_detections)
            entries = [to_result(image_id, mapping.get(int(c), UNMAPPED), int(c), s, b, m)
                       for c, s, b, m in zip(found.class_ids, found.scores, found.boxes, found.masks, strict=True)]
        except BaseException as exc:  # surfaced after wait_all: OpenVINO would swallow it
            errors.append(exc)
            entries = []
        with lock:
            results[image_id] = entries
            if progress:
                progress(len(results), len(images))

    queue = prediction_queue(compiled)
    queue.set_callback(finished)
    feed = feed or InputFeed([Path(image["path"]) for image in images], card)
    for index, tensor, geometry in feed.stream(input_type, cancel):
        queue.start_async({0: tensor}, (images[index]["image_id"], geometry))
    queue.wait_all()
    if errors:
        raise errors[0]
    # A small dataset can be in flight whole before a cancel arrives: the request wins either way.
    if cancel is not None and cancel.is_set():
        raise Cancelled("prediction cancelled; nothing was saved for this model")
    return [entry for image in images for entry in results[image["image_id"]]]


def predictions_file(project: Project, role: str) -> Path:
    """``predictions/<role>.json``: the role's detections in the COCO results format."""
    return project.root / "predictions" / f"{role}.json"


def step_predict(project: Project, role: str, xml: Path, card: ModelCard, digest: str, dataset: Dataset,
                 precision: str | None, images: list[dict[str, Any]], mapping: dict[int, int],
                 options: TutorialOptions, progress: Progress | None = None,
                 cancel: threading.Event | None = None, feed: InputFeed | None = None) -> dict[str, Any]:
    """Detections of every image from the configuration whose speed is reported, saved once complete."""
    path = predictions_file(project, role)

    def run() -> dict[str, Any]:
        log.info("predicting %d images with the %s model (%s precision)", len(images), role, precision or "default")
        start = time.perf_counter()
        compiled = compile_model(xml, precision, cached=True)
        results = predict_instances(compiled, card, images, mapping, options.min_score, options.max_detections,
                                    progress, cancel, feed)
        write_json(path, results)
        return {"seconds": time.perf_counter() - start, "precision": precision or "default",
                "detections": len(results), "properties": compiled_properties(compiled)}

    inputs = {"model": digest, "dataset": dataset.digest, "precision": precision, "card": card.to_dict(),
              "min_score": options.min_score, "max_detections": options.max_detections,
              "mapping": {str(k): v for k, v in mapping.items()}}
    return project.cached(f"predict-{role}", inputs, run, (path,))


def load_instances(results: list[dict[str, Any]], images: list[dict[str, Any]]) -> dict[int, Instances]:
    """Saved COCO results back as :class:`Instances` per image id, highest score first."""
    grouped: dict[int, list[dict[str, Any]]] = {i["image_id"]: [] for i in images}
    for r in results:
        grouped[r["image_id"]].append(r)
    out = {}
    for image in images:
        size = (image["height"], image["width"])
        entries = sorted(grouped[image["image_id"]], key=lambda r: -r["score"])  # stable: ties keep saved order
        if not entries:
            out[image["image_id"]] = empty(size)
            continue
        boxes = np.float32([[x, y, x + w, y + h] for x, y, w, h in (r["bbox"] for r in entries)])
        masks = [{"size": r["segmentation"]["size"], "counts": r["segmentation"]["counts"].encode()} for r in entries]
        out[image["image_id"]] = Instances(size, np.int64([r["class_id"] for r in entries]),
                                           np.float32([r["score"] for r in entries]), boxes, masks)
    return out


def compare(project: Project, card: ModelCard, dataset: Dataset, images: list[dict[str, Any]],
            cats: dict[str, Any], options: TutorialOptions) -> dict[str, Any]:
    """Per-image and per-class rows with the parent as reference, overlays, and COCO AP when annotated.

    Images are compared in a thread pool (photo decoding, the overlay drawing and encoding release the GIL).
    COCO's evaluation runs after it: it is pure Python, and beside the pool both fought over the GIL (on 2
    cores, 2.6–3.3 s together against 2.5–2.7 s one after the other).
    """
    start = time.perf_counter()
    saved = {role: read_json(predictions_file(project, role)) for role in ("parent", "optimized")}
    parent, optimized = (load_instances(saved[role], images) for role in ("parent", "optimized"))

    def one(image: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]], list[float]]:
        p, o = parent[image["image_id"]], optimized[image["image_id"]]
        result = compare_instances(p, o, MATCH_IOU)
        overlay = project.overlay(image["key"])
        save_image(overlay, instance_overlay(load_image(Path(image["path"])), p, o, card.labels,
                                           result.parent_matched, result.optimized_matched))
        a, b, m = result.optimized, result.parent, result.matches
        row = {"image": image["name"], "optimized_detections": a, "parent_detections": b, "matches": m,
               "agreement": 2 * m / (a + b) if a + b else None, "overlay": overlay.relative_to(project.root).as_posix()}
        per_class = [{"image": image["name"], "class_id": r.class_id, "class_name": card.label(r.class_id),
                      "optimized_detections": r.optimized, "parent_detections": r.parent, "matches": r.matches,
                      "average_precision": r.average_precision, "precision": r.precision}
                     for r in result.classes if r.optimized > 0]
        return row, per_class, [r.average_precision for r in result.classes if r.average_precision is not None]

    def truth() -> dict[str, Any] | None:
        if dataset.coco is None:
            return None
        ids = [i["image_id"] for i in images]
        mapped = sorted(set(cats["mapping"].values()))
        result = {"images": len(ids), "annotation_file": str(dataset.annotation_file),
                  "categories_evaluated": len(mapped), "unmapped_model_classes": cats["unmapped_model_classes"],
                  "unmapped_dataset_classes": cats["unmapped_dataset_classes"]}
        for role in ("parent", "optimized"):
            result[role] = evaluate(dataset.coco, ids, saved[role], mapped)
        return result

    basic, advanced, ap_values = [], [], []
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for row, per_class, aps in pool.map(one, images):
            basic.append(row)
            advanced += per_class
            ap_values += aps
    basic.sort(key=lambda r: (r["agreement"] is None, r["agreement"] if r["agreement"] is not None else 0, r["image"]))
    advanced.sort(key=lambda r: (r["average_precision"] is None, r["average_precision"] or 0, r["image"], r["class_id"]))
    total_a, total_b = sum(r["optimized_detections"] for r in basic), sum(r["parent_detections"] for r in basic)
    total_m = sum(r["matches"] for r in basic)
    comparison = {
        "reference": "parent", "min_score": options.min_score, "max_detections": options.max_detections,
        "iou_threshold": MATCH_IOU, "optimized_detections": total_a, "parent_detections": total_b, "matches": total_m,
        "matches_over_parent": total_m / total_b if total_b else None,
        "matches_over_optimized": total_m / total_a if total_a else None,
        "f1": 2 * total_m / (total_a + total_b) if total_a + total_b else None,
        "mean_average_precision": float(np.mean(ap_values)) if ap_values else None,
        "basic": basic, "advanced": advanced,
    }
    return {"comparison": comparison, "ground_truth": truth(), "seconds": time.perf_counter() - start}


def run(options: TutorialOptions, progress: Progress | None = None, cancel: threading.Event | None = None,
        until: str = "report") -> Path:
    """Run the steps up to ``until`` ("quantize", "benchmark" or "report"), reusing cached ones.

    Returns ``report.json`` (after writing it and ``report.html``), or the last step's record.
    """
    start = time.perf_counter()
    shared = shared_steps(options, "instance", cancel, until)
    if shared.stop is not None:
        return shared.stop
    project, dataset, parent = shared.project, shared.dataset, shared.parent
    quantized, performance = shared.quantized, shared.performance
    images = image_table(dataset)
    write_json(project.root / "predictions" / "images.json", images)
    cats = categories(parent.card, dataset)
    mapping = cats["mapping"]
    feed = InputFeed([Path(image["path"]) for image in images], parent.card)
    with single_threaded_host():  # post-processing runs beside inference or in our own pools
        predicted = {
            "parent": step_predict(project, "parent", parent.xml, parent.card, parent.digest, dataset, "f32", images,
                                   mapping, options, progress, cancel, feed),
            "optimized": step_predict(project, "optimized", project.optimized_xml, parent.card, quantized["digest"],
                                      dataset, optimized_precision(performance), images, mapping, options, progress,
                                      cancel, feed),
        }
        inputs = {"parent": predicted["parent"]["key"], "optimized": predicted["optimized"]["key"],
                  "labels": list(parent.card.labels), "annotations": dataset.annotated, "categories": cats,
                  "timed": True}
        compared = project.cached("compare", inputs, lambda: compare(project, parent.card, dataset, images, cats, options),
                                  tuple(project.overlay(i["key"]) for i in images))
    report = {
        "segwb_version": __version__,
        "task": "instance",
        **report_sections(project, parent, dataset, options, quantized, performance),
        "comparison": {**compared["comparison"],
                       "parent_precision": "f32", "optimized_precision": performance["optimized_precision"]},
        "ground_truth": compared["ground_truth"],
        "report_seconds": report_seconds(predicted, compared, len(images), performance),
        "predictions": {"parent": "predictions/parent.json", "optimized": "predictions/optimized.json",
                        "images": "predictions/images.json"},
        "steps_cached": {"import": parent.cached, "quantize": quantized["cached"], "benchmark": performance["cached"],
                         "predict_parent": predicted["parent"]["cached"],
                         "predict_optimized": predicted["optimized"]["cached"], "compare": compared["cached"]},
        "wall_seconds": time.perf_counter() - start,
    }
    write_json(project.report_json, report)
    write_report_html(report, project.report_html)
    return project.report_json
