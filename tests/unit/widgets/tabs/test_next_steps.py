"""The Next steps tab: the reproduce command is the CLI's own, the files and hints of a report, an opened project,
and the deploy/export line that follows the report as soon as a run has made it."""

from __future__ import annotations

import shlex
import threading
from pathlib import Path

import pytest

from dashboard_helpers import write_instance_project
from segwb.cli.parser import build_parser, command_line, options_from_args, to_argv
from segwb.core.errors import SegwbError
from segwb.optimize.settings import QuantizeSettings
from segwb.tutorial.options import TutorialOptions
from widgets.common import escape
from widgets.runner import Job, JobRunner
from widgets.state import DashboardState, Results
from widgets.tabs.next_steps import NextStepsTab, hints_html, reproduce_html

OPTIONS = [
    TutorialOptions(out=Path("/p/semantic-x"), model="/m/deeplab v3.xml", model_card="/m/card.yml", dataset="/photos",
                    bench_seconds=0.5, no_bf16=True, card_overrides={"color_order": "RGB", "mean": [1.0, 2.0, 3.0],
                                                                     "input_size": [256, 320]},
                    quantize=QuantizeSettings(preset="mixed", subset="50%", fast_bias_correction=True, graph_fixes=False,
                                              ignored_names=("conv 1",))),
    TutorialOptions(out=Path("/p/instance-y-aa"), task="instance", dataset="/coco", min_score=0.3, max_detections=20,
                    quantize=QuantizeSettings(method="accuracy_aware", max_drop=1.5, drop_type="relative",
                                              metric="agreement", max_iterations=3)),
]


@pytest.mark.parametrize("options", OPTIONS, ids=["semantic-file", "instance-accuracy-aware"])
def test_reproduce_is_the_parsers_own_command(options: TutorialOptions) -> None:
    html = reproduce_html(options)
    assert f'<pre class="segwb-reproduce">{escape(command_line(options))}</pre>' in html
    argv = shlex.split(command_line(options))
    assert argv[0] == "segwb"
    parsed = options_from_args(build_parser().parse_args(argv[1:]))  # what the terminal would run
    assert to_argv(parsed) == argv[1:]
    assert (parsed.task, parsed.out, parsed.model, parsed.dataset, parsed.card_overrides, parsed.quantize) == \
           (options.task, options.out, options.model, options.dataset, options.card_overrides, options.quantize)
    assert "--labels" not in html


def test_labels_from_a_file_are_pointed_out() -> None:
    options = TutorialOptions(out=Path("/p"), card_overrides={"labels": ["background", "person"]})
    assert "add --labels" in reproduce_html(options)


def test_hints_follow_the_speedup_and_the_agreement(tmp_path: Path) -> None:
    report = write_instance_project(tmp_path)  # speedup 2.0, F1 4/7: accuracy dropped
    hints = hints_html(report, "default")
    assert "use the AccuracyAware method" in hints and "barely faster" not in hints
    assert "use the AccuracyAware method" not in hints_html(report, "accuracy_aware")
    slow = {**report, "performance": {**report["performance"], "speedup": 1.1},
            "comparison": {**report["comparison"], "f1": 0.99}}
    hints = hints_html(slow, "default")
    assert "barely faster" in hints and "AccuracyAware" not in hints


@pytest.fixture
def state(tmp_path: Path) -> DashboardState:
    state = DashboardState(tmp_path, JobRunner(tick=0.05), served=tmp_path)
    state.provide_options(lambda: TutorialOptions(out=tmp_path / "project"))
    state.project = tmp_path / "project"
    return state


def test_the_deploy_line_follows_the_report_as_soon_as_a_run_made_it(state: DashboardState) -> None:
    """Results are shown while the job that made them is still ending; the line used to keep saying "Create the
    accuracy report first" then, until something else refreshed it."""
    tab = NextStepsTab(state)
    state.load_results()
    assert "Create the accuracy report first" in tab.packages.result.value and tab.packages.deploy_button.disabled
    assert "Reproduce this run" in tab.text.value and "<h3>Files</h3>" not in tab.text.value
    gate = threading.Event()

    def make_report(job: Job) -> None:  # what the tutorial's last step leaves
        write_instance_project(state.project)
        gate.wait(10)

    assert state.runner.start("Accuracy report", make_report, on_finish=state.load_results)
    assert tab.packages.deploy_button.disabled and tab.packages.import_button.disabled  # busy
    gate.set()
    assert state.runner.wait(10) and state.runner.state == "done", state.runner.error.value
    assert "Create the accuracy report first" not in tab.packages.result.value
    assert "accuracy report is ready" in tab.packages.result.value
    assert not tab.packages.deploy_button.disabled and not tab.packages.export_button.disabled
    assert "<h3>Files</h3>" in tab.text.value and str(state.project / "report.html") in tab.text.value


def test_an_opened_project_shows_what_it_recorded(state: DashboardState, tmp_path: Path) -> None:
    tab = NextStepsTab(state)
    write_instance_project(tmp_path / "imported")
    state.open_project(tmp_path / "imported")
    assert "Showing the opened project" in tab.text.value and "Reproduce this run" not in tab.text.value
    assert str(tmp_path / "imported" / "models" / "optimized" / "model.xml") in tab.text.value
    assert not tab.packages.deploy_button.disabled

    def invalid() -> TutorialOptions:
        raise SegwbError("no model file given")

    state.provide_options(invalid)
    tab.show(Results())  # the form's project while the form is invalid
    assert tab.text.value == '<span class="segwb-input-error">no model file given</span>'
    assert "Create the accuracy report first" in tab.packages.result.value and tab.packages.deploy_button.disabled
