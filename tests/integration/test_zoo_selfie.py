"""The converted MediaPipe selfie model (the default when deeplabv3 cannot be fetched).

The model is fetched from PyPI by `make fetch` before the tests; here it is read offline, through the
mirror path, from the cache that fetch filled. Without it the tests skip and say so.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from segwb.cli import main
from segwb.core.compile import compile_model
from segwb.core.storage import read_json
from segwb.inference.preprocess import to_tensor
from segwb.io.datasets.embedded import open_embedded as embedded_dataset
from segwb.io.images import load_image
from segwb.tasks.model_import import describe
from segwb.tasks.semantic.adapters import class_map
from segwb.zoo import catalog as zoo

REAL_CACHE = Path(os.environ.get("SEGWB_CACHE") or Path.home() / ".cache" / "segwb")
TFLITE = "selfie_segmentation.tflite"


@pytest.fixture
def selfie(monkeypatch: pytest.MonkeyPatch) -> Path:
    if not (REAL_CACHE / TFLITE).is_file():
        pytest.skip(f"{TFLITE} is not in {REAL_CACHE}: run `make fetch` (needs PyPI) first")
    monkeypatch.setenv("SEGWB_ZOO_MIRROR", str(REAL_CACHE))
    path, _ = zoo.obtain("selfie-segmentation")
    return path


def test_converts_with_the_custom_op_extension(selfie: Path) -> None:
    model, card = describe(selfie, overrides=zoo.entry("selfie-segmentation").card)
    assert list(model.input(0).get_shape()) == [1, 256, 256, 3]
    assert list(model.output(0).get_shape()) == [1, 256, 256, 1]
    assert card.adapter == "scores" and card.output_layout == "NHWC"


def test_finds_the_people_in_the_embedded_photos(selfie: Path) -> None:
    """Astronaut and Grace Hopper are portraits: a large person share; the rocket launch has none.

    (The model segments the salient subject of a selfie: it also marks Chelsea the cat, so that photo is
    no negative.)"""
    model, card = describe(selfie, overrides=zoo.entry("selfie-segmentation").card)
    compiled = compile_model(model, "f32")
    share = {}
    for sample in embedded_dataset().samples:
        tensor, geometry = to_tensor(load_image(sample.path), card, np.float32)
        share[sample.key] = class_map(compiled(tensor)[0], card, geometry).mean()
    assert share["astronaut"] > 0.2 and share["grace_hopper"] > 0.2
    assert share["rocket"] < 0.01


def test_default_semantic_tutorial_falls_back_to_selfie(selfie: Path, tmp_path: Path) -> None:
    """Offline, deeplabv3 cannot be fetched: the tutorial says so and runs on selfie-segmentation (the `make app` job)."""
    code = main(["tutorial", "semantic", "--out", str(tmp_path / "p"), "--bench-seconds", "0.5"])
    assert code == 0
    report = read_json(tmp_path / "p" / "report.json")
    assert report["model_choice"].startswith("model: selfie-segmentation, because the tutorial's deeplabv3 could not be fetched")
    assert len(report["comparison"]["basic"]) == 6
