"""The semantic-segmentation tutorial, step by step: import → quantize → benchmark → predict → compare → report."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import openvino as ov

from . import __version__, zoo
from .benchmark import benchmark, compiled_properties
from .datasets import Dataset, load_image, load_mask, open_dataset
from .errors import ModelError
from .modelcard import ModelCard, load_card
from .models import card_file, import_model, ir_digest, select_output
from .overlays import save_png, semantic_overlay
from .predict import Progress, compile_model, load_class_map, predict_semantic, prediction_path
from .preprocess import to_tensor
from .project import Project
from .quantize import QuantizeSettings, quantize
from .report_html import write_report_html
from .runtime import DEVICE, core
from .semantic import num_classes
from .semantic_metrics import compare_maps, confusion_matrix, label_lut, mean_iou
from .storage import file_digest, files_digest, write_bytes, write_json

log = logging.getLogger("segwb")


@dataclass
class SemanticOptions:
    """Everything ``segwb tutorial semantic`` takes."""

    out: Path
    model: str | None = None  # zoo name or model path; None = the default zoo model
    model_card: str | None = None
    card_overrides: dict[str, Any] = field(default_factory=dict)
    dataset: str = "embedded"
    split: str | None = None
    quantize: QuantizeSettings = field(default_factory=QuantizeSettings)
    bench_seconds: float = 10.0
    no_bf16: bool = False


@dataclass
class Parent:
    """The imported parent model."""

    xml: Path
    card: ModelCard
    digest: str
    note: str
    cached: bool


def source_digest(path: Path) -> str:
    """Content hash of a user's model: an IR pair, a SavedModel folder or a single file."""
    if path.is_dir():
        return files_digest([p for p in path.rglob("*") if p.is_file()], root=path)
    if path.suffix.lower() == ".xml" and path.with_suffix(".bin").is_file():
        return files_digest([path, path.with_suffix(".bin")], root=path.parent)
    return file_digest(path)


def resolve_model(spec: str | None) -> tuple[Path, dict[str, Any], str]:
    """A model file, zoo card fields (empty for a user's file) and a sentence about the choice."""
    if spec is None:
        _, path, card, note = zoo.obtain_default_semantic()
        return path, card, note
    if spec in zoo.ENTRIES and not Path(spec).exists():
        path, card = zoo.obtain(spec)
        return path, card, f"model: {spec} (zoo)"
    if not Path(spec).exists():
        raise ModelError(f"no such file or folder, and not a zoo model (zoo models: {', '.join(zoo.ENTRIES)})", spec)
    return Path(spec), {}, f"model: {spec}"


def step_import(project: Project, options: SemanticOptions) -> Parent:
    """Import the parent model into the project as IR with its resolved card."""
    path, zoo_card, note = resolve_model(options.model)
    if options.model_card and not Path(options.model_card).is_file():
        raise ModelError("no such model card file", options.model_card)
    overrides = {**zoo_card, **options.card_overrides, "task": "semantic"}
    inputs = {"source": source_digest(path), "card": options.model_card and file_digest(options.model_card),
              "overrides": overrides, "openvino": ov.__version__}
    result = project.cached("import", inputs, lambda: {"digest": import_model(
        path, project.parent_xml, options.model_card, overrides).digest}, (project.parent_xml,))
    return Parent(project.parent_xml, load_card(card_file(project.parent_xml)), result["digest"], note, result["cached"])


def step_quantize(project: Project, parent: Parent, dataset: Dataset, settings: QuantizeSettings,
                  cancel: threading.Event | None = None) -> dict[str, Any]:
    """INT8 child model (cached per parent, dataset and settings)."""
    def run() -> dict[str, Any]:
        log.info("quantizing with NNCF (%s preset, subset %s of %d images)", settings.preset, settings.subset, len(dataset))
        result = quantize(parent.xml, parent.card, dataset, settings, project.optimized_xml, cancel)
        return {"subset_size": result.subset_size, "seconds": result.seconds, "size_before": result.size_before,
                "size_after": result.size_after, "settings": result.settings, "digest": ir_digest(project.optimized_xml)}

    inputs = {"parent": parent.digest, "dataset": dataset.digest, "settings": settings.to_dict(), "nncf": _nncf_version()}
    result = project.cached("quantize", inputs, run, (project.optimized_xml,))
    card_path = card_file(project.optimized_xml)
    if not card_path.exists():
        write_bytes(card_path, card_file(parent.xml).read_bytes())
    return result


