"""The Voila dashboard: Model & data → Optimize (INT8) → Performance → Accuracy report → Visualize → Next steps.

Nothing heavy runs while the page loads: the last run's settings and its cached results (``report.json``,
``steps/*.json`` in its project folder) are read back, and every long step runs from a button in a thread.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
import re
import shlex
from pathlib import Path
from typing import Any

import ipywidgets as w

from segwb import zoo
from segwb.errors import SegwbError
from segwb.pipeline import TutorialOptions
from segwb.accuracy_aware import MAX_DROP_RANGE, AccuracyTarget, check_drop
from segwb.quantize import METHODS, PRESETS, QuantizeSettings
from segwb.report_html import accuracy_aware_html, graph_fixes_html
from segwb.storage import read_json, write_json

from .common import escape, input_error_html, note_html, one_line, style
from .explorer import ExplorerView
from .kernels import KernelView
from .methods import METHOD_NAMES, methods_html
from .packages import PackageView
from .performance import PerformanceView
from .picker import ModelDataPicker
from .runner import Task, TaskRunner
from .table import ReportTable
from .viewer import OverlayViewer

REPO = Path(__file__).resolve().parents[1]
log = logging.getLogger("segwb")
TABS = ("Model & data", "Optimize (INT8)", "Performance", "Accuracy report", "Visualize", "Next steps")
STEPS = {"quantize": "Optimize (INT8)", "benchmark": "Benchmark", "report": "Accuracy report"}


def projects_root() -> Path:
    """Where dashboard projects live: ``$SEGWB_PROJECTS`` or ``projects/dashboard`` in the repository."""
    return Path(os.environ.get("SEGWB_PROJECTS") or REPO / "projects" / "dashboard")


def project_folder(root: Path, task: str, model: str | None, card: str | None, overrides: dict[str, Any],
                   dataset: str, method: str = "default") -> Path:
    """One folder per task, model, dataset and method (so Default and AccuracyAware models sit side by side);
    segwb's step cache handles changed settings inside it."""
    spec = [task, model, card, overrides, dataset] + ([method] if method != "default" else [])
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:8]
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", f"{Path(model).stem if model else 'default'}-{Path(dataset).name}")[:60]
    return root / f"{task}-{name}{'-aa' if method == 'accuracy_aware' else ''}-{digest}"


def tutorial_module(task: str) -> Any:
    """``segwb.semantic_tutorial`` or ``segwb.instance_tutorial``."""
    return importlib.import_module(f"segwb.{task}_tutorial")


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


