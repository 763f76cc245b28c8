"""Semantic segmentation as a :class:`~segwb.tasks.base.Task`: class maps compared pixel by pixel, the parent's
map as the reference (workbench-behaviour §1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openvino as ov

from ...core.project import Project
from ...io.datasets import Dataset
from ...io.model_card import ModelCard
from ..base import (Column, Decoder, DetectionLimits, Fact, Metric, ReportJob, Section, Table, Task, Viewer,
                    percent, value)
from . import adapters
from .report_job import SemanticJob
from .validation import SemanticAgreement, annotated_part, semantic_truth
from .viewer import SemanticViewer

IMAGE = Column("image", "Image Name", numeric=False)


class SemanticTask(Task):
    name = "semantic"
    title = "Semantic segmentation"
    adapters = adapters.ADAPTERS
    zoo_defaults = ("deeplabv3", "selfie-segmentation")
    tables = {
        "basic": Table((IMAGE, Column("average_result", "Optimized Model Average Result"),
                        Column("pixel_agreement", "Pixel Agreement")), "average_result"),
        "advanced": Table((IMAGE, Column("class_id", "Class Predicted by Optimized Model", digits=0),
                           Column("class_name", "Class Name", numeric=False),
                           Column("result", "Optimized Model Result")), "result"),
    }
    runtime_module = "tasks/semantic/runtime.py"

    def recognise(self, model: ov.Model) -> dict[str, Any]:
        return adapters.recognise(model)

    def output_fields(self, model: ov.Model, fields: dict[str, Any], path: Path) -> dict[str, Any]:
        return adapters.output_fields(model, fields, path)

    def check_outputs(self, model: ov.Model, card: ModelCard, path: Path) -> None:
        adapters.check_outputs(model, card, path)

    def decoder(self, card: ModelCard, limits: DetectionLimits) -> Decoder:
        return adapters.decoder(card)

    def report_job(self, project: Project, dataset: Dataset, card: ModelCard, limits: DetectionLimits) -> ReportJob:
        return SemanticJob(project, dataset, card, limits)

    def validation_dataset(self, dataset: Dataset, card: ModelCard, xml: Path) -> Dataset:
        return annotated_part(dataset, card, adapters.output_classes(xml, card))

    def truth_metric(self, dataset: Dataset, card: ModelCard, xml: Path) -> Metric | str:
        return semantic_truth(dataset, card, adapters.output_classes(xml, card))

    def agreement_metric(self, parent: list[Any], card: ModelCard, xml: Path) -> Metric:
        return SemanticAgreement(parent, adapters.output_classes(xml, card))

    def headline(self, comparison: dict[str, Any]) -> float | None:
        return comparison.get("mean_average_result")

    def facts(self, comparison: dict[str, Any], ground_truth: dict[str, Any] | None) -> list[Fact]:
        found = [Fact("Mean Optimized Model Average Result", value(comparison.get("mean_average_result"))),
                 Fact("Mean pixel agreement", percent(comparison.get("mean_pixel_agreement")))]
        if comparison.get("agreement_mean_iou") is not None:  # reports before issue 19 have none
            found.append(Fact("Mean IoU of the optimized model, the parent model as the truth",
                              percent(comparison["agreement_mean_iou"])))
        if ground_truth:
            found.append(Fact(f"Mean IoU against the annotations ({ground_truth['images']} images), parent → optimized",
                              f"{percent(ground_truth['parent']['mean_iou'])} → "
                              f"{percent(ground_truth['optimized']['mean_iou'])}"))
        return found

    def method_notes(self, comparison: dict[str, Any]) -> list[str]:
        return [f"Reference: the parent model's predictions (no annotations needed); the parent ran at f32, the optimized "
                f"model at its {comparison.get('optimized_precision', 'benchmarked')} precision, as measured.",
                "Per image and class: IoU over the pixels where both maps hold a class, for every class present in "
                "either map; the image's Optimized Model Average Result is their mean. Unlike the original Workbench, "
                "values are not rounded to 2 decimals before averaging, and classes without a contour of 3 points "
                "keep their row. Rows are worst first.",
                "Mean IoU with the parent's maps as the truth: the ground truth's formula (one confusion matrix over "
                "all images) with the parent's predictions in place of the annotations, i.e. what the ground-truth "
                "mean IoU of the optimized model would be if the parent were perfect. The mean Average Result above "
                "weighs every image equally and counts a class a model puts on a few stray pixels as a 0 IoU, so it "
                "is usually the lower of the two."]

    def ground_truth_section(self, ground_truth: dict[str, Any] | None) -> Section:
        if not ground_truth:
            return Section("The dataset has no annotations: the parent model's predictions are the only reference.")
        parent, optimized = ground_truth["parent"]["per_class_iou"], ground_truth["optimized"]["per_class_iou"]
        rows = [(n, value(parent.get(n)), value(optimized.get(n))) for n in sorted(set(parent) | set(optimized))]
        notes = ([f"Dataset classes with no model class (counted as background, or ignored when the model has none): "
                  f"{', '.join(ground_truth['unmapped_classes'])}"] if ground_truth["unmapped_classes"] else [])
        if ground_truth.get("unreadable_masks"):
            notes.append("Left out (their masks do not decode): " + ", ".join(ground_truth["unreadable_masks"][:10]))
        if ground_truth.get("matched_by") == "index":
            notes.append("The model names no classes: dataset class i was matched to model class i (same class count).")
        if ground_truth.get("unknown_ids"):
            masks = ground_truth.get("unknown_id_masks") or []
            notes.append("Ignored: mask pixels with ids that are no dataset class nor void: "
                         + ", ".join(f"id {k} ({v} px)" for k, v in ground_truth["unknown_ids"].items())
                         + (f", in {', '.join(masks[:10])}{' ...' if len(masks) > 10 else ''}" if masks else ""))
        return Section(f"Mean IoU over {ground_truth['images']} annotated images (void pixels ignored): parent "
                       f"{percent(ground_truth['parent']['mean_iou'])}, optimized "
                       f"{percent(ground_truth['optimized']['mean_iou'])}.",
                       ("Class", "Parent IoU", "Optimized IoU"), rows, notes)

    def viewer(self, project: Project, report: dict[str, Any]) -> Viewer:
        return SemanticViewer(project, report)

    def runtime_outputs(self, settings: dict[str, Any]) -> str:
        return ("`<image stem>.png`: the class map at the image's original size, one class id per pixel "
                f"(8-bit, 16-bit past 256 classes), byte for byte what segwb saved in `predictions/{settings['role']}/`.")
