"""The deployment package's ``infer.py`` (segwb.ship.infer_template) on its own: its one-line errors, the version
warning, and the task's runtime chosen from deploy.json (outputs against segwb's: tests/integration/test_deploy.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from tiny_models import write_model
from tutorial_runs import semantic_tutorial

from segwb.ship.deploy import build_package


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An unpacked INT8 package of a tiny semantic project, measured on AUTO."""
    tmp = tmp_path_factory.mktemp("package")
    photos = tmp / "photos"
    photos.mkdir()
    cv2.imwrite(str(photos / "a.jpg"), np.full((30, 40, 3), 120, np.uint8))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEGWB_CACHE", str(tmp / "cache"))
        semantic_tutorial(write_model(tmp / "model"), photos, tmp / "project", "--device", "AUTO")
    with zipfile.ZipFile(build_package(tmp / "project")) as archive:
        archive.extractall(tmp / "unpacked")
    (folder,) = (tmp / "unpacked").iterdir()
    return folder


def _infer(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "infer.py", *args], cwd=folder, capture_output=True, text=True, timeout=120)


def test_the_task_runtime_comes_from_deploy_json(package: Path) -> None:
    settings = json.loads((package / "deploy.json").read_text())
    assert settings["runtime"] == "segwb_runtime.tasks.semantic.runtime"
    assert (package / "segwb_runtime" / "tasks" / "semantic" / "runtime.py").is_file()


def test_two_images_with_one_stem_are_refused(package: Path, tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    run = _infer(package, str(tmp_path / "x" / "a.jpg"), str(tmp_path / "y" / "a.jpg"))
    assert run.returncode == 2 and run.stderr.strip() == ("infer.py: error: several images are named 'a'; their "
                                                          "outputs would overwrite each other")


def test_a_missing_image_is_one_line(package: Path, tmp_path: Path) -> None:
    run = _infer(package, str(tmp_path / "missing.jpg"))
    assert run.returncode == 2 and run.stderr.strip().startswith(f"infer.py: error: {tmp_path / 'missing.jpg'}: ")
    assert "Traceback" not in run.stderr


def test_an_unknown_device_is_one_line(package: Path, tmp_path: Path) -> None:
    run = _infer(package, str(tmp_path / "a.jpg"), "--device", "NOPE")
    assert run.returncode == 2 and run.stderr.startswith("infer.py: error: cannot compile the model for NOPE (")


def test_another_openvino_version_is_warned_about(package: Path, tmp_path: Path) -> None:
    settings = json.loads((package / "deploy.json").read_text())
    (package / "deploy.json").write_text(json.dumps({**settings, "openvino_version": "1.0.0"}))
    try:
        run = _infer(package, str(tmp_path / "missing.jpg"))
    finally:
        (package / "deploy.json").write_text(json.dumps(settings))
    assert run.stderr.splitlines()[0].startswith("infer.py: warning: OpenVINO ")
    assert "the package was built with 1.0.0" in run.stderr


def test_the_device_it_was_measured_on_is_the_default(package: Path, tmp_path: Path) -> None:
    """deploy.json carries the report's device; infer.py takes it unless --device says otherwise."""
    settings = json.loads((package / "deploy.json").read_text())
    assert settings["device"] == "AUTO" and settings["device_name"].startswith("executed on CPU: ")
    assert "--device AUTO]" in (package / "README.md").read_text()
    (package / "deploy.json").write_text(json.dumps({**settings, "device": "NOPE"}))
    try:
        run = _infer(package, str(tmp_path / "a.jpg"))
    finally:
        (package / "deploy.json").write_text(json.dumps(settings))
    assert run.returncode == 2 and run.stderr.startswith("infer.py: error: cannot compile the model for NOPE (")
