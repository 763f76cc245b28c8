"""Instance segmentation as a :class:`~segwb.tasks.base.Task`: detections matched one-to-one by mask IoU, the
parent's detections as the reference (workbench-behaviour §2)."""

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
from .report_job import InstanceJob
from .validation import InstanceAgreement, instance_truth
from .viewer import InstanceViewer

IMAGE = Column("image", "Image Name", numeric=False)
A = Column("optimized_detections", "A. Optimized Model Detections", digits=0)
B = Column("parent_detections", "B. Parent Model Detections", digits=0)
M = Column("matches", "Matches between A and B", digits=0)


class InstanceTask(Task):
    name = "instance"
    title = "Instance segmentation"
    adapters = adapters.ADAPTERS
    zoo_defaults = ("instance-segmentation-security-0002",)
    tables = {
        "basic": Table((IMAGE, A, B, M, Column("agreement", "Agreement 2M/(A+B)")), "agreement"),
        "advanced": Table((IMAGE, Column("class_id", "Class Predicted by Optimized Model", digits=0),
                           Column("class_name", "Class Name", numeric=False), A, B, M,
                           Column("average_precision", "Predicted Class Average Precision"),
                           Column("precision", "Predicted Class Precision")), "average_precision"),
    }
    runtime_module = "tasks/instance/runtime.py"
    runtime_requirements = ("pycocotools",)

    def recognise(self, model: ov.Model) -> dict[str, Any]:
        return adapters.recognise(model)

    def output_fields(self, model: ov.Model, fields: dict[str, Any], path: Path) -> dict[str, Any]:
        return adapters.output_fields(model, fields, path)

    def check_outputs(self, model: ov.Model, card: ModelCard, path: Path) -> None:
        adapters.check_outputs(model, card, path)

    def decoder(self, card: ModelCard, limits: DetectionLimits) -> Decoder:
        return adapters.decoder(card, limits.min_score, limits.max_detections)

    def report_job(self, project: Project, dataset: Dataset, card: ModelCard, limits: DetectionLimits) -> ReportJob:
        return InstanceJob(project, dataset, card, limits)

    def prediction_settings(self, limits: DetectionLimits) -> dict[str, Any]:
        return {"detections": limits.to_dict()}

    def truth_metric(self, dataset: Dataset, card: ModelCard, xml: Path) -> Metric | str:
        return instance_truth(dataset, card)

    def agreement_metric(self, parent: list[Any], card: ModelCard, xml: Path) -> Metric:
        return InstanceAgreement(parent)

    def headline(self, comparison: dict[str, Any]) -> float | None:
        return comparison.get("f1")

    def facts(self, comparison: dict[str, Any], ground_truth: dict[str, Any] | None) -> list[Fact]:
        found = [Fact("Matches between A and B",
                      f"{comparison['matches']} of {comparison['parent_detections']} parent detections "
                      f"({percent(comparison.get('matches_over_parent'))}) and of {comparison['optimized_detections']} "
                      f"optimized ({percent(comparison.get('matches_over_optimized'))}), score ≥ {comparison['min_score']}"),
                 Fact("F1 of matches between A and B", percent(comparison.get("f1"))),
                 Fact("Mean Predicted Class Average Precision", value(comparison.get("mean_average_precision")))]
        if ground_truth:
            for key, name in (("mask_ap", "mask AP"), ("box_ap", "box AP")):
                found.append(Fact(f"COCO {name} against the annotations ({ground_truth['images']} images), "
                                  "parent → optimized",
                                  f"{percent(ground_truth['parent'].get(key))} → {percent(ground_truth['optimized'].get(key))}"))
        return found

    def method_notes(self, comparison: dict[str, Any]) -> list[str]:
        return [f"Reference: the parent model's detections (no annotations needed); the parent ran at f32, the optimized "
                f"model at its {comparison.get('optimized_precision', 'benchmarked')} precision, as measured.",
                f"Both sides keep detections with score ≥ {comparison['min_score']} (the original dropped parent detections "
                "below 0.1 and relied on Mask R-CNN's own cut for the optimized model; models that emit every candidate "
                f"need the cut on both sides), at most {comparison['max_detections']} per image. Matching is per class "
                f"on mask IoU ≥ {comparison['iou_threshold']}, greedy by descending optimized score, strictly one-to-one "
                "(the original could match a parent instance twice).",
                "Average precision: COCO-style, IoU 0.50:0.95, 101 recall points, N/A when the parent has none of the "
                "class; precision = Matches / A. Advanced rows only where A > 0. Rows are worst first; unmatched "
                "instances are outlined in red in the overlays."]

    def ground_truth_section(self, ground_truth: dict[str, Any] | None) -> Section:
        if not ground_truth:
            return Section("The dataset has no annotations: the parent model's detections are the only reference.")
        def points(role: str, key: str) -> str:
            ap = ground_truth[role].get(key)
            return value(None if ap is None else 100 * ap, 2)

        rows = [(role, points(role, "mask_ap"), points(role, "mask_ap50"), points(role, "box_ap"))
                for role in ("parent", "optimized")]
        notes = [f"{what}: {', '.join(names)}" for what, names in (
            ("Dataset categories no model class maps to (not evaluated)", ground_truth["unmapped_dataset_classes"]),
            ("Model classes with no dataset category (their detections are not evaluated)",
             ground_truth["unmapped_model_classes"])) if names]
        return Section(f"COCO evaluation (faster-coco-eval) over {ground_truth['images']} images and "
                       f"{ground_truth['categories_evaluated']} categories matched by name, on exactly the saved predictions.",
                       ("Model", "mask AP (%)", "mask AP50 (%)", "box AP (%)"), rows, notes)

    def table_rows(self, comparison: dict[str, Any], mode: str) -> list[dict[str, Any]]:
        rows = super().table_rows(comparison, mode)
        if mode == "basic":
            for r in rows:  # reports written before the instance tutorial stored it: the same definition
                if "agreement" not in r:
                    a, b, m = r["optimized_detections"], r["parent_detections"], r["matches"]
                    r["agreement"] = 2 * m / (a + b) if a + b else None
        return rows

    def viewer(self, project: Project, report: dict[str, Any]) -> Viewer:
        return InstanceViewer(project, report)

    def runtime_settings(self, comparison: dict[str, Any]) -> dict[str, Any]:
        return {k: comparison[k] for k in ("min_score", "max_detections")}

    def runtime_outputs(self, settings: dict[str, Any]) -> str:
        return ("`<image stem>.json`: the image's size and its detections, highest score first, each with `class_id`, "
                "`label`, `score`, `bbox` [x, y, width, height] in original pixels and `segmentation` (COCO RLE of the "
                f"full-size mask), as in the project's `predictions/{settings['role']}.json`; detections below score "
                f"{settings.get('min_score')} are dropped, at most {settings.get('max_detections')} per image.")
