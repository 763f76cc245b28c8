"""Helpers for the dashboard tests: small datasets and models (fixtures when SEGWB_FIXTURES is set), tiny finished
projects of each task, a hand-made instance project, a Voila server."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tiny_models import write_instance_model, write_model

REPO = Path(__file__).resolve().parents[2]
DEEPLAB_CARD = "color_order: RGB\nresize: fit_pad\npad_value: 0\n"  # the README's card for the deeplabv3 fixture
FIXTURE_PHOTOS = 3


@dataclass(frozen=True)
class Setup:
    """A model (+ card) and dataset for a tutorial run with small settings, and where they came from."""

    model: Path
    card: Path | None
    dataset: str
    source: str  # "fixtures" or "tiny"

    def dashboard_env(self, bench_seconds: float) -> dict[str, str]:
        """The environment that makes a new dashboard start on this model and dataset."""
        return {"SEGWB_DASHBOARD_MODEL": str(self.model), "SEGWB_DASHBOARD_MODEL_CARD": str(self.card or ""),
                "SEGWB_DASHBOARD_DATASET": self.dataset, "SEGWB_DASHBOARD_BENCH_SECONDS": f"{bench_seconds:g}"}


def small_setup(tmp: Path) -> Setup:
    """The deeplabv3 fixture on three fixture photos when SEGWB_FIXTURES is set, else a tiny model on the embedded photos.

    Photos are copied into ``tmp`` (never into the repository); the fixture model is used in place.
    """
    root = os.environ.get("SEGWB_FIXTURES")
    model_dir = Path(root) / "models" / "deeplabv3-mnv2-voc-513" if root else None
    if model_dir is not None and (model_dir / "deeplabv3.xml").is_file():
        photos = tmp / "photos"
        photos.mkdir(parents=True, exist_ok=True)
        for src in sorted((Path(root) / "datasets" / "coco96-images").glob("*.jpg"))[:FIXTURE_PHOTOS]:
            shutil.copy(src, photos / src.name)
        card = tmp / "deeplabv3-card.yml"
        card.write_text(DEEPLAB_CARD)
        return Setup(model_dir / "deeplabv3.xml", card, str(photos), "fixtures")
    return Setup(write_model(tmp / "tiny", "class_map"), None, "embedded", "tiny")


def tiny_project(tmp: Path, task: str) -> tuple[Path, dict]:
    """A finished tutorial run of ``task`` on a tiny model and the six embedded photos (a few seconds): the project
    folder and its report."""
    from segwb.core.storage import read_json
    from segwb.tutorial.options import TutorialOptions
    from segwb.tutorial.run import run

    model = {"semantic": lambda: write_model(tmp / "model", "class_map"),
             "instance": lambda: write_instance_model(tmp / "model")}[task]()
    out = tmp / "project"
    return out, read_json(run(TutorialOptions(out=out, task=task, model=str(model), bench_seconds=0.2)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class VoilaServer:
    """``python -m widgets.serve notebooks/dashboard.ipynb`` (Voila with the dashboard's page template, as ``make app``
    runs it) on a free 127.0.0.1 port, run from the repository (so voila.json applies)."""

    def __init__(self, env: dict[str, str], log: Path, notebook: str = "notebooks/dashboard.ipynb") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = open(log, "wb")
        # A new session: Voila's kernels are its children, and the whole group is stopped by its id at the end.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "widgets.serve", notebook, f"--port={self.port}", "--no-browser", "--Voila.ip=127.0.0.1"],
            cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"voila exited with code {self.process.returncode}; see {self.log.name}")
            try:
                urllib.request.urlopen(f"{self.url}api", timeout=2).close()
                return
            except urllib.error.HTTPError:
                return  # the server answers
            except OSError:
                time.sleep(0.3)
        raise TimeoutError(f"voila did not answer on {self.url} within {timeout:.0f} s")

    def tail(self, lines: int = 40) -> str:
        """The last ``lines`` of the server's log (Voila, its kernels' errors), for a failure message."""
        self.log.flush()
        return "\n".join(Path(self.log.name).read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self.log.close()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]


def write_instance_project(root: Path) -> dict:
    """A hand-made instance project (the instance tutorial's report contract): two photos, COCO-format results
    with RLE masks, and report.json's comparison rows. Returns the report dict (also written to report.json)."""
    import json

    import cv2
    import numpy as np
    from pycocotools import mask as mask_utils

    photos = root / "photos"
    photos.mkdir(parents=True, exist_ok=True)
    images, results = [], {"parent": [], "optimized": []}

    def rle(mask: np.ndarray) -> dict:
        encoded = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
        return {"size": [int(v) for v in encoded["size"]], "counts": encoded["counts"].decode()}

    def det(image_id: int, class_id: int, score: float, box: tuple[int, int, int, int], h: int, w: int) -> dict:
        x, y, bw, bh = box
        mask = np.zeros((h, w), bool)
        mask[y:y + bh, x:x + bw] = True
        return {"image_id": image_id, "category_id": class_id + 1, "class_id": class_id, "score": score,
                "bbox": [float(v) for v in box], "segmentation": rle(mask)}

    for image_id, (name, h, w) in enumerate([("street.jpg", 60, 80), ("park.png", 50, 70)], start=1):
        cv2.imwrite(str(photos / name), np.full((h, w, 3), 60 * image_id, np.uint8))
        images.append({"image_id": image_id, "name": name, "key": Path(name).stem, "width": w, "height": h,
                       "file": name})
    results["parent"] += [det(1, 0, 0.95, (5, 5, 20, 30), 60, 80), det(1, 2, 0.85, (40, 10, 30, 20), 60, 80),
                          det(2, 0, 0.90, (10, 10, 20, 20), 50, 70)]
    results["optimized"] += [det(1, 0, 0.93, (6, 5, 20, 30), 60, 80), det(1, 2, 0.50, (40, 12, 30, 20), 60, 80),
                             det(2, 0, 0.88, (12, 10, 20, 20), 50, 70), det(2, 16, 0.82, (40, 30, 20, 15), 50, 70)]
    folder = root / "predictions"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "images.json").write_text(json.dumps(images))
    for role, items in results.items():
        (folder / f"{role}.json").write_text(json.dumps(items))
    labels = ["person", "bicycle", "car"] + [f"class {i}" for i in range(3, 80)]
    labels[16] = "dog"
    report = {
        "task": "instance", "model_choice": "model: hand-made", "segwb_version": "test",
        "dataset": {"path": str(photos), "layout": "images", "images": 2, "annotated": False, "dropped": []},
        "parent": {"path": "models/parent/model.xml", "card": {"labels": labels}},
        "optimized": {"path": "models/optimized/model.xml", "digest": "x", "method": "Default (NNCF post-training quantization)",
                      "preset": "performance", "subset_size": 2, "seconds": 1.0, "settings": {"method": "default"}},
        "performance": {"parent": {"fps": 10.0, "latency_ms": {"median": 100.0, "average": 101.0, "min": 90.0, "max": 120.0},
                                   "inference_precision": "f32", "properties": {}},
                        "parent_default": None, "optimized": {"fps": 20.0, "latency_ms": {"median": 50.0, "average": 51.0,
                                                                                              "min": 45.0, "max": 60.0},
                                                               "inference_precision": "f32", "properties": {}},
                        "optimized_runs": {}, "optimized_precision": "f32", "speedup": 2.0},
        "comparison": {
            "reference": "parent", "min_score": 0.1, "max_detections": 100, "iou_threshold": 0.5,
            "matches": 2, "parent_detections": 3, "optimized_detections": 4,
            "matches_over_parent": 2 / 3, "matches_over_optimized": 0.5, "f1": 4 / 7, "mean_average_precision": 2 / 3,
            "basic": [{"image": "street.jpg", "optimized_detections": 2, "parent_detections": 2, "matches": 1,
                       "agreement": 0.5, "overlay": "overlays/street.png"},
                      {"image": "park.png", "optimized_detections": 2, "parent_detections": 1, "matches": 1,
                       "overlay": "overlays/park.png"}],
            "advanced": [{"image": "street.jpg", "class_id": 0, "class_name": "person", "optimized_detections": 1,
                          "parent_detections": 1, "matches": 1, "average_precision": 1.0, "precision": 1.0},
                         {"image": "street.jpg", "class_id": 2, "class_name": "car", "optimized_detections": 1,
                          "parent_detections": 1, "matches": 0, "average_precision": 0.0, "precision": 0.0},
                         {"image": "park.png", "class_id": 0, "class_name": "person", "optimized_detections": 1,
                          "parent_detections": 1, "matches": 1, "average_precision": 1.0, "precision": 1.0},
                         {"image": "park.png", "class_id": 16, "class_name": "dog", "optimized_detections": 1,
                          "parent_detections": 0, "matches": 0, "average_precision": None, "precision": 0.0}],
        },
        "ground_truth": None,
    }
    (root / "report.json").write_text(json.dumps(report))
    return report


