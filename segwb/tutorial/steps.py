"""The tutorial's steps, each cached in the project: import the parent, quantize it with NNCF, benchmark both,
predict the dataset with each model. The task decides what a prediction is; the steps do not."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import openvino as ov

from ..core.compile import DEVICE, compile_model, compiled_properties, core
from ..core.errors import ModelError
from ..core.project import Project
from ..core.storage import file_digest, write_bytes
from ..inference.feed import InputFeed
from ..inference.preprocess import to_tensor
from ..io.datasets import Dataset, open_dataset
from ..io.images import load_image
from ..io.model_card import ModelCard, card_file
from ..io.model_file import ir_digest, source_digest
from ..measure.benchmark import benchmark
from ..optimize.accuracy_aware import check_target, prepare_validator
from ..optimize.quantize import PIPELINE_VERSION, quantize
from ..optimize.settings import METHODS
from ..report.schema import Report
from ..tasks import get as get_task
from ..tasks import load_card
from ..tasks.base import Progress, ReportJob
from ..tasks.model_import import import_model
from ..zoo import catalog as zoo
from .options import TutorialOptions

log = logging.getLogger("segwb")
BENCHMARK_ROUNDS = 2


@dataclass
class Parent:
    """The imported parent model."""

    xml: Path
    card: ModelCard
    digest: str
    note: str
    cached: bool


def resolve_model(spec: str | None, task: str) -> tuple[Path, dict[str, Any], str]:
    """A model file, zoo card fields (empty for a user's file) and a sentence about the choice."""
    if spec is None:
        _, path, card, note = zoo.obtain_first(get_task(task).zoo_defaults)
        return path, card, note
    if spec in zoo.ENTRIES and not Path(spec).exists():
        path, card = zoo.obtain(spec)
        return path, card, f"model: {spec} (zoo)"
    if not Path(spec).exists():
        raise ModelError(f"no such file or folder, and not a zoo model (zoo models: {', '.join(zoo.ENTRIES)})", spec)
    if not (Path(spec).is_file() or Path(spec).is_dir()):  # a device or a FIFO: hashing it would never end
        raise ModelError("not a regular file or folder", spec)
    return Path(spec), {}, f"model: {spec}"


def step_import(project: Project, options: TutorialOptions) -> Parent:
    """Import the parent model into the project as IR with its resolved card, for the options' task."""
    path, zoo_card, note = resolve_model(options.model, options.task)
    if options.model_card and not Path(options.model_card).is_file():
        raise ModelError("no such model card file", options.model_card)
    overrides = {**zoo_card, **options.card_overrides, "task": options.task}
    inputs = {"source": source_digest(path), "card": options.model_card and file_digest(options.model_card),
              "overrides": overrides, "openvino": ov.__version__}
    result = project.cached("import", inputs, lambda: {"digest": import_model(
        path, project.parent_xml, options.model_card, overrides).digest}, (project.parent_xml,))
    return Parent(project.parent_xml, load_card(card_file(project.parent_xml)), result["digest"], note, result["cached"])


def step_quantize(project: Project, parent: Parent, dataset: Dataset, options: TutorialOptions,
                  cancel: threading.Event | None = None) -> dict[str, Any]:
    """INT8 child model (cached per parent, dataset and settings)."""
    settings = options.quantize
    accuracy_aware = settings.method == "accuracy_aware"

    def run() -> dict[str, Any]:
        log.info("quantizing with NNCF, %s method (%s preset, subset %s of %d images)", settings.method,
                 settings.preset, settings.subset, len(dataset))
        validator = prepare_validator(parent.xml, parent.card, dataset, settings.target, options.limits,
                                      cancel) if accuracy_aware else None
        result = quantize(parent.xml, parent.card, dataset, settings, project.optimized_xml, cancel, validator)
        return {"subset_size": result.subset_size, "seconds": result.seconds, "size_before": result.size_before,
                "size_after": result.size_after, "settings": result.settings, "graph_fixes": result.graph_fixes,
                "accuracy_aware": result.accuracy_aware, "digest": ir_digest(project.optimized_xml)}

    if accuracy_aware:
        check_target(settings.target, dataset)
    # The card decides the calibration inputs (colour order, resize) and, for AccuracyAware, the classes compared.
    inputs = {"parent": parent.digest, "dataset": dataset.digest, "settings": settings.to_dict(), "nncf": _nncf_version(),
              "pipeline": PIPELINE_VERSION, "card": parent.card.to_dict()}
    if accuracy_aware:
        inputs.update(get_task(parent.card.task).prediction_settings(options.limits))
    result = project.cached("quantize", inputs, run, (project.optimized_xml,))
    card_path, parent_card = card_file(project.optimized_xml), card_file(parent.xml).read_bytes()
    if not card_path.exists() or card_path.read_bytes() != parent_card:
        write_bytes(card_path, parent_card)
    return result


def _nncf_version() -> str:
    import nncf

    return nncf.__version__


def benchmark_input(parent: Parent, dataset: Dataset) -> np.ndarray:
    """The first dataset image as the model's input tensor (filled once, as benchmark_app does)."""
    dtype = core().read_model(parent.xml).input(0).get_element_type().to_dtype()
    return to_tensor(load_image(dataset.samples[0].path), parent.card, dtype)[0]


def step_benchmark(project: Project, parent: Parent, optimized_digest: str, dataset: Dataset, seconds: float,
                   no_bf16: bool, cancel: threading.Event | None = None, optimized_f32_only: bool = False) -> dict[str, Any]:
    """Parent pinned to f32 (and at the default precision), INT8 under both; speedup = best INT8 / f32.

    ``optimized_f32_only`` keeps the INT8 model at the f32 hint: an AccuracyAware model's drop was validated
    there, and at the default hint its reverted layers would run in bf16.

    Each configuration runs in ``BENCHMARK_ROUNDS`` interleaved rounds of ``seconds / rounds`` and keeps its
    fastest round, so a burst of load from another process hits one round of one configuration, not the ratio.
    """
    def run() -> dict[str, Any]:
        tensor = benchmark_input(parent, dataset)
        runs: dict[str, Any] = {}
        plan = [("parent", parent.xml, "f32"), ("optimized_f32", project.optimized_xml, "f32")]
        if not no_bf16:
            plan += [("parent_default", parent.xml, None)]
            plan += [] if optimized_f32_only else [("optimized_default", project.optimized_xml, None)]
        rounds: dict[str, list[dict[str, Any]]] = {name: [] for name, _, _ in plan}
        for r in range(BENCHMARK_ROUNDS):
            for name, xml, precision in plan:
                log.info("benchmark %s (%s precision, round %d of %d, %.1f s)", name, precision or "default", r + 1,
                         BENCHMARK_ROUNDS, seconds / BENCHMARK_ROUNDS)
                rounds[name].append(benchmark(xml, tensor, precision, seconds / BENCHMARK_ROUNDS, cancel=cancel).to_dict())
        for name, measured in rounds.items():
            runs[name] = {**max(measured, key=lambda m: m["fps"]), "rounds_fps": [m["fps"] for m in measured]}
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
            "rounds": BENCHMARK_ROUNDS,
            "input_shape": list(tensor.shape),
        }

    inputs = {"parent": parent.digest, "optimized": optimized_digest, "seconds": seconds, "no_bf16": no_bf16,
              "rounds": BENCHMARK_ROUNDS, "openvino": ov.__version__, "optimized_f32_only": optimized_f32_only}
    return project.cached("benchmark", inputs, run)


