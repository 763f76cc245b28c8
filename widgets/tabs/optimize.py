"""Optimize (INT8): the method (Default or AccuracyAware) and its settings, or an optimized model the user already
has, the run buttons, what quantization did, and the two methods' results side by side. It provides the form's TutorialOptions to the other tabs."""

from __future__ import annotations

import json
import os
from typing import Any

import ipywidgets as w

from segwb.core.compile import DEFAULT_DEVICE
from segwb.core.devices import device_choices
from segwb.core.errors import SegwbError
from segwb.optimize.settings import (MAX_DROP_RANGE, METHODS, PATIENCE, PRESETS, AccuracyTarget, QuantizeSettings,
                                     check_drop, subset_size)
from segwb.io.uploads import save_model_upload
from segwb.report.html import accuracy_aware_html, graph_fixes_html
from segwb.tutorial.options import UNTIL, TutorialOptions
from segwb.tutorial.run import run

from ..common import escape, input_error_html, note_html, ok_html, one_line, take_upload
from ..methods import method_name, methods_html
from ..picker import ModelDataPicker
from ..runner import Job
from ..state import DashboardState, Results, project_folder, read_report

TITLE = "Optimize (INT8)"
STEPS = {"quantize": "Optimize (INT8)", "benchmark": "Benchmark", "report": "Accuracy report"}
PRESET_NAMES = {"performance": "Performance (symmetric)", "mixed": "Mixed (asymmetric activations)"}
SOURCES = [("Quantize the parent with NNCF", "nncf"), ("Use an optimized model I already have", "given")]
assert set(STEPS) == set(UNTIL) and set(PRESET_NAMES) == set(PRESETS)


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def quantize_html(q: dict[str, Any]) -> str:
    """What the quantize step recorded: calibration, time, sizes, settings, graph rewrites, AccuracyAware; or, for a
    given optimized model, where it came from and what it is."""
    if q.get("source") == "given":
        return (f'<p class="segwb-quantized">Optimized model given: {escape(q["given"]["path"])} '
                f'({escape(q["precision"]["description"])}), imported with the parent\'s model card in '
                f'{q["seconds"]:.1f} s; not quantized by segwb. Weights {q["size_before"] / 1e6:.1f} MB → '
                f'{q["size_after"] / 1e6:.1f} MB.</p>')
    return (f'<p class="segwb-quantized">INT8 model ready: {escape(str(q["subset_size"]))} calibration images, '
            f'{q["seconds"]:.1f} s, weights {q["size_before"] / 1e6:.1f} MB → {q["size_after"] / 1e6:.1f} MB; '
            f'settings {escape(json.dumps(q["settings"]))}.</p>' + graph_fixes_html(q.get("graph_fixes", []))
            + accuracy_aware_html(q.get("accuracy_aware")))