def write_semantic_project(root: Path) -> dict:
    """A hand-made semantic project: one grey 40x60 photo; the parent sees class 1 (person) on its left half, the
    optimized model the same plus class 2 (cat) in the top-right 10x10 corner. Returns report.json's dict (also
    written)."""
    import json

    import cv2
    import numpy as np

    from segwb.tasks.semantic.class_maps import prediction_path, save_class_map

    photos = root / "photos"
    photos.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(photos / "photo.png"), np.full((40, 60, 3), 200, np.uint8))
    parent = np.zeros((40, 60), np.uint8)
    parent[:, :30] = 1
    optimized = parent.copy()
    optimized[:10, 50:] = 2
    for role, ids in (("parent", parent), ("optimized", optimized)):
        save_class_map(prediction_path(root / "predictions" / role, "photo"), ids)
    (root / "predictions" / "images.json").write_text(json.dumps(
        [{"image_id": None, "name": "photo.png", "key": "photo", "file": "photo.png", "width": 60, "height": 40}]))
    report = {"task": "semantic", "dataset": {"path": str(photos), "layout": "images", "images": 1},
              "parent": {"card": {"labels": ["background", "person", "cat"]}},
              "comparison": {"basic": [{"image": "photo.png", "average_result": 0.5, "pixel_agreement": 0.9583,
                                        "overlay": "overlays/photo.jpg"}]}}
    (root / "report.json").write_text(json.dumps(report))
    return report


def semantic_rows_report(n: int = 23) -> dict:
    """A semantic report's rows only: ``n`` images with made-up results (one value per image repeats in a known
    order) and one image without any (N/A), three classes each, for table tests."""
    basic = [{"image": f"img{i:02d}.jpg", "average_result": (i * 37 % n) / n, "pixel_agreement": 1 - i / 100,
              "overlay": f"overlays/img{i:02d}.png"} for i in range(n)]
    basic.append({"image": "blank.jpg", "average_result": None, "pixel_agreement": None, "overlay": "overlays/blank.png"})
    advanced = [{"image": r["image"], "class_id": c, "class_name": ["background", "person", "cat"][c],
                 "result": None if r["average_result"] is None else (r["average_result"] + c / 10) % 1}
                for r in basic for c in range(3)]
    return {"task": "semantic", "comparison": {"basic": basic, "advanced": advanced}}


@contextmanager
def chromium_browser() -> Iterator[Any]:
    """A headless Chromium (Debian's, as .ci/run installs it) driven by Playwright, closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
