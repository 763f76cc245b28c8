"""Fixtures of the integration tests: a tiny YOLO-style model and a COCO dataset it can be judged on."""

from __future__ import annotations

from pathlib import Path

import pytest
import tutorial_runs


@pytest.fixture
def tiny_yolo(tmp_path: Path) -> Path:
    return tutorial_runs.tiny_yolo(tmp_path)


@pytest.fixture
def coco_root(tmp_path: Path) -> Path:
    return tutorial_runs.coco_root(tmp_path)
