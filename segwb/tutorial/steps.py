"""The tutorial's steps, each cached in the project: import the parent, quantize it with NNCF (or import the
optimized model the user gave), benchmark both, predict the dataset with each model. The task decides what a
prediction is; the steps do not."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import openvino as ov

from ..core.compile import DEFAULT_DEVICE, compile_model, compiled_properties
from ..core.devices import device_name, execution_devices
from ..core.errors import ModelError
from ..core.project import Project
from ..core.storage import file_digest, write_bytes
from ..inference.feed import InputFeed
from ..inference.queue import Progress
from ..inference.preprocess import to_tensor
from ..io.datasets import Dataset, open_dataset
from ..io.images import load_image
from ..io.model_card import ModelCard, card_file, side_files
from ..io.model_file import ir_digest, read_ir, source_digest
from ..io.model_inspect import image_input, port_name
from ..io.model_precision import precision_summary
from ..measure.benchmark import benchmark
from ..optimize.accuracy_aware import check_target, prepare_validator
from ..optimize.quantize import PIPELINE_VERSION, quantize
from ..optimize.settings import METHODS
from ..report.schema import OptimizedRecord, Report
from ..tasks import get as get_task
from ..tasks import load_card
from ..tasks.base import ReportJob
from ..tasks.model_import import IMPORT_VERSION, import_model, read_graph
from ..tasks.report_pass import report_pass
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
    precision: dict[str, Any]  # model_precision.precision_summary of the imported IR


def resolve_model(spec: str | None, task: str) -> tuple[Path, dict[str, Any], str]:
    """A model file, zoo card fields (empty for a user's file) and a sentence about the choice."""
    if spec is None:
        _, path, card, note = zoo.obtain_first(get_task(task).zoo_defaults)
        return path, card, note
    if spec.partition(":")[0] in zoo.ENTRIES and not Path(spec).exists():  # NAME or NAME:PRECISION
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
              "beside": {f.name: file_digest(f) for f in side_files(path)}, "import": IMPORT_VERSION,
              "overrides": overrides, "openvino": ov.__version__}
    def refuse_quantized(model: ov.Model) -> None:
        # NNCF over FakeQuantize or int8 weights quantizes what is already rounded: no meaningful INT8 comes of it.
        found = precision_summary(model)
        if found["quantized"] and options.optimized is None:
            raise ModelError(f"is already quantized ({found['description']}); segwb will not quantize it again. "
                             f"Compare it as the optimized model instead: --model <its f32 parent> --optimized {path}",
                             path)

    result = project.cached("import", inputs, lambda: {"digest": import_model(
        path, project.parent_xml, options.model_card, overrides, refuse_quantized).digest}, (project.parent_xml,))
    parent_model = read_ir(project.parent_xml)
    refuse_quantized(parent_model)  # an import cached by a run with --optimized
    precision = precision_summary(parent_model)
    return Parent(project.parent_xml, load_card(card_file(project.parent_xml)), result["digest"], note, result["cached"],
                  precision)


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
                "accuracy_aware": result.accuracy_aware, "bias_correction_images": result.bias_correction_images,
                "digest": ir_digest(project.optimized_xml)}

    if accuracy_aware:
        check_target(settings.target, dataset)
    # The card decides the calibration inputs (colour order, resize) and, for AccuracyAware, the classes compared.
    inputs = {"parent": parent.digest, "dataset": dataset.digest, "settings": settings.to_dict(), "nncf": _nncf_version(),
              "pipeline": PIPELINE_VERSION, "card": parent.card.to_dict()}
    if accuracy_aware:
        from ..optimize.accuracy_aware import VERSION  # how its metrics and NNCF drive are defined: part of the key

        inputs.update(get_task(parent.card.task).prediction_settings(options.limits), accuracy_aware=VERSION)
    result = project.cached("quantize", inputs, run, (project.optimized_xml,))
    _parent_card_beside_optimized(project, parent)
    return result