class Dashboard:
    """The whole app; ``widget`` is what the notebook displays."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root else projects_root()
        self.state_file = self.root / "dashboard-state.json"
        self.runner = TaskRunner(estimate=self._estimate)
        self.picker = ModelDataPicker(self.root / "uploads", fetch=self.fetch)
        self.performance = PerformanceView()
        self.explorer = ExplorerView(self.runner)
        self.kernels = KernelView(self.runner)
        # Voila serves files relative to where `make app` starts it
        self.packages = PackageView(self.runner, REPO, self.root, on_import=self.open_project)
        self.viewer = OverlayViewer()
        self.table = ReportTable(on_select=self._open_in_viewer)
        self.project: Path | None = None
        self.opened: Path | None = None  # a project opened by itself (imported), not the form's
        # Optimize tab: the Workbench's INT8 settings, and the run buttons
        self.preset = w.Dropdown(options=[("Performance (symmetric)", "performance"), ("Mixed (asymmetric activations)", "mixed")],
                                 value="performance", description="Preset")
        assert set(PRESETS) == {"performance", "mixed"}
        self.subset = w.Text(value=os.environ.get("SEGWB_DASHBOARD_SUBSET", "100%"), description="Subset size",
                             placeholder="300 or 50%")
        self.fast_bias = w.Checkbox(value=QuantizeSettings.fast_bias_correction, description="Fast bias correction", indent=False)
        self.graph_fixes = w.Checkbox(value=QuantizeSettings.graph_fixes, indent=False,
                                      description="Graph rewrites around NNCF (weight folding, arg-max tail layout)")
        self.ignored = w.Text(description="Ignore layers", style={"description_width": "initial"}, placeholder="names, comma-separated (ignored scope)",
                              layout=w.Layout(width="560px"))
        self.method = w.Dropdown(options=[(METHOD_NAMES[m], m) for m in METHODS], value="default", description="Method")
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
            "the metric is agreement with the parent: mean Optimized Model Average Result (semantic) or the F1 of the "
            "matches between A and B (instance). The INT8 model then runs at the f32 hint, where its drop was validated. "
            "Each step that makes the drop worse re-ranks every remaining group (minutes on a small CPU): cap the steps "
            "to bound the time (the result is then the scope NNCF held at its last step)."))])
        self.method.observe(lambda _: self._method_changed(), "value")
        self.bench_seconds = w.BoundedFloatText(value=_env_float("SEGWB_DASHBOARD_BENCH_SECONDS", 10.0), min=0.1, max=300,
                                                step=0.5, description="Benchmark seconds per configuration", style={"description_width": "initial"})
        self.no_bf16 = w.Checkbox(value=False, description="Skip the default-precision (bf16) runs", indent=False)
        self.buttons = {until: w.Button(description=f"{i}. {label}", button_style="primary" if until == "report" else "",
                                        layout=w.Layout(width="220px"))
                        for i, (until, label) in enumerate(STEPS.items(), start=1)}
        for until, button in self.buttons.items():
            button.add_class(f"segwb-run-{until}")
            button.on_click(lambda _, u=until: self.run_step(u))
        self.runner.on_busy(self._busy)
        self.optimize_info = w.HTML("")
        self.methods = w.HTML("")
        self.form_message = w.HTML("")
        self.report_summary = w.HTML(note_html("No report yet."))
        self.next_steps = w.HTML("")
        self.project_label = w.HTML("")
        self.tabs = w.Tab(children=[
            self.picker.widget,
            w.VBox([w.HTML(note_html("NNCF post-training quantization: the Default method, or AccuracyAware. Each step is "
                                     "cached in the project folder: running a later step runs any missing earlier one.")),
                    self.method, self.accuracy_box,
                    w.HBox([self.preset, self.subset]), w.HBox([self.fast_bias, self.no_bf16]), self.graph_fixes, self.ignored,
                    self.bench_seconds, w.HBox(list(self.buttons.values())), self.form_message, self.optimize_info,
                    w.HTML("<h3>Default vs AccuracyAware</h3>"), self.methods]),
            w.VBox([self.performance.widget, w.HTML("<h3>Where the time goes: parent (f32) vs INT8, layer by layer</h3>"),
                    self.kernels.widget, w.HTML("<h3>Explore inference configurations</h3>"), self.explorer.widget]),
            w.VBox([self.report_summary, self.table.widget]),
            self.viewer.widget,
            w.VBox([self.next_steps, self.packages.widget]),
        ], titles=TABS)
        self.performance.set_visible(False)
        self.explorer.set_visible(False)
        self.tabs.observe(self._tab_changed, "selected_index")
        self._method_changed()
        self.widget = w.VBox([style(), self.project_label, self.runner.widget, self.tabs])
        self.widget.add_class("segwb-dashboard")
        self._restore()

    # --- settings --------------------------------------------------------------------------------

    def _defaults_from_environment(self) -> dict[str, Any]:
        """Small settings for tests and demos: SEGWB_DASHBOARD_MODEL / _MODEL_CARD / _DATASET / _TASK."""
        state: dict[str, Any] = {}
        model = os.environ.get("SEGWB_DASHBOARD_MODEL")
        if model:
            state.update(model_source="zoo", zoo_model=model) if model in zoo.ENTRIES else \
                state.update(model_source="file", model_path=model, card_path=os.environ.get("SEGWB_DASHBOARD_MODEL_CARD", ""))
        dataset = os.environ.get("SEGWB_DASHBOARD_DATASET")
        if dataset:
            state.update(dataset_source="embedded") if dataset == "embedded" else \
                state.update(dataset_source="folder", dataset_path=dataset)
        if os.environ.get("SEGWB_DASHBOARD_TASK"):
            state["task"] = os.environ["SEGWB_DASHBOARD_TASK"]
        return state

    def options(self) -> TutorialOptions:
        """TutorialOptions from the form; a bad value raises SegwbError with a one-line message."""
        model, card, overrides = self.picker.model_spec()
        dataset = self.picker.dataset_spec()
        ignored = tuple(n.strip() for n in self.ignored.value.split(",") if n.strip())
        settings = QuantizeSettings(method=self.method.value, max_drop=float(self.max_drop.value),
                                    drop_type=self.drop_type.value, metric=self.metric.value,
                                    max_iterations=int(self.max_iterations.value), preset=self.preset.value, subset=self.subset.value.strip() or "100%",
                                    fast_bias_correction=self.fast_bias.value, ignored_names=ignored,
                                    graph_fixes=self.graph_fixes.value)
        from segwb.quantize import subset_size

        subset_size(settings.subset, 1)  # checks the syntax now, not after the model was imported
        if settings.method == "accuracy_aware":
            check_drop(settings.target)
        out = project_folder(self.root, self.picker.task.value, model, card, overrides, dataset, settings.method)
        return TutorialOptions(out=out, model=model, model_card=card, card_overrides=overrides, dataset=dataset,
                               quantize=settings, bench_seconds=float(self.bench_seconds.value), no_bf16=self.no_bf16.value)

    def state(self) -> dict[str, Any]:
        return {"picker": self.picker.state(), "preset": self.preset.value, "subset": self.subset.value,
                "fast_bias": self.fast_bias.value, "graph_fixes": self.graph_fixes.value, "ignored": self.ignored.value,
                "method": self.method.value, "max_drop": self.max_drop.value, "drop_type": self.drop_type.value,
                "metric": self.metric.value, "max_iterations": self.max_iterations.value,
                "bench_seconds": self.bench_seconds.value, "no_bf16": self.no_bf16.value,
                "project": str(self.project) if self.project else None, "opened": str(self.opened) if self.opened else None}

    def _restore(self) -> None:
        """Last run's settings (else the environment's defaults), and its cached results at once."""
        saved: dict[str, Any] = {}
        if self.state_file.is_file():
            try:
                saved = read_json(self.state_file)
            except (OSError, ValueError):
                saved = {}
        self.picker.restore(saved.get("picker") or self._defaults_from_environment())
        for key, widget in (("preset", self.preset), ("subset", self.subset), ("fast_bias", self.fast_bias),
                            ("graph_fixes", self.graph_fixes), ("ignored", self.ignored), ("method", self.method),
                            ("max_drop", self.max_drop), ("drop_type", self.drop_type), ("metric", self.metric),
                            ("max_iterations", self.max_iterations), ("bench_seconds", self.bench_seconds), ("no_bf16", self.no_bf16)):
            if key in saved:
                widget.value = saved[key]
        if saved.get("opened") and (Path(saved["opened"]) / "report.json").is_file():
            try:
                self.open_project(Path(saved["opened"]))
                return
            except Exception:  # a project this version cannot show must not keep the page from loading
                log.exception("cannot reopen %s", saved["opened"])
        self._show_form_project()

    def _show_form_project(self) -> None:
        """Show the results of the project the form's settings name (if the form is valid)."""
        if self.opened:
            self.opened = None
            write_json(self.state_file, self.state())  # a reload must not reopen what the user left
        try:
            self.project = self.options().out
        except SegwbError:
            self.project = None
        self.load_results()

    def open_project(self, folder: Path) -> None:
        """Show a project folder by itself (e.g. one just imported) until a step runs or the method changes."""
        self.opened = self.project = Path(folder)
        self.load_results()
        write_json(self.state_file, self.state())  # only once it showed: a reload must not fail on it

    # --- running ---------------------------------------------------------------------------------

    def _method_changed(self) -> None:
        """The accuracy target only for AccuracyAware; each method has its own project, so show its results."""
        self.accuracy_box.layout.display = None if self.method.value == "accuracy_aware" else "none"
        self._show_form_project()

    def _estimate(self, phase: str) -> float | None:
        """Expected seconds of an opaque phase: a benchmark run lasts its duration plus compiling."""
        return float(self.bench_seconds.value) + 2.0 if phase.startswith("benchmark") else None

    def _tab_changed(self, change: dict) -> None:
        """Charts are attached only while their tab shows: bqplot laid out in a hidden tab logs errors."""
        visible = change["new"] == TABS.index("Performance")
        self.performance.set_visible(visible)
        self.explorer.set_visible(visible)

    def _busy(self, busy: bool) -> None:
        for button in (*self.buttons.values(), self.picker.fetch_button, self.explorer.run_button,
                       self.kernels.run_button, self.method):
            button.disabled = busy  # the method picks the project: it must not change under a running step
        self.packages.set_busy(busy)

    def run_step(self, until: str) -> bool:
        """Start ``until`` ("quantize", "benchmark" or "report") in the background; False if it could not start."""
        try:
            options = self.options()
            module = tutorial_module(self.picker.task.value)
        except (SegwbError, ImportError) as exc:
            self.form_message.value = input_error_html(one_line(exc))
            return False
        self.form_message.value = ""
        self.opened, self.project = None, options.out
        write_json(self.state_file, self.state())
        self.project_label.value = note_html(f"Project folder: {options.out}")

        def work(task: Task) -> Path:
            return module.run(options, progress=task.progress, cancel=task.cancel, until=until)

        return self.runner.start(STEPS[until], work, on_finish=self.load_results)

    def fetch(self, name: str) -> None:
        """Download a zoo model into the cache; a cancelled download keeps its part and resumes next time."""
        def work(task: Task) -> Path:
            path, _ = zoo.obtain(name, task.cancel)
            return path

        self.runner.start(f"Fetch {name}", work, on_done=lambda _: self.picker.refresh_zoo())

    # --- showing results -------------------------------------------------------------------------

    def load_results(self) -> None:
        """Show whatever the project folder holds: quantize and benchmark records, the report."""
        project = self.project
        if project is None:
            return
        self.project_label.value = note_html(f"{'Opened project' if self.opened else 'Project folder'}: {project}")
        steps = project / "steps"
        quantized = _record(steps / "quantize.json")
        measured = _record(steps / "benchmark.json")
        report = _record(project / "report.json", whole=True)
        self.optimize_info.value = _quantize_html(quantized) if quantized else ""
        self.methods.value = note_html("An opened project holds one optimized model; the side-by-side table compares "
                                       "the projects of the form's model and dataset.") if self.opened \
            else methods_html(self._method_reports(report))
        performance = report["performance"] if report else measured
        if report and quantized and report["optimized"].get("digest") != quantized.get("digest"):
            report_note = note_html("This report is from an earlier INT8 model: create the accuracy report again.")
        else:
            report_note = ""
        if measured and (not report or measured.get("parent", {}).get("fps") != report["performance"]["parent"]["fps"]):
            performance = measured  # a newer benchmark than the report's
        self.performance.show(performance)
        optimized, parent = project / "models" / "optimized" / "model.xml", project / "models" / "parent" / "model.xml"
        model = optimized if optimized.is_file() else parent
        self.explorer.set_model(model if model.is_file() else None, project / "explorer")
        self.kernels.set_project(project)
        self.report_summary.value = (_summary_html(report) + report_note) if report else note_html("No report yet.")
        self.table.show(report)
        self.viewer.show(report, project if report else None)
        self.next_steps.value = _next_steps_html(self, report)
        self.packages.set_project(project, has_report=report is not None)

    def _method_reports(self, current: dict[str, Any] | None) -> dict[str, dict[str, Any] | None]:
        """Each method's report for the form's model and dataset (None where it has not run); the shown
        method's report is ``current``, already read."""
        model, card, overrides = self.picker.model_spec()
        dataset = self.picker.dataset_spec()
        return {m: current if m == self.method.value else
                _record(project_folder(self.root, self.picker.task.value, model, card, overrides, dataset, m)
                        / "report.json", whole=True) for m in METHODS}

    def _open_in_viewer(self, image: str) -> None:
        self.viewer.open(image)
        self.tabs.selected_index = TABS.index("Visualize")