class OptimizeTab:
    """The Workbench's INT8 settings and the three run buttons (each runs any missing earlier step)."""

    title = TITLE

    def __init__(self, state: DashboardState, picker: ModelDataPicker) -> None:
        self.state, self.picker = state, picker
        self.preset = w.Dropdown(options=[(PRESET_NAMES[p], p) for p in PRESETS], value="performance", description="Preset")
        self.subset = w.Text(value=os.environ.get("SEGWB_DASHBOARD_SUBSET", "100%"), description="Subset size",
                             placeholder="300 or 50%")
        self.fast_bias = w.Checkbox(value=QuantizeSettings.fast_bias_correction, description="Fast bias correction", indent=False)
        self.graph_fixes = w.Checkbox(value=QuantizeSettings.graph_fixes, indent=False, layout=w.Layout(width="auto"),
                                      description="Graph rewrites around NNCF (weight folding, arg-max tail layout)")
        self.ignored = w.Text(description="Ignore layers", style={"description_width": "initial"},
                              placeholder="names, comma-separated (ignored scope)", layout=w.Layout(width="560px"))
        self.method = w.Dropdown(options=[(method_name(m), m) for m in METHODS], value="default", description="Method")
        # A plain FloatText: a bounded one would clamp a bad value silently instead of saying what is wrong.
        self.max_drop = w.FloatText(value=AccuracyTarget.max_drop, description="Max accuracy drop",
                                    style={"description_width": "initial"}, layout=w.Layout(width="220px"))
        self.drop_type = w.Dropdown(options=[("points (absolute)", "absolute"), ("% of the parent's (relative)", "relative")],
                                    value="absolute", layout=w.Layout(width="220px"))
        self.metric = w.Dropdown(options=[("Auto: annotations if they cover the model's classes", "auto"),
                                          ("Ground truth: mean IoU / mask AP (annotations)", "ground_truth"),
                                          ("Agreement with the parent (no annotations)", "agreement")],
                                 value="auto", description="Metric", layout=w.Layout(width="460px"))
        self.max_iterations = w.IntText(value=AccuracyTarget.max_iterations, description="Max revert steps (0: no cap)",
                                        style={"description_width": "initial"}, layout=w.Layout(width="260px"))
        low, high = MAX_DROP_RANGE
        self.accuracy_box = w.VBox([w.HBox([self.max_drop, self.drop_type, self.max_iterations]), self.metric, w.HTML(note_html(
            f"NNCF quantizes everything, ranks groups of layers by their share of the metric's drop and reverts the "
            f"worst to floating point until the drop is at most the maximum ({low:g}–{high:g}). Without annotations, "
            "the metric is agreement with the parent: the ground truth's formula (mean IoU, or COCO mask AP) with the "
            "parent's predictions as the truth. The INT8 model then runs at the f32 hint, where its drop was "
            "validated. The groups are ranked once; a step that does not lower the drop is undone and the next group "
            f"is tried, and {PATIENCE} undone steps in a row end the run. Each step validates every image: cap the "
            "steps to bound the time (the result is the best model validated)."))])
        self.bench_seconds = w.BoundedFloatText(value=_env_float("SEGWB_DASHBOARD_BENCH_SECONDS", 10.0), min=0.1, max=300,
                                                step=0.5, description="Benchmark seconds per configuration",
                                                style={"description_width": "initial"})
        self.no_bf16 = w.Checkbox(value=False, description="Skip the default-precision (bf16) runs", indent=False)
        self.device = w.Dropdown(options=device_choices(), value=DEFAULT_DEVICE, description="Device",
                                 layout=w.Layout(width="560px"),
                                 tooltip="OpenVINO device of the benchmark and the predictions (NNCF runs on the CPU)")
        self.buttons = {until: w.Button(description=f"{i}. {label}", button_style="primary" if until == "report" else "",
                                        layout=w.Layout(width="220px"))
                        for i, (until, label) in enumerate(STEPS.items(), start=1)}
        for until, button in self.buttons.items():
            button.add_class(f"segwb-run-{until}")
            button.on_click(lambda _, u=until: self.run_step(u))
        self.source = w.RadioButtons(options=SOURCES, value="nncf", description="Optimized model",
                                     style={"description_width": "initial"}, layout=w.Layout(width="auto"))
        self.given_path = w.Text(placeholder="/path/to/optimized model.xml | .onnx | .tflite | .pb",
                                 description="Optimized model file", style={"description_width": "initial"},
                                 layout=w.Layout(width="560px"))
        self.given_upload = w.FileUpload(accept=".xml,.bin,.onnx,.tflite,.pb", multiple=True,
                                         description="Upload optimized model")
        self.given_upload.add_class("segwb-optimized-upload")
        self.given_upload.observe(lambda _: self._given_uploaded(), "value")
        self.given_message = w.HTML("")
        self.given_box = w.VBox([w.HTML(note_html(
            "An INT8 or FP16 export of the parent (Ultralytics int8=True, an Open Model Zoo FP16-INT8 IR, one made with "
            "NNCF elsewhere), or a pruned model: compared with the parent as the optimized model, NNCF is skipped. It "
            "must take the parent's input and give outputs its model card reads.")),
            w.HBox([self.given_path, self.given_upload]), self.given_message])
        self.form_message = w.HTML("")
        self.optimize_info = w.HTML("")
        self.methods = w.HTML("")
        self.nncf_box = w.VBox([self.method, self.accuracy_box, w.HBox([self.preset, self.subset]), self.fast_bias,
                                self.graph_fixes, self.ignored])
        self.widget = w.VBox([
            w.HTML(note_html("NNCF post-training quantization: the Default method, or AccuracyAware. Each step is "
                             "cached in the project folder: running a later step runs any missing earlier one.")),
            self.source, self.given_box, self.nncf_box, self.no_bf16,
            self.bench_seconds, self.device, w.HBox(list(self.buttons.values())), self.form_message, self.optimize_info,
            w.HTML("<h3>Default vs AccuracyAware</h3>"), self.methods])
        self._settings = {"preset": self.preset, "subset": self.subset, "fast_bias": self.fast_bias,
                          "graph_fixes": self.graph_fixes, "ignored": self.ignored, "method": self.method,
                          "max_drop": self.max_drop, "drop_type": self.drop_type, "metric": self.metric,
                          "max_iterations": self.max_iterations, "bench_seconds": self.bench_seconds,
                          "no_bf16": self.no_bf16, "source": self.source, "given_path": self.given_path, "device": self.device}
        self._show_accuracy_box()
        self._show_source()
        self.method.observe(lambda _: self._method_changed(), "value")
        self.source.observe(lambda _: self._source_changed(), "value")
        state.provide_options(self.options)
        state.keep_settings("optimize", self.settings, self.restore)
        state.on_results(self.show)
        state.runner.on_busy(self._busy)

    # --- the form --------------------------------------------------------------------------------

    def quantize_settings(self) -> QuantizeSettings:
        """The INT8 settings of the form, checked: a bad value raises SegwbError with a one-line message."""
        ignored = tuple(n.strip() for n in self.ignored.value.split(",") if n.strip())
        settings = QuantizeSettings(method=self.method.value, max_drop=float(self.max_drop.value),
                                    drop_type=self.drop_type.value, metric=self.metric.value,
                                    max_iterations=int(self.max_iterations.value), preset=self.preset.value,
                                    subset=self.subset.value.strip() or "100%", fast_bias_correction=self.fast_bias.value,
                                    ignored_names=ignored, graph_fixes=self.graph_fixes.value)
        subset_size(settings.subset, 1)  # checks the syntax now, not after the model was imported
        if settings.method == "accuracy_aware":
            check_drop(settings.target)
        return settings

    def options(self) -> TutorialOptions:
        """TutorialOptions from the form (this tab and the Model & data tab)."""
        model, card, overrides = self.picker.model_spec()
        dataset = self.picker.dataset_spec()
        optimized = self.given_spec()
        settings = self.quantize_settings() if optimized is None else QuantizeSettings()  # NNCF does not run
        task = self.picker.task.value
        out = project_folder(self.state.root, task, model, card, overrides, dataset, settings.method, optimized)
        return TutorialOptions(out=out, task=task, model=model, model_card=card, card_overrides=overrides, dataset=dataset,
                               optimized=optimized,
                               quantize=settings, bench_seconds=float(self.bench_seconds.value), no_bf16=self.no_bf16.value,
                               device=self.device.value)

    def given_spec(self) -> str | None:
        """The optimized model the user has (``--optimized``), or None when NNCF quantizes the parent."""
        if self.source.value != "given":
            return None
        path = self.given_path.value.strip()
        if not path:
            raise SegwbError("no optimized model given: type its path or upload it, or let NNCF quantize the parent")
        return path

    def settings(self) -> dict[str, Any]:
        """This tab's settings, saved with the last run."""
        return {key: widget.value for key, widget in self._settings.items()}

    def restore(self, saved: dict[str, Any] | None) -> None:
        """Put back what :meth:`settings` returned (None: keep the defaults)."""
        devices = [device for _, device in self.device.options]
        for key, value in (saved or {}).items():
            if key == "device" and value not in devices:  # saved where that device was: keep the one shown
                continue
            if key in self._settings:
                self._settings[key].value = value

    def estimate(self, phase: str) -> float | None:
        """Expected seconds of an opaque phase: a benchmark run lasts its duration plus compiling."""
        return float(self.bench_seconds.value) + 2.0 if phase.startswith("benchmark") else None

    # --- running ---------------------------------------------------------------------------------

    def run_step(self, until: str) -> bool:
        """Start ``until`` ("quantize", "benchmark" or "report") in the background; False if it could not start."""
        try:
            options = self.options()
        except SegwbError as exc:
            self.form_message.value = input_error_html(one_line(exc))
            return False
        if self.state.runner.busy:
            self.form_message.value = input_error_html("another job is running: start this one when it has finished")
            return False
        self.form_message.value = ""
        self.state.use_project(options.out)

        def work(job: Job) -> Any:
            return run(options, progress=job.progress, cancel=job.cancel, until=until)

        return self.state.runner.start(STEPS[until], work, on_finish=self.state.load_results)

    # --- showing results -------------------------------------------------------------------------

    def show(self, results: Results) -> None:
        """What quantization did, and Default vs AccuracyAware for the form's model and dataset."""
        self.optimize_info.value = quantize_html(results.quantized) if results.quantized else ""
        if results.opened:
            self.methods.value = note_html("An opened project holds one optimized model; the side-by-side table "
                                           "compares the projects of the form's model and dataset.")
        else:
            self.methods.value = methods_html(self._method_reports(results.report))

    def _method_reports(self, current: dict[str, Any] | None) -> dict[str, dict[str, Any] | None]:
        """Each method's report for the form's model and dataset (None where it has not run); the shown method's
        report is ``current``, already read (a given model's report is neither method's)."""
        shown = self.method.value if self.source.value == "nncf" else None
        try:
            model, card, overrides = self.picker.model_spec()
            dataset = self.picker.dataset_spec()
        except SegwbError:
            return {m: current if m == shown else None for m in METHODS}
        task = self.picker.task.value
        return {m: current if m == shown else
                read_report(project_folder(self.state.root, task, model, card, overrides, dataset, m)) for m in METHODS}

    def _given_uploaded(self) -> None:
        def handle(files: list[dict[str, Any]], limit: int) -> None:
            path = save_model_upload([(f["name"], bytes(f["content"])) for f in files],
                                     self.picker.uploads_root / "optimized", limit)
            self.given_path.value = str(path)
            self.given_message.value = ok_html(f"uploaded to {path}.")

        take_upload(self.given_upload, self.given_message, handle)

    def _show_source(self) -> None:
        given = self.source.value == "given"
        self.given_box.layout.display = None if given else "none"
        self.nncf_box.layout.display = "none" if given else None

    def _source_changed(self) -> None:
        """NNCF's settings only when it quantizes; a given model has its own project, so show its results."""
        self._show_source()
        self.state.show_form_project()

    def _show_accuracy_box(self) -> None:
        self.accuracy_box.layout.display = None if self.method.value == "accuracy_aware" else "none"

    def _method_changed(self) -> None:
        """The accuracy target only for AccuracyAware; each method has its own project, so show its results."""
        self._show_accuracy_box()
        self.state.show_form_project()

    def _busy(self, busy: bool) -> None:
        for control in (*self.buttons.values(), self.method, self.source, self.given_path, self.given_upload):
            control.disabled = busy  # these pick the project: it must not change under a running job