def _nncf_version() -> str:
    import nncf

    return nncf.__version__


def benchmark_input(parent: Parent, dataset: Dataset) -> np.ndarray:
    """The first dataset image as the model's input tensor (filled once, as benchmark_app does)."""
    dtype = core().read_model(parent.xml).input(0).get_element_type().to_dtype()
    return to_tensor(load_image(dataset.samples[0].path), parent.card, dtype)[0]


def step_benchmark(project: Project, parent: Parent, optimized_digest: str, dataset: Dataset, seconds: float,
                   no_bf16: bool, cancel: threading.Event | None = None) -> dict[str, Any]:
    """Parent pinned to f32 (and at the default precision), INT8 under both; speedup = best INT8 / f32."""
    def run() -> dict[str, Any]:
        tensor = benchmark_input(parent, dataset)
        runs: dict[str, Any] = {}
        plan = [("parent", parent.xml, "f32"), ("optimized_f32", project.optimized_xml, "f32")]
        if not no_bf16:
            plan += [("parent_default", parent.xml, None), ("optimized_default", project.optimized_xml, None)]
        for name, xml, precision in plan:
            log.info("benchmark %s (%s precision, %.0f s)", name, precision or "default", seconds)
            runs[name] = benchmark(xml, tensor, precision, seconds, cancel=cancel).to_dict()
        candidates = [k for k in ("optimized_default", "optimized_f32") if k in runs]
        best = max(candidates, key=lambda k: runs[k]["fps"])
        return {
            "parent": runs["parent"],
            "parent_default": runs.get("parent_default"),
            "optimized": runs[best],
            "optimized_runs": {k.removeprefix("optimized_"): runs[k] for k in candidates},
            "optimized_precision": runs[best]["precision_requested"] or "default",
            "speedup": runs[best]["fps"] / runs["parent"]["fps"],
            "device": DEVICE, "openvino_version": ov.__version__, "seconds_per_run": seconds,
            "input_shape": list(tensor.shape),
        }

    inputs = {"parent": parent.digest, "optimized": optimized_digest, "seconds": seconds, "no_bf16": no_bf16,
              "openvino": ov.__version__}
    return project.cached("benchmark", inputs, run)


def step_predict(project: Project, role: str, xml: Path, card: ModelCard, digest: str, dataset: Dataset,
                 precision: str | None, progress: Progress | None = None,
                 cancel: threading.Event | None = None) -> dict[str, Any]:
    """Class maps of every image at its original size, from the configuration whose speed is reported."""
    folder = project.predictions(role)

    def run() -> dict[str, Any]:
        log.info("predicting %d images with the %s model (%s precision)", len(dataset), role, precision or "default")
        start = time.perf_counter()
        compiled = compile_model(xml, precision)
        predict_semantic(compiled, card, dataset, folder, progress, cancel)
        return {"seconds": time.perf_counter() - start, "precision": precision or "default",
                "properties": compiled_properties(compiled)}

    inputs = {"model": digest, "dataset": dataset.digest, "precision": precision, "card": card.to_dict()}
    return project.cached(f"predict-{role}", inputs, run, tuple(prediction_path(folder, s.key) for s in dataset.samples))


def compare(project: Project, card: ModelCard, dataset: Dataset, classes: int) -> dict[str, Any]:
    """Per-image rows (parent as reference), ground-truth IoU when annotated, and overlay pictures."""
    labels = card.labels or tuple(f"class {i}" for i in range(classes))
    basic, advanced = [], []
    annotated = [s for s in dataset.samples if s.annotation] if dataset.labels else []
    lut, unmapped = label_lut(dataset.labels, labels) if annotated else (None, [])
    cms = {role: np.zeros((classes, classes), dtype=np.int64) for role in ("parent", "optimized")}
    for sample in dataset.samples:
        parent = load_class_map(prediction_path(project.predictions("parent"), sample.key))
        optimized = load_class_map(prediction_path(project.predictions("optimized"), sample.key))
        result = compare_maps(parent, optimized, classes)
        overlay = project.overlays / f"{sample.key}.png"
        save_png(overlay, semantic_overlay(load_image(sample.path), parent, optimized, labels, result.pixel_agreement))
        basic.append({"image": sample.name, "average_result": result.average, "pixel_agreement": result.pixel_agreement,
                      "overlay": overlay.relative_to(project.root).as_posix()})
        advanced += [{"image": sample.name, "class_id": c, "class_name": card.label(c), "result": iou}
                     for c, iou in sorted(result.class_iou.items())]
        if lut is not None and sample.annotation:
            truth = lut[load_mask(sample.annotation)]
            cms["parent"] += confusion_matrix(truth, parent, classes)
            cms["optimized"] += confusion_matrix(truth, optimized, classes)
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
    }