def _parent_card_beside_optimized(project: Project, parent: Parent) -> None:
    """The optimized model is described by the parent's card (the report reads both models with one card)."""
    card_path, parent_card = card_file(project.optimized_xml), card_file(parent.xml).read_bytes()
    if not card_path.exists() or card_path.read_bytes() != parent_card:
        write_bytes(card_path, parent_card)


def check_same_input(given: ov.Model, parent: Parent, path: Path) -> None:
    """The given model takes the parent's input (layout, size, element type): both are fed the same tensors.
    A dynamic dimension is fine: the import fixes it to the parent card's size."""
    got, want = image_input(given, path), read_ir(parent.xml).input(0)
    shape, wanted = got.get_partial_shape(), want.get_partial_shape()
    fits = got.get_element_type() == want.get_element_type() and shape.rank == wanted.rank and all(
        d.is_dynamic or d.get_length() == w.get_length() for d, w in zip(shape, wanted))
    if not fits:
        raise ModelError(f"does not take the parent's input: '{port_name(got, 0, 'input')}' is "
                         f"{got.get_element_type().get_type_name()} {shape}, the parent's is "
                         f"{want.get_element_type().get_type_name()} {wanted} ({parent.card.layout}); "
                         "the two models are fed the same tensors", path)


def given_path(spec: str) -> Path:
    """The ``--optimized`` model file (or SavedModel folder), checked before anything is written."""
    path = Path(spec)
    if not path.exists():
        raise ModelError("no such file or folder (--optimized)", path)
    if not (path.is_file() or path.is_dir()):  # a device or a FIFO: hashing it would never end
        raise ModelError("not a regular file or folder (--optimized)", path)
    return path


def step_given(project: Project, parent: Parent, path: Path) -> dict[str, Any]:
    """The optimized model the user gave (``--optimized``), imported with the parent's card in place of NNCF's INT8;
    cached per file, path and parent card."""
    digest = source_digest(path)
    card = parent.card.to_dict()

    def run() -> dict[str, Any]:
        start = time.perf_counter()
        given, _ = read_graph(path)  # as the import will read it: batch axis, TFLite integer I/O made real
        check_same_input(given, parent, path)
        precision = precision_summary(given)
        log.info("optimized model given: %s (%s); NNCF skipped", path, precision["description"])
        try:
            imported = import_model(path, project.optimized_xml, None, card)
        except ModelError as exc:
            raise ModelError(f"does not fit the parent's model card (adapter {card['adapter']}): {exc.reason}",
                             exc.path or path) from exc
        return {"source": "given", "given": {"path": str(path.resolve()), "digest": digest}, "precision": precision,
                "seconds": time.perf_counter() - start, "size_before": parent.xml.with_suffix(".bin").stat().st_size,
                "size_after": project.optimized_xml.with_suffix(".bin").stat().st_size, "digest": imported.digest}

    inputs = {"given": digest, "path": str(path.resolve()), "card": card, "import": IMPORT_VERSION,
              "openvino": ov.__version__}
    result = project.cached("quantize", inputs, run, (project.optimized_xml,))
    _parent_card_beside_optimized(project, parent)
    if result["digest"] == parent.digest:
        log.info("the optimized model is the parent itself: the report compares a model with itself")
    return result


def _nncf_version() -> str:
    import nncf

    return nncf.__version__


def benchmark_input(parent: Parent, dataset: Dataset) -> np.ndarray:
    """The first dataset image as the model's input tensor (filled once, as benchmark_app does)."""
    dtype = read_ir(parent.xml).input(0).get_element_type().to_dtype()
    return to_tensor(load_image(dataset.samples[0].path), parent.card, dtype)[0]