def _record(path: Path, whole: bool = False) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        data = read_json(path)
    except (OSError, ValueError):
        return None
    return data if whole else data.get("result")


def _quantize_html(q: dict[str, Any]) -> str:
    return (f'<p class="segwb-quantized">INT8 model ready: {q["subset_size"]} calibration images, '
            f'{q["seconds"]:.1f} s, weights {q["size_before"] / 1e6:.1f} MB → {q["size_after"] / 1e6:.1f} MB; '
            f'settings {escape(json.dumps(q["settings"]))}.</p>' + graph_fixes_html(q.get("graph_fixes", []))
            + accuracy_aware_html(q.get("accuracy_aware")))


def _summary_html(report: dict[str, Any]) -> str:
    comp, gt, ds = report["comparison"], report.get("ground_truth"), report["dataset"]
    lines = [f"{escape(report.get('model_choice', ''))}. Dataset {escape(ds['path'])} ({escape(ds['layout'])}, {ds['images']} images)."]
    if report["task"] == "semantic":
        avg, agree = comp.get("mean_average_result"), comp.get("mean_pixel_agreement")
        lines.append(f"Reference: the parent model's predictions. Mean Optimized Model Average Result "
                     f"<b>{'N/A' if avg is None else f'{avg:.4f}'}</b>, mean pixel agreement "
                     f"<b>{'N/A' if agree is None else f'{100 * agree:.2f} %'}</b>.")
        if gt:
            lines.append(f"Against the annotations ({gt['images']} images): mean IoU parent "
                         f"<b>{100 * gt['parent']['mean_iou']:.2f} %</b>, optimized <b>{100 * gt['optimized']['mean_iou']:.2f} %</b>.")
        lines.append("Per image and class: IoU over pixels, for classes present in either map; not rounded before "
                     "averaging. Rows are worst first; click a header to sort, View to open the image.")
    else:
        lines.append(f"Reference: the parent model's detections (score ≥ {comp.get('min_score')}); matches by mask IoU ≥ "
                     f"{comp.get('iou_threshold', 0.5)}, strictly one-to-one. Matches over parent "
                     f"<b>{_fmt(comp.get('matches_over_parent'))}</b>, over optimized "
                     f"<b>{_fmt(comp.get('matches_over_optimized'))}</b>; mean Predicted Class Average Precision "
                     f"<b>{_fmt(comp.get('mean_average_precision'))}</b>.")
        if gt:
            lines.append(f"Against the annotations ({gt['images']} images): mask AP parent "
                         f"<b>{_fmt(gt['parent']['mask_ap'], 100)} %</b>, optimized <b>{_fmt(gt['optimized']['mask_ap'], 100)} %</b>; "
                         f"box AP parent {_fmt(gt['parent'].get('box_ap'), 100)} %, optimized {_fmt(gt['optimized'].get('box_ap'), 100)} %.")
        lines.append("Basic: per image, A = optimized instances, B = parent instances, Matches; Advanced: per image and "
                     "class where A > 0, with the class's average precision (N/A when the parent has none) and precision "
                     "= Matches / A. Rows are worst first.")
    return '<div class="segwb-report-summary">' + "<br>".join(lines) + "</div>"