def output_classes(xml: Path, card: ModelCard) -> int:
    """How many classes the model's adapter can produce."""
    out = select_output(core().read_model(xml), card.output, xml)
    return num_classes(card, tuple(out.get_partial_shape().get_min_shape()))


def run(options: SemanticOptions, progress: Progress | None = None, cancel: threading.Event | None = None,
        until: str = "report") -> Path:
    """Run the steps up to ``until`` ("quantize", "benchmark" or "report"), reusing cached ones.

    Returns ``report.json`` (after writing it and ``report.html``), or the last step's record.
    """
    start = time.perf_counter()
    project = Project(options.out)
    dataset = open_dataset(options.dataset, options.split)
    parent = step_import(project, options)
    log.info("%s; dataset: %s (%s, %d images)", parent.note, dataset.root, dataset.layout, len(dataset))
    quantized = step_quantize(project, parent, dataset, options.quantize, cancel)
    if until == "quantize":
        return project.step_record("quantize")
    performance = step_benchmark(project, parent, quantized["digest"], dataset, options.bench_seconds, options.no_bf16, cancel)
    if until == "benchmark":
        return project.step_record("benchmark")
    best = None if performance["optimized_precision"] == "default" else performance["optimized_precision"]
    predicted = {
        "parent": step_predict(project, "parent", parent.xml, parent.card, parent.digest, dataset, "f32", progress, cancel),
        "optimized": step_predict(project, "optimized", project.optimized_xml, parent.card, quantized["digest"], dataset,
                                  best, progress, cancel),
    }
    classes = output_classes(parent.xml, parent.card)
    inputs = {"parent": predicted["parent"]["key"], "optimized": predicted["optimized"]["key"], "classes": classes,
              "labels": list(parent.card.labels), "annotations": dataset.annotated}
    compared = project.cached("compare", inputs, lambda: compare(project, parent.card, dataset, classes),
                              tuple(project.overlays / f"{s.key}.png" for s in dataset.samples))
    report = {
        "segwb_version": __version__,
        "task": "semantic",
        "model_choice": parent.note,
        "dataset": {"path": str(dataset.root), "layout": dataset.layout, "images": len(dataset),
                    "annotated": dataset.annotated, "skipped": dataset.skipped},
        "parent": {"path": str(parent.xml), "digest": parent.digest, "size_bytes": parent.xml.with_suffix(".bin").stat().st_size,
                   "card": parent.card.to_dict()},
        "optimized": {"path": str(project.optimized_xml), "digest": quantized["digest"], "size_bytes": quantized["size_after"],
                      "method": "Default (NNCF post-training quantization)", "preset": options.quantize.preset,
                      "subset_size": quantized["subset_size"], "seconds": quantized["seconds"],
                      "settings": quantized["settings"]},
        "performance": {k: v for k, v in performance.items() if k not in ("cached", "key")},
        "comparison": {**compared["comparison"],
                       "parent_precision": "f32", "optimized_precision": performance["optimized_precision"]},
        "ground_truth": compared["ground_truth"],
        "steps_cached": {"import": parent.cached, "quantize": quantized["cached"], "benchmark": performance["cached"],
                         "predict_parent": predicted["parent"]["cached"],
                         "predict_optimized": predicted["optimized"]["cached"], "compare": compared["cached"]},
        "wall_seconds": time.perf_counter() - start,
    }
    write_json(project.report_json, report)
    write_report_html(report, project.report_html)
    return project.report_json
