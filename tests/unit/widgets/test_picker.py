"""The Model & data picker: one toggle per registered task, the zoo per task, the model card form, checks, uploads."""

from __future__ import annotations

import io
import time
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import cv2
import numpy as np
import pytest

from segwb import tasks
from segwb.core.errors import SegwbError
from segwb.zoo.catalog import ENTRIES
from tiny_models import write_model
from widgets.picker import ModelDataPicker


@pytest.fixture
def picker(tmp_path: Path) -> ModelDataPicker:
    return ModelDataPicker(tmp_path / "uploads")


def _wait_for(read, text: str, timeout: float = 60) -> str:
    """The value ``read()`` gives once it contains ``text`` (checks run in a thread)."""
    deadline = time.monotonic() + timeout
    while text not in (value := read()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return value


def _upload(name: str, data: bytes) -> dict:
    return {"name": name, "type": "", "size": len(data), "content": memoryview(data),
            "last_modified": datetime.now(timezone.utc)}


def test_one_task_button_per_registered_task_with_its_whole_title(picker: ModelDataPicker) -> None:
    assert picker.task.options == tuple((t.title, t.name) for t in tasks.REGISTRY.values())
    assert picker.task.style.button_width == "auto"  # the default 70 px cut "Semantic segmenta…"
    for task in tasks.REGISTRY.values():
        picker.task.value = task.name
        assert set(picker.zoo_model.options) == {n for n, e in ENTRIES.items() if e.task == task.name}
        assert task.zoo_defaults[0] in picker.default_note.value
    assert set(picker.fetch_choice.options) == set(ENTRIES)  # any zoo model can be fetched
    assert "<table" in picker.zoo_table.value and all(f'data-zoo="{n}"' in picker.zoo_table.value for n in ENTRIES)


def test_model_and_dataset_specs(picker: ModelDataPicker, tmp_path: Path) -> None:
    assert picker.model_spec() == (None, None, {}) and picker.dataset_spec() == "embedded"
    picker.model_source.value = "zoo"
    assert picker.model_spec() == (picker.zoo_model.value, None, {})
    picker.model_source.value = "file"
    assert picker.file_box.layout.display is None and picker.zoo_model.layout.display == "none"
    with pytest.raises(SegwbError, match="no model file given"):
        picker.model_spec()
    labels = tmp_path / "labels.txt"
    labels.write_text("background\nperson\n")
    picker.model_path.value = "/models/m.onnx"
    fields = picker.card_fields
    fields["color_order"].value, fields["mean"].value, fields["scale"].value = "BGR", "1, 2, 3", "255"
    fields["input_size"].value, fields["labels"].value = "256x320", str(labels)
    assert picker.model_spec() == ("/models/m.onnx", None, {"color_order": "BGR", "mean": [1.0, 2.0, 3.0], "scale": 255.0,
                                                            "input_size": [256, 320], "labels": ["background", "person"]})
    fields["pad_value"].value = "1,2,3"
    with pytest.raises(SegwbError, match="'pad_value' is one number"):
        picker.model_spec()
    fields["pad_value"].value, fields["mean"].value = "", "a,b"
    with pytest.raises(SegwbError, match="'mean'"):
        picker.model_spec()
    picker.dataset_source.value = "folder"
    with pytest.raises(SegwbError, match="no dataset folder given"):
        picker.dataset_spec()
    picker.dataset_path.value = " /data/photos "
    assert picker.dataset_spec() == "/data/photos"


def test_state_round_trip_ignores_unknown_values(picker: ModelDataPicker, tmp_path: Path) -> None:
    picker.task.value = tasks.names()[-1]
    picker.model_source.value, picker.model_path.value = "file", "/m.xml"
    picker.card_fields["layout"].value = "NCHW"
    picker.dataset_source.value, picker.dataset_path.value = "folder", "/photos"
    saved = picker.state()
    again = ModelDataPicker(tmp_path / "other")
    again.restore({**saved, "zoo_model": "no-such-model", "card_fields": {**saved["card_fields"], "colour": "x"}})
    assert again.state() == {**saved, "zoo_model": again.zoo_model.value}
    again.restore({"task": "panoptic", "model_source": "nowhere"})  # outdated values keep what is there
    assert again.task.value == saved["task"] and again.model_source.value == "file"


def test_check_model_and_dataset(picker: ModelDataPicker, tmp_path: Path) -> None:
    picker.model_source.value = "file"
    picker.model_path.value = str(write_model(tmp_path / "tiny"))
    picker.check_model()
    assert "OK, the model card is complete" in _wait_for(lambda: picker.model_message.value, "OK")
    assert 'class="segwb-kv segwb-card"' in picker.card_view.value and "color_order" in picker.card_view.value
    notes = tmp_path / "notes.txt"
    notes.write_text("not a model")
    picker.model_path.value = str(notes)
    picker.check_model()
    message = _wait_for(lambda: picker.model_message.value, "segwb-input-error")
    assert "notes.txt" in message and picker.card_view.value == ""
    picker.check_dataset()
    assert "embedded sample photos: 6 images" in _wait_for(lambda: picker.dataset_message.value, "images")


def test_uploads_become_the_model_and_the_dataset(picker: ModelDataPicker, tmp_path: Path) -> None:
    xml = write_model(tmp_path / "tiny")
    picker.model_upload.value = tuple(_upload(p.name, p.read_bytes()) for p in (xml, xml.with_suffix(".bin")))
    assert picker.model_source.value == "file" and Path(picker.model_path.value).name == xml.name
    assert Path(picker.model_path.value).is_relative_to(tmp_path / "uploads" / "models") and picker.model_upload.value == ()
    archive = io.BytesIO()
    ok, jpeg = cv2.imencode(".jpg", np.full((20, 30, 3), 128, np.uint8))
    with zipfile.ZipFile(archive, "w") as z:
        for name in ("photos/a.jpg", "photos/b.jpg"):
            z.writestr(name, jpeg.tobytes())
    picker.dataset_source.value = "upload"
    picker.dataset_upload.value = (_upload("photos.zip", archive.getvalue()),)
    assert picker.dataset_source.value == "folder" and "2 images" in picker.dataset_message.value
    assert Path(picker.dataset_path.value).is_relative_to(tmp_path / "uploads" / "datasets")
    picker.dataset_upload.value = (_upload("photos.zip", archive.getvalue()), _upload("c.jpg", jpeg.tobytes()))
    assert "one .zip archive, or image files, not both" in picker.dataset_message.value