def _fmt(value: float | None, factor: float = 1.0) -> str:
    return "N/A" if value is None else (f"{factor * value:.2f}" if factor != 1.0 else f"{value:.4f}")


def _next_steps_html(app: Dashboard, report: dict[str, Any] | None) -> str:
    if app.opened:
        return _opened_html(app.opened, report)
    try:
        options = app.options()
    except SegwbError as exc:
        return input_error_html(one_line(exc))
    parts = [_reproduce_html(app, options)]
    if report:
        parts.append(_files_html(report, Path(options.out)))
        parts.append(_hints_html(report, options.quantize.method))
    return "".join(parts)


def _opened_html(project: Path, report: dict[str, Any] | None) -> str:
    """An opened project shows what it recorded; its own settings, not the form's, made it."""
    parts = [note_html(f"Showing the opened project {project} as recorded. Running a step (Optimize tab) uses the "
                       "form's model and dataset instead; to re-run this one, pass --out with its folder to "
                       "`segwb tutorial`, which reuses every step that still matches.")]
    if report:
        method = report["optimized"]["settings"].get("method", "default")
        parts += [_files_html(report, project), _hints_html(report, method)]
    return "".join(parts)


def _reproduce_html(app: Dashboard, options: TutorialOptions) -> str:
    args = ["segwb", "tutorial", app.picker.task.value]
    if options.model:
        args += ["--model", options.model]
    if options.model_card:
        args += ["--model-card", options.model_card]
    args += ["--dataset", options.dataset, "--out", str(options.out), "--preset", options.quantize.preset,
             "--subset-size", options.quantize.subset, "--bench-seconds", f"{options.bench_seconds:g}"]
    if options.no_bf16:
        args.append("--no-bf16")
    if options.quantize.fast_bias_correction:
        args.append("--fast-bias-correction")
    if not options.quantize.graph_fixes:
        args.append("--no-graph-fixes")
    if options.quantize.method == "accuracy_aware":
        args += ["--method", "accuracy-aware", "--max-drop", f"{options.quantize.max_drop:g}",
                 "--drop-type", options.quantize.drop_type, "--metric", options.quantize.metric.replace("_", "-")]
        if options.quantize.max_iterations:
            args += ["--max-iterations", str(options.quantize.max_iterations)]
    html = f"<h3>Reproduce this run from a terminal</h3><pre>{escape(shlex.join(args))}</pre>"
    if options.card_overrides:
        html += note_html("Model card fields from the form: pass them as flags (e.g. --color-order) or in a card YAML.")
    return html