def step_predict(job: ReportJob, role: str, xml: Path, digest: str, precision: str | None, feed: InputFeed,
                 progress: Progress | None = None, cancel: threading.Event | None = None) -> dict[str, Any]:
    """Every image predicted by ``role``'s model in exactly the configuration whose speed is reported."""
    def run() -> dict[str, Any]:
        log.info("predicting %d images with the %s model (%s precision)", len(job.images), role, precision or "default")
        start = time.perf_counter()
        compiled = compile_model(xml, precision, cached=True)
        extra = job.predict(compiled, role, feed, progress, cancel)
        return {"seconds": time.perf_counter() - start, "precision": precision or "default", **extra,
                "properties": compiled_properties(compiled)}

    inputs = {"model": digest, "dataset": job.dataset.digest, "precision": precision, "card": job.card.to_dict(),
              **job.predict_inputs()}
    return job.project.cached(f"predict-{role}", inputs, run, job.prediction_outputs(role))


def optimized_precision(performance: dict[str, Any]) -> str | None:
    """The precision hint of the fastest INT8 run (None = the CPU's default), used for its predictions too."""
    best = performance["optimized_precision"]
    return None if best == "default" else best


@dataclass
class SharedSteps:
    """What the import, quantize and benchmark steps left; ``stop`` is set when ``until`` ends the run there."""

    project: Project
    dataset: Dataset
    parent: Parent
    quantized: dict[str, Any]
    performance: dict[str, Any] | None
    stop: Path | None


