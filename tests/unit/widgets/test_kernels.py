"""The kernel-comparison widget in-process: nothing to compare, a run through the task runner, the saved result."""

from __future__ import annotations

import shutil
from pathlib import Path

from segwb.kernel_compare import COMPARISON_JSON
from tiny_models import write_model
from widgets.kernels import KernelView
from widgets.runner import TaskRunner


def test_kernel_view_profiles_the_project_and_shows_findings(tmp_path: Path) -> None:
    runner = TaskRunner(tick=0.05)
    view = KernelView(runner)
    project = tmp_path / "project"
    view.set_project(project)
    assert "No kernel comparison yet" in view.findings.value
    assert not view.run() and "No INT8 model yet" in view.message.value
    xml = write_model(tmp_path)
    for role in ("parent", "optimized"):
        (project / "models" / role).mkdir(parents=True)
        for suffix in (".xml", ".bin"):
            shutil.copy(xml.with_suffix(suffix), project / "models" / role / f"model{suffix}")
    view.inferences.value = 3
    assert view.run() and runner.wait(60) and runner.state == "done"
    assert (project / COMPARISON_JSON).is_file()
    assert 'class="segwb-findings"' in view.findings.value and "<li>" in view.findings.value
    assert "<iframe" in view.page.value and "Kernel-level performance" in view.page.value
    reloaded = KernelView(TaskRunner())
    reloaded.set_project(project)
    assert reloaded.findings.value == view.findings.value