def _files_html(report: dict[str, Any], project: Path) -> str:
    return (f"<h3>Files</h3><ul><li>INT8 model (OpenVINO IR): <code>{escape(report['optimized']['path'])}</code></li>"
            f"<li>Standalone report page: <code>{escape(str(project / 'report.html'))}</code></li>"
            f"<li>Report data: <code>{escape(str(project / 'report.json'))}</code></li></ul>")


def _hints_html(report: dict[str, Any], method: str) -> str:
    speedup = report["performance"]["speedup"]
    hints = []
    if speedup < 1.2:
        hints.append("The INT8 model is barely faster: see which layers still run in floating point, and measure "
                     "with a longer benchmark (Benchmark seconds) before deciding.")
    comp = report["comparison"]
    average = comp.get("mean_average_result")
    if report["task"] == "semantic" and average is not None and average < 0.9 and method == "default":
        hints.append("Accuracy dropped: use the AccuracyAware method (Optimize tab), which reverts the layers that "
                     "hurt most to floating point until the drop is within your limit; with no annotations it "
                     "bounds the agreement with the parent. Or try the Mixed preset, or Ignore layers.")
    hints.append("Deploy: the package below runs the INT8 model with OpenVINO Runtime and the precision hint shown in "
                 "the Performance tab, without segwb.")
    return "<h3>What to try next</h3><ul>" + "".join(f"<li>{escape(h)}</li>" for h in hints) + "</ul>"
