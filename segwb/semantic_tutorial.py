"""The semantic-segmentation tutorial, step by step: import → quantize → benchmark → predict → compare → report."""

from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .benchmark import compiled_properties
from .datasets import Dataset, Sample, load_image, load_mask
from .feed import InputFeed
from .modelcard import ModelCard
from .models import output_classes
from .overlays import save_image, semantic_overlay
from .pipeline import TutorialOptions, optimized_precision, report_seconds, report_sections, shared_steps
from .predict import Progress, compile_model, load_class_map, predict_semantic, prediction_path
from .project import Project
from .report_html import write_report_html
from .runtime import single_threaded_host
from .semantic_metrics import compare_maps, confusion_matrix, label_lut, mean_iou
from .storage import write_json

log = logging.getLogger("segwb")


def step_predict(project: Project, role: str, xml: Path, card: ModelCard, digest: str, dataset: Dataset,
                 precision: str | None, progress: Progress | None = None,
                 cancel: threading.Event | None = None, feed: InputFeed | None = None) -> dict[str, Any]:
    """Class maps of every image at its original size, from the configuration whose speed is reported."""
    folder = project.predictions(role)

    def run() -> dict[str, Any]:
        log.info("predicting %d images with the %s model (%s precision)", len(dataset), role, precision or "default")
        start = time.perf_counter()
        compiled = compile_model(xml, precision, cached=True)
        predict_semantic(compiled, card, dataset, folder, progress, cancel, feed)
        return {"seconds": time.perf_counter() - start, "precision": precision or "default",
                "properties": compiled_properties(compiled)}

    inputs = {"model": digest, "dataset": dataset.digest, "precision": precision, "card": card.to_dict()}
    return project.cached(f"predict-{role}", inputs, run, tuple(prediction_path(folder, s.key) for s in dataset.samples))


def compare(project: Project, card: ModelCard, dataset: Dataset, classes: int) -> dict[str, Any]:
    """Per-image rows (parent as reference), ground-truth IoU when annotated, and overlay pictures.

    Images are compared in a thread pool (PNG decoding, the overlay drawing and encoding release the GIL).
    """
    start = time.perf_counter()
    labels = card.labels or tuple(f"class {i}" for i in range(classes))
    basic, advanced = [], []
    annotated = [s for s in dataset.samples if s.annotation] if dataset.labels else []
    lut, unmapped = label_lut(dataset.labels, labels) if annotated else (None, [])
    cms = {role: np.zeros((classes, classes), dtype=np.int64) for role in ("parent", "optimized")}

    def one(sample: Sample) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, np.ndarray]]:
        parent = load_class_map(prediction_path(project.predictions("parent"), sample.key))
        optimized = load_class_map(prediction_path(project.predictions("optimized"), sample.key))
        result = compare_maps(parent, optimized, classes)
        overlay = project.overlay(sample.key)
        save_image(overlay, semantic_overlay(load_image(sample.path), parent, optimized, labels, result.pixel_agreement))
        row = {"image": sample.name, "average_result": result.average, "pixel_agreement": result.pixel_agreement,
               "overlay": overlay.relative_to(project.root).as_posix()}
        per_class = [{"image": sample.name, "class_id": c, "class_name": card.label(c), "result": iou}
                     for c, iou in sorted(result.class_iou.items())]
        confusion = {}
        if lut is not None and sample.annotation:
            truth = lut[load_mask(sample.annotation)]
            confusion = {"parent": confusion_matrix(truth, parent, classes),
                         "optimized": confusion_matrix(truth, optimized, classes)}
        return row, per_class, confusion

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for row, per_class, confusion in pool.map(one, dataset.samples):
            basic.append(row)
            advanced += per_class
            for role, cm in confusion.items():
                cms[role] += cm
    basic.sort(key=lambda r: (r["average_result"] is None, r["average_result"] if r["average_result"] is not None else 0))
    averages = [r["average_result"] for r in basic if r["average_result"] is not None]
    agreements = [r["pixel_agreement"] for r in basic if r["pixel_agreement"] is not None]
    ground_truth = None
    if annotated:
        ground_truth = {"images": len(annotated), "unmapped_classes": unmapped, "void": "ignored"}
        for role, cm in cms.items():
            miou, per_class = mean_iou(cm)
            ground_truth[role] = {"mean_iou": miou, "per_class_iou": {labels[c]: v for c, v in per_class.items()}}
    return {
        "comparison": {
            "reference": "parent", "num_classes": classes,
            "mean_average_result": float(np.mean(averages)) if averages else None,
            "mean_pixel_agreement": float(np.mean(agreements)) if agreements else None,
            "basic": basic, "advanced": advanced,
        },
        "ground_truth": ground_truth,
        "seconds": time.perf_counter() - start,
    }


def run(options: TutorialOptions, progress: Progress | None = None, cancel: threading.Event | None = None,
        until: str = "report") -> Path:
    """Run the steps up to ``until`` ("quantize", "benchmark" or "report"), reusing cached ones.

    Returns ``report.json`` (after writing it and ``report.html``), or the last step's record.
    """
    start = time.perf_counter()
    shared = shared_steps(options, "semantic", cancel, until)
    if shared.stop is not None:
        return shared.stop
    project, dataset, parent = shared.project, shared.dataset, shared.parent
    quantized, performance = shared.quantized, shared.performance
    feed = InputFeed([sample.path for sample in dataset.samples], parent.card)
    with single_threaded_host():  # post-processing runs beside inference or in our own pools
        predicted = {
            "parent": step_predict(project, "parent", parent.xml, parent.card, parent.digest, dataset, "f32", progress,
                                   cancel, feed),
            "optimized": step_predict(project, "optimized", project.optimized_xml, parent.card, quantized["digest"],
                                      dataset, optimized_precision(performance), progress, cancel, feed),
        }
        classes = output_classes(parent.xml, parent.card)
        inputs = {"parent": predicted["parent"]["key"], "optimized": predicted["optimized"]["key"], "classes": classes,
                  "labels": list(parent.card.labels), "annotations": dataset.annotated, "timed": True}
        compared = project.cached("compare", inputs, lambda: compare(project, parent.card, dataset, classes),
                                  tuple(project.overlay(s.key) for s in dataset.samples))
    report = {
        "segwb_version": __version__,
        "task": "semantic",
        **report_sections(project, parent, dataset, options, quantized, performance),
        "comparison": {**compared["comparison"],
                       "parent_precision": "f32", "optimized_precision": performance["optimized_precision"]},
        "ground_truth": compared["ground_truth"],
        "steps_cached": {"import": parent.cached, "quantize": quantized["cached"], "benchmark": performance["cached"],
                         "predict_parent": predicted["parent"]["cached"],
                         "predict_optimized": predicted["optimized"]["cached"], "compare": compared["cached"]},
        "report_seconds": report_seconds(predicted, compared, len(dataset), performance),
        "wall_seconds": time.perf_counter() - start,
    }
    write_json(project.report_json, report)
    write_report_html(report, project.report_html)
    return project.report_json
