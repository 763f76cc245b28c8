"""The three notebooks run top to bottom under nbval (--nbval-lax) with small settings from the environment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dashboard_helpers import REPO, small_setup
from tiny_models import write_model

from segwb.core.storage import read_json
from segwb.io.datasets import open_dataset

pytestmark = pytest.mark.slow
NOTEBOOKS = REPO / "notebooks"
# NNCF's full bias correction costs 9 s (deeplabv3) to 23 s (YOLO26n-seg) whatever the number of images: these tests
# are about the notebooks, the fixture tests about the INT8 models' numbers.
FAST_BIAS = {"SEGWB_NB_FAST_BIAS_CORRECTION": "1"}


def _nbval(notebook: str, env: dict[str, str], tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
         str(NOTEBOOKS / notebook)],
        cwd=tmp_path, env={**os.environ, **env}, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_dashboard_notebook(tmp_path: Path) -> None:
    """The page is built and, asked to (SEGWB_NB_RUN), runs the report from its own form: one project of the form's
    task with a row per image, and the page's saved state naming it (loading alone runs nothing: test_dashboard.py)."""
    projects = tmp_path / "projects"
    _nbval("dashboard.ipynb", {"SEGWB_PROJECTS": str(projects), "SEGWB_NB_RUN": "report",
                               "SEGWB_DASHBOARD_MODEL": str(write_model(tmp_path / "model")),
                               "SEGWB_DASHBOARD_DATASET": "embedded", "SEGWB_DASHBOARD_BENCH_SECONDS": "0.2"}, tmp_path)
    made = [p for p in projects.iterdir() if p.is_dir() and p.name != "uploads"]
    assert len(made) == 1 and made[0].name.startswith("semantic-tiny_class_map-embedded-"), made
    report = read_json(made[0] / "report.json")
    assert report["task"] == "semantic" and report["dataset"]["layout"] == "embedded"
    assert sorted(r["image"] for r in report["comparison"]["basic"]) == sorted(s.name for s in open_dataset("embedded").samples)
    assert all(r["average_result"] is not None for r in report["comparison"]["basic"]) and report["comparison"]["advanced"]
    assert read_json(projects / "dashboard-state.json")["project"] == str(made[0])


def test_semantic_notebook(tmp_path: Path) -> None:
    setup = small_setup(tmp_path / "data")
    out = tmp_path / "project"
    _nbval("01-semantic-segmentation.ipynb", {
        "SEGWB_NB_MODEL": str(setup.model), "SEGWB_NB_MODEL_CARD": str(setup.card or ""), "SEGWB_NB_DATASET": setup.dataset,
        "SEGWB_NB_BENCH_SECONDS": "0.3", "SEGWB_NB_OUT": str(out), **FAST_BIAS}, tmp_path)
    assert read_json(out / "steps" / "quantize.json")["result"]["settings"]["fast_bias_correction"]
    assert read_json(out / "report.json")["task"] == "semantic" and (out / "steps" / "benchmark.json").is_file()
    assert any((out / "deploy").glob("*.zip"))


def test_instance_notebook(tmp_path: Path) -> None:
    """On the YOLO fixture and three COCO photos (the tutorial's Mask R-CNN needs a download; tests use no network)."""
    root = os.environ.get("SEGWB_FIXTURES")
    if not root:
        pytest.skip("SEGWB_FIXTURES is not set: the instance notebook runs on the YOLO fixture (.ci/run sets it)")
    model = Path(root) / "models" / "yolo26n-seg-coco-320" / "yolo26n-seg.xml"
    photos = tmp_path / "photos"
    photos.mkdir()
    for src in sorted((Path(root) / "datasets" / "coco96-images").glob("*.jpg"))[:3]:
        shutil.copy(src, photos / src.name)
    out = tmp_path / "project"
    _nbval("02-instance-segmentation.ipynb", {
        "SEGWB_NB_MODEL": str(model), "SEGWB_NB_DATASET": str(photos), "SEGWB_NB_BENCH_SECONDS": "0.3",
        "SEGWB_NB_OUT": str(out), **FAST_BIAS}, tmp_path)
    assert read_json(out / "steps" / "quantize.json")["result"]["settings"]["fast_bias_correction"]
    assert read_json(out / "report.json")["task"] == "instance" and (out / "predictions" / "optimized.json").is_file()
