"""Tiny tutorial runs shared by the integration tests: the CLI in-process, and a tiny YOLO-style model with a COCO
dataset of three disc photos."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
from tiny_models import yolo_e2e_model

from segwb import cli
from segwb.core.storage import read_json
from segwb.io.model_file import save_ir

BENCH = ["--bench-seconds", "0.3"]
# Input 32x32; a 48x64 photo is letterboxed at rows 4..28 with ratio 0.5. The white disc at (x 32, y 24),
# radius 12, lands at input (16, 16), radius 6. Detection 0 (person, score 0.9) takes the bright prototype
# inside its box, detection 1 (cat, 0.6) the dark one inside a box around the disc's lower half.
DETECTIONS = np.float32([[8, 8, 24, 24, 0.9, 0, 1, 0],
                         [6, 16, 26, 28, 0.6, 1, 0, 1],
                         [0, 0, 4, 4, 0.02, 1, 1, 0]])
IMAGE_IDS = {"a.jpg": 42, "b.jpg": 7, "c.jpg": 100}


def tiny_yolo(tmp_path: Path) -> Path:
    """A tiny end-to-end YOLO-seg IR with labels person, cat."""
    folder = tmp_path / "model"
    xml = folder / "tiny_yolo.xml"
    save_ir(yolo_e2e_model(DETECTIONS), xml)
    (folder / "labels.txt").write_text("person\ncat\n")
    return xml


def _disc(radius: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 30, (48, 64, 3)).astype(np.uint8)
    cv2.circle(image, (32, 24), radius, (255, 255, 255), -1)
    return image


def _polygon(radius: int) -> list[float]:
    angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    return [round(float(v), 2) for a in angles for v in (32 + radius * np.cos(a), 24 + radius * np.sin(a))]


def coco_root(tmp_path: Path) -> Path:
    """Three disc photos with their discs annotated as 'Person' (id 1); the dataset also has 'dog' (id 18)."""
    root = tmp_path / "coco"
    (root / "images").mkdir(parents=True)
    (root / "annotations").mkdir()
    images, anns = [], []
    for n, (name, image_id) in enumerate(IMAGE_IDS.items()):
        cv2.imwrite(str(root / "images" / name), _disc(11 + n, n))
        images.append({"id": image_id, "file_name": name, "width": 64, "height": 48})
        anns.append({"id": n + 1, "image_id": image_id, "category_id": 1, "segmentation": [_polygon(11 + n)],
                     "area": float(np.pi * (11 + n) ** 2), "bbox": [32 - 11 - n, 24 - 11 - n, 22 + 2 * n, 22 + 2 * n],
                     "iscrowd": 0})
    data = {"images": images, "annotations": anns,
            "categories": [{"id": 1, "name": "Person"}, {"id": 18, "name": "dog"}]}
    (root / "annotations" / "instances_val.json").write_text(json.dumps(data))
    return root


def instance_tutorial(xml: Path, dataset: Path, out: Path, *extra: str) -> dict:
    """``segwb tutorial instance`` in-process; returns report.json."""
    assert cli.main(["tutorial", "instance", "--model", str(xml), "--dataset", str(dataset), "--out", str(out),
                     *BENCH, *extra]) == 0
    return read_json(out / "report.json")


def semantic_tutorial(xml: Path, dataset: str | Path, out: Path, *extra: str) -> dict:
    """``segwb tutorial semantic`` in-process; returns report.json."""
    assert cli.main(["tutorial", "semantic", "--model", str(xml), "--dataset", str(dataset), "--out", str(out),
                     *BENCH, *extra]) == 0
    return read_json(out / "report.json")


def predict_role(job, role: str, compiled, feed, progress=None, cancel=None) -> dict:
    """One model's predictions of every image, saved as the report pass saves them, without a comparison."""
    from segwb.inference.queue import run_models

    def on_result(role_, request, index, geometry) -> None:
        job.keep(role_, index, job.decode(role_, request, index, geometry))

    try:
        run_models({role: compiled}, feed, on_result, lambda items: job.chunk_kept(role, [i.index for i in items]),
                   progress, cancel)
    except BaseException:
        job.discard_predictions()
        raise
    return job.end_predictions(role)


def compare_saved(job) -> dict:
    """The comparison of the predictions both roles saved (the report pass with no model to run)."""
    from segwb.inference.feed import InputFeed
    from segwb.tasks.report_pass import report_pass

    return report_pass(job, {}, InputFeed(job.image_paths(), job.card)).compared