def step_benchmark(project: Project, parent: Parent, optimized_digest: str, dataset: Dataset, seconds: float,
                   no_bf16: bool, cancel: threading.Event | None = None, optimized_f32_only: bool = False,
                   device: str = DEFAULT_DEVICE) -> dict[str, Any]:
    """Parent pinned to f32 (and at ``device``'s default precision), INT8 under both; speedup = best INT8 / f32.

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
                rounds[name].append(benchmark(xml, tensor, precision, seconds / BENCHMARK_ROUNDS, cancel=cancel,
                                              device=device).to_dict())
        for name, measured in rounds.items():
            runs[name] = {**max(measured, key=lambda m: m["fps"]), "rounds_fps": [m["fps"] for m in measured]}
        candidates = [k for k in ("optimized_default", "optimized_f32") if k in runs]
        best = max(candidates, key=lambda k: runs[k]["fps"])
        # What ran, as the compiled models say (AUTO picks a device per model; MULTI may use several).
        executing = list(dict.fromkeys(d for r in runs.values() for d in execution_devices(r["properties"])))
        return {
            "parent": runs["parent"],
            "parent_default": runs.get("parent_default"),
            "optimized": runs[best],
            "optimized_runs": {k.removeprefix("optimized_"): runs[k] for k in candidates},
            "optimized_precision": runs[best]["precision_requested"] or "default",
            "speedup": runs[best]["fps"] / runs["parent"]["fps"],
            "device": device, "device_name": device_name(device, executing), "execution_devices": executing,
            "openvino_version": ov.__version__, "seconds_per_run": seconds,
            "rounds": BENCHMARK_ROUNDS,
            "input_shape": list(tensor.shape),
        }

    inputs = {"parent": parent.digest, "optimized": optimized_digest, "seconds": seconds, "no_bf16": no_bf16,
              "rounds": BENCHMARK_ROUNDS, "openvino": ov.__version__, "optimized_f32_only": optimized_f32_only,
              "device": device}
    return project.cached("benchmark", inputs, run)


@dataclass
class Model:
    """One of the two models the report runs: its IR, digest and the precision hint its speed was measured at."""

    xml: Path
    digest: str
    precision: str | None


def step_report(job: ReportJob, models: dict[str, Model], feed: InputFeed, progress: Progress | None = None,
                cancel: threading.Event | None = None, device: str = DEFAULT_DEVICE
                ) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Both models' predictions (``predict-<role>`` steps) and their comparison (the ``compare`` step), each cached;
    what is missing is made in one pass (:func:`segwb.tasks.report_pass.report_pass`), every image predicted in
    exactly the configuration (device, precision) whose speed is reported. Returns the prediction records and the
    comparison record (with the pass's wall time)."""
    project = job.project
    looked = {role: project.lookup(f"predict-{role}", _predict_inputs(job, model, device), job.prediction_outputs(role))
              for role, model in models.items()}
    compare_inputs = {**{role: key for role, (key, _) in looked.items()}, **job.compare_inputs()}
    compare_key, compared = project.lookup("compare", compare_inputs)
    if compared is not None and not _overlays_present(project, compared):
        compared = None  # its pictures were deleted: draw them again
    todo = [role for role, (_, record) in looked.items() if record is None]
    if not todo and compared is not None:
        return {role: record for role, (_, record) in looked.items()}, compared  # type: ignore[misc]
    compiled = {}
    for role in todo:
        log.info("predicting %d images with the %s model (%s precision)", len(job.images), role,
                 models[role].precision or "default")
        compiled[role] = compile_model(models[role].xml, models[role].precision, cached=True, device=device)
    if not todo:
        log.info("comparing the saved predictions of %d images", len(job.images))
    try:
        done = report_pass(job, compiled, feed, progress, cancel,
                           "prediction cancelled; nothing was recorded, the next run predicts again")
    except ModelError as exc:  # report_pass names the model whose output was refused: add its file
        role = next((r for r in todo if exc.reason.startswith(f"the {r} model")), None)
        if exc.path is not None or role is None:
            raise
        raise ModelError(exc.reason, models[role].xml) from exc
    predicted = {}
    for role, (key, record) in looked.items():
        if record is None:
            record = project.store(f"predict-{role}", key, _predict_inputs(job, models[role], device), {
                "seconds": done.model_seconds[role], "precision": models[role].precision or "default",
                **done.extras[role], "properties": compiled_properties(compiled[role])})
        predicted[role] = record
    compared = project.store("compare", compare_key, compare_inputs,
                             {**done.compared, "seconds": done.compare_tail, "pass_seconds": done.total})
    return predicted, compared


