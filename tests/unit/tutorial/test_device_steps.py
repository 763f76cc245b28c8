"""--device in the tutorial's steps: checked with the other options, part of the benchmark's and the predictions' cache
inputs (a CPU result is never reused for AUTO), and recorded with the full name of the device that ran."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_models import write_model

from segwb.core.devices import device_names
from segwb.core.errors import SegwbError
from segwb.core.project import Project
from segwb.inference.feed import InputFeed
from segwb.io.datasets import open_dataset
from segwb.tasks import get as get_task
from segwb.tasks.base import DetectionLimits
from segwb.tasks.model_import import import_model
from segwb.tutorial.options import TutorialOptions
from segwb.tutorial.steps import Model, Parent, step_benchmark, step_import, step_report


@pytest.fixture
def imported(tmp_path: Path) -> tuple[Project, Parent]:
    """A project whose parent and optimized models are the same tiny semantic model."""
    model = write_model(tmp_path / "model")
    project = Project(tmp_path / "project")
    parent = step_import(project, TutorialOptions(out=project.root, model=str(model)))
    import_model(model, project.optimized_xml)
    return project, parent


def test_an_absent_device_is_refused_with_the_options(tmp_path: Path) -> None:
    with pytest.raises(SegwbError, match=r"^--device NOPE: not on this machine; available: CPU \(") as info:
        TutorialOptions(out=tmp_path / "p", device="NOPE").check()
    assert "\n" not in str(info.value)
    TutorialOptions(out=tmp_path / "p", device="AUTO").check()


def test_the_benchmark_is_cached_per_device(imported: tuple[Project, Parent], photo_folder: Path) -> None:
    (project, parent), dataset = imported, open_dataset(str(photo_folder))

    def measure(device: str) -> dict:
        return step_benchmark(project, parent, "optimized-digest", dataset, 0.1, no_bf16=True, device=device)

    cpu, auto = measure("CPU"), measure("AUTO")
    assert not cpu["cached"] and not auto["cached"] and cpu["key"] != auto["key"]
    name = device_names()["CPU"]
    assert (cpu["device"], cpu["device_name"], cpu["execution_devices"]) == ("CPU", name, ["CPU"])
    assert (auto["device"], auto["device_name"], auto["execution_devices"]) == ("AUTO", f"executed on CPU: {name}", ["CPU"])
    assert auto["parent"]["inference_precision"] == "f32" and auto["parent"]["properties"]["EXECUTION_DEVICES"] == "CPU"
    assert measure("AUTO")["cached"] and not measure("CPU")["cached"]  # one record per step: the last device's


def test_predictions_are_cached_per_device(imported: tuple[Project, Parent], photo_folder: Path) -> None:
    project, parent = imported
    job = get_task("semantic").report_job(project, open_dataset(str(photo_folder)), parent.card, DetectionLimits(0.1, 100))
    feed = InputFeed(job.image_paths(), parent.card)

    def predict(device: str) -> dict:
        models = {role: Model(parent.xml, parent.digest, "f32") for role in ("parent", "optimized")}
        return step_report(job, models, feed, device=device)[0]["parent"]

    assert not predict("CPU")["cached"] and predict("CPU")["cached"]
    auto = predict("AUTO")
    assert not auto["cached"] and auto["properties"]["EXECUTION_DEVICES"] == "CPU"
    assert project.record("predict-parent") is not None and predict("AUTO")["cached"]
