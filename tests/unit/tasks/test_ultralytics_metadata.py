"""Ultralytics' metadata.yaml beside an export is read as a model card: names as labels, imgsz as the input size
when the graph leaves it open; labels.txt and the card win; a bad file is one line naming it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openvino as ov
import pytest
from tiny_models import yolo_e2e_model
from tutorial_runs import DETECTIONS

from segwb.core.errors import ModelError
from segwb.io.model_file import save_ir
from segwb.tasks.model_import import describe

METADATA = """description: Ultralytics YOLO26n-seg model trained on coco.yaml
author: Ultralytics
stride: 32
task: segment
batch: 1
imgsz:
- 32
- 32
names:
  0: person
  1: cat
"""


def _export(folder: Path, metadata: str, dynamic: bool = True) -> Path:
    model = yolo_e2e_model(np.asarray(DETECTIONS))
    if dynamic:
        model.reshape({model.input(0): ov.PartialShape([1, 3, -1, -1])})
    xml = folder / "yolo26n-seg.xml"
    save_ir(model, xml)
    (folder / "metadata.yaml").write_text(metadata)
    return xml


def test_names_and_imgsz_complete_a_dynamic_export(tmp_path: Path) -> None:
    _, card = describe(_export(tmp_path, METADATA), overrides={"task": "instance"})
    assert card.labels == ("person", "cat") and card.input_size == (32, 32) and card.adapter == "yolo_e2e"


def test_labels_txt_wins_over_the_metadata(tmp_path: Path) -> None:
    xml = _export(tmp_path, METADATA)
    (tmp_path / "labels.txt").write_text("human\nkitten\n")
    assert describe(xml, overrides={"task": "instance"})[1].labels == ("human", "kitten")


@pytest.mark.parametrize(("text", "words"), [
    ("names: 5\n", "field 'labels' must be a list of class names"),
    ("imgsz: big\nnames: [a, b]\n", "field 'input_size' must be [height, width]"),
    ("- a\n", "must be a YAML mapping"),
    ("names: [\n", "is not readable YAML"),
])
def test_a_bad_metadata_file_is_one_line_naming_it(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(ModelError, match="metadata.yaml") as info:
        describe(_export(tmp_path, text), overrides={"task": "instance"})
    assert words in str(info.value) and "\n" not in str(info.value)