def _overlays_present(project: Project, compared: dict[str, Any]) -> bool:
    """Whether every overlay picture a stored comparison names is there."""
    return all((project.root / row["overlay"]).is_file() for row in compared["comparison"]["basic"] if "overlay" in row)


def _predict_inputs(job: ReportJob, model: Model, device: str) -> dict[str, Any]:
    """What decides one model's predictions (their cache key)."""
    return {"model": model.digest, "dataset": job.dataset.digest, "precision": model.precision, "card": job.card.to_dict(),
            "device": device, **job.predict_inputs()}


def optimized_precision(performance: dict[str, Any]) -> str | None:
    """The precision hint of the fastest INT8 run (None = the device's default), used for its predictions too."""
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
    given = given_path(options.optimized) if options.optimized is not None else None
    new = not Path(options.out).exists()
    project = Project(options.out)
    project.claim()
    try:
        parent = step_import(project, options)
        log.info("%s; dataset: %s (%s, %d images)", parent.note, dataset.root, dataset.layout, len(dataset))
        quantized = (step_given(project, parent, given) if given is not None
                     else step_quantize(project, parent, dataset, options, cancel))
        if until == "quantize":
            project.release()
            return SharedSteps(project, dataset, parent, quantized, None, project.step_record("quantize"))
        performance = step_benchmark(project, parent, quantized["digest"], dataset, options.bench_seconds,
                                     options.no_bf16, cancel,
                                     optimized_f32_only=options.quantize.method == "accuracy_aware",
                                     device=options.device)
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
                   "size_bytes": parent.xml.with_suffix(".bin").stat().st_size, "card": parent.card.to_dict(),
                   "precision": parent.precision},
        "optimized": optimized_section(project, options, quantized),
        "performance": {k: v for k, v in performance.items() if k not in ("cached", "key")},
    }


def optimized_section(project: Project, options: TutorialOptions, quantized: dict[str, Any]) -> OptimizedRecord:
    """Where the optimized model came from (segwb's NNCF run, or the file given with ``--optimized``) and what it is."""
    common: OptimizedRecord = {"path": project.relative(project.optimized_xml), "digest": quantized["digest"],
                               "size_bytes": quantized["size_after"], "seconds": quantized["seconds"],
                               "precision": quantized.get("precision")
                               or precision_summary(read_ir(project.optimized_xml))}
    if quantized.get("source") == "given":
        return {**common, "source": "given", "given": quantized["given"]}
    return {**common, "source": "segwb", "method": METHODS[options.quantize.method], "preset": options.quantize.preset,
            "subset_size": quantized["subset_size"], "settings": quantized["settings"],
            "graph_fixes": quantized["graph_fixes"], "accuracy_aware": quantized.get("accuracy_aware"),
            "bias_correction_images": quantized.get("bias_correction_images")}


def report_seconds(predicted: dict[str, dict[str, Any]], compared: dict[str, Any], images: int,
                   performance: dict[str, Any]) -> dict[str, float]:
    """Time of the report's own steps against its target: both models' inference at their benchmarked throughput
    (they share two cores, so their times add up) plus 10 %, plus 3 s (issue 19).

    ``total`` is the wall time of the pass that made the comparison: its parts overlap (the comparison runs beside
    the inference; ``compare`` is what was left after the last inference). Comparisons recorded before the pass
    existed have only their parts, which ran one after the other."""
    parts = {"predict_parent": predicted["parent"]["seconds"], "predict_optimized": predicted["optimized"]["seconds"],
             "compare": compared["seconds"]}
    bound = images / performance["parent"]["fps"] + images / performance["optimized"]["fps"]
    return {**parts, "total": compared.get("pass_seconds", sum(parts.values())), "target": 1.1 * bound + 3.0}
