"""Compare performance in-process: nothing to compare, a run through the job runner, the saved result shown again."""

from __future__ import annotations

import shutil
from pathlib import Path

from segwb.measure.performance_comparison import COMPARISON_JSON
from tiny_models import write_model
from widgets.performance_comparison import PerformanceComparisonView
from widgets.runner import JobRunner


def test_comparison_profiles_the_project_and_shows_findings(tmp_path: Path) -> None:
    runner = JobRunner(tick=0.05)
    view = PerformanceComparisonView(runner)
    project = tmp_path / "project"
    view.set_project(project)
    assert "No performance comparison yet" in view.findings.value and not project.exists()
    assert not view.run() and "No INT8 model yet" in view.message.value and not project.exists()
    xml = write_model(tmp_path)
    for role in ("parent", "optimized"):
        (project / "models" / role).mkdir(parents=True)
        for suffix in (".xml", ".bin"):
            shutil.copy(xml.with_suffix(suffix), project / "models" / role / f"model{suffix}")
    view.inferences.value = 3
    assert view.run() and runner.wait(60) and runner.state == "done"
    assert (project / COMPARISON_JSON).is_file()
    assert 'class="segwb-findings"' in view.findings.value and "<li>" in view.findings.value
    assert '<iframe title="Performance comparison"' in view.page.value and "Kernel-level performance" in view.page.value
    assert view.run_button.description == "Compare performance"
    reloaded = PerformanceComparisonView(JobRunner())
    reloaded.set_project(project)
    assert reloaded.findings.value == view.findings.value