def shared_steps(options: TutorialOptions, cancel: threading.Event | None, until: str) -> SharedSteps:
    """Open the project and dataset, then import, quantize and (unless ``until`` is "quantize") benchmark."""
    get_task(options.task)  # an unknown task fails before anything is read
    options.check()
    dataset = open_dataset(options.dataset, options.split)  # before the project folder exists: a bad dataset leaves none
    new = not Path(options.out).exists()
    project = Project(options.out)
    project.claim()
    try:
        parent = step_import(project, options)
        log.info("%s; dataset: %s (%s, %d images)", parent.note, dataset.root, dataset.layout, len(dataset))
        quantized = step_quantize(project, parent, dataset, options, cancel)
        if until == "quantize":
            project.release()
            return SharedSteps(project, dataset, parent, quantized, None, project.step_record("quantize"))
        performance = step_benchmark(project, parent, quantized["digest"], dataset, options.bench_seconds,
                                     options.no_bf16, cancel,
                                     optimized_f32_only=options.quantize.method == "accuracy_aware")
    except BaseException:
        if new:
            project.discard_if_empty()  # a model refused at import leaves no project folder behind (lock still held)
        project.release()
        raise
    if until == "benchmark":
        project.release()
        return SharedSteps(project, dataset, parent, quantized, performance, project.step_record("benchmark"))
    return SharedSteps(project, dataset, parent, quantized, performance, None)  # the caller releases the project


def report_sections(project: Project, parent: Parent, dataset: Dataset, options: TutorialOptions,
                    quantized: dict[str, Any], performance: dict[str, Any]) -> Report:
    """The parts of ``report.json`` every task shares: dataset, parent, optimized, performance."""
    return {
        "model_choice": parent.note,
        "dataset": {"path": dataset.location, "layout": dataset.layout, "images": len(dataset),
                    "annotated": dataset.annotated, "dropped": dataset.dropped},
        "parent": {"path": project.relative(parent.xml), "digest": parent.digest,
                   "size_bytes": parent.xml.with_suffix(".bin").stat().st_size, "card": parent.card.to_dict()},
        "optimized": {"path": project.relative(project.optimized_xml), "digest": quantized["digest"],
                      "size_bytes": quantized["size_after"],
                      "method": METHODS[options.quantize.method], "preset": options.quantize.preset,
                      "subset_size": quantized["subset_size"], "seconds": quantized["seconds"],
                      "settings": quantized["settings"], "graph_fixes": quantized["graph_fixes"],
                      "accuracy_aware": quantized.get("accuracy_aware")},
        "performance": {k: v for k, v in performance.items() if k not in ("cached", "key")},
    }


def report_seconds(predicted: dict[str, dict[str, Any]], compared: dict[str, Any], images: int,
                   performance: dict[str, Any]) -> dict[str, float]:
    """Time of the report's own steps (both predictions and the comparison) against its target: 1.25 x the
    time the slower model needs at its benchmarked throughput, plus 3 s."""
    parts = {"predict_parent": predicted["parent"]["seconds"], "predict_optimized": predicted["optimized"]["seconds"],
             "compare": compared["seconds"]}
    slower = min(performance["parent"]["fps"], performance["optimized"]["fps"])
    return {**parts, "total": sum(parts.values()), "target": 1.25 * images / slower + 3.0}
