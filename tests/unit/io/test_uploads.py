"""Uploads: size limits, safe names, safe zip extraction (nothing left behind on refusal), layout detection."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from segwb.core.errors import ModelError
from segwb.io.uploads import (
    UploadError,
    extract_dataset_zip,
    safe_name,
    save_image_uploads,
    save_model_upload,
    summarize_dataset,
)

LIMIT = 1 << 20


def _png(value: int = 90) -> bytes:
    return cv2.imencode(".png", np.full((16, 20, 3), value, np.uint8))[1].tobytes()


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buf.getvalue()


def _left_behind(root: Path) -> list[Path]:
    return [p for p in root.rglob("*")] if root.exists() else []


def test_safe_name() -> None:
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("C:\\Users\\me\\my photo (1).JPG") == "my_photo_1_.JPG"
    assert safe_name(".hidden") == "hidden" and safe_name("///") == "upload"


def test_zip_of_a_folder_becomes_the_dataset_root(tmp_path: Path) -> None:
    data = _zip({"photos/a.png": _png(), "photos/sub/b.png": _png(120), "photos/readme.md": b"skip me",
                 "__MACOSX/photos/._a.png": b"junk"})
    root = extract_dataset_zip("my photos.zip", data, tmp_path / "uploads", LIMIT)
    assert root.name == "photos" and sorted(p.relative_to(root).as_posix() for p in root.rglob("*.png")) == ["a.png", "sub/b.png"]
    assert not (root / "readme.md").exists()
    summary = summarize_dataset(root)
    assert summary.layout == "images" and summary.images == 2
    assert extract_dataset_zip("my photos.zip", data, tmp_path / "uploads", LIMIT) == root  # same upload reused
    assert not list((tmp_path / "uploads").glob(".*"))  # no staging folders left


@pytest.mark.parametrize("members, problem", [
    ({}, "no images"),
    ({"notes.txt": b"hello"}, "no images"),
    ({"../evil.png": _png()}, "outside the archive"),
    ({"/abs/evil.png": _png()}, "outside the archive"),
    ({f"big{i}.png": bytes(range(256)) * (LIMIT // 256) for i in range(6)}, "unpacks to"),
])
def test_bad_archives_are_refused_and_leave_nothing(tmp_path: Path, members: dict, problem: str) -> None:
    dest = tmp_path / "uploads"
    with pytest.raises(UploadError, match=problem) as info:
        extract_dataset_zip("data.zip", _zip(members), dest, LIMIT)
    assert str(info.value).startswith("data.zip: ") and "\n" not in str(info.value)
    assert _left_behind(dest) == []


def test_compression_bomb_ratio(tmp_path: Path) -> None:
    with pytest.raises(UploadError, match="zip bomb"):
        extract_dataset_zip("data.zip", _zip({"a.png": b"\0" * (LIMIT // 2)}), tmp_path / "u", 10 * LIMIT)


def test_not_a_zip_and_oversized(tmp_path: Path) -> None:
    with pytest.raises(UploadError, match="not a zip archive"):
        extract_dataset_zip("fake.zip", b"hello", tmp_path / "u", LIMIT)
    with pytest.raises(UploadError, match=r"big.zip: upload is 2.0 MB, over the 1 MB limit"):
        extract_dataset_zip("big.zip", b"x" * (2 * LIMIT), tmp_path / "u", LIMIT)
    assert _left_behind(tmp_path / "u") == []


def test_image_and_model_uploads(tmp_path: Path) -> None:
    folder = save_image_uploads([("a.png", _png()), ("b.png", _png(10))], tmp_path / "d", LIMIT)
    assert summarize_dataset(folder).images == 2
    with pytest.raises(UploadError, match="notes.txt: not an image"):
        save_image_uploads([("a.png", _png()), ("notes.txt", b"x")], tmp_path / "e", LIMIT)
    assert _left_behind(tmp_path / "e") == []
    with pytest.raises(ModelError, match="notes.txt: not a model file"):
        save_model_upload([("notes.txt", b"text")], tmp_path / "m", LIMIT)
    model = save_model_upload([("net.xml", b"<net/>"), ("net.bin", b"\0\0"), ("labels.txt", b"a\nb\n")], tmp_path / "m", LIMIT)
    assert model.name == "net.xml" and (model.parent / "net.bin").is_file() and (model.parent / "labels.txt").is_file()


def test_voc_and_coco_layouts_are_detected(tmp_path: Path) -> None:
    voc = tmp_path / "voc"
    for sub in ("JPEGImages", "SegmentationClass", "ImageSets/Segmentation"):
        (voc / sub).mkdir(parents=True)
    cv2.imwrite(str(voc / "JPEGImages" / "x1.jpg"), np.zeros((8, 8, 3), np.uint8))
    cv2.imwrite(str(voc / "SegmentationClass" / "x1.png"), np.zeros((8, 8), np.uint8))
    (voc / "ImageSets" / "Segmentation" / "val.txt").write_text("x1\n")
    summary = summarize_dataset(voc)
    assert summary.layout == "voc" and summary.images == 1 and summary.annotated and "Pascal VOC" in summary.line()
    coco = tmp_path / "coco"
    (coco / "images").mkdir(parents=True)
    (coco / "annotations").mkdir()
    cv2.imwrite(str(coco / "images" / "1.jpg"), np.zeros((8, 8, 3), np.uint8))
    (coco / "annotations" / "instances_val.json").write_text(json.dumps(
        {"images": [{"id": 1, "file_name": "1.jpg", "width": 8, "height": 8}], "annotations": [],
         "categories": [{"id": 1, "name": "person"}]}))
    summary = summarize_dataset(coco)
    assert summary.layout == "coco" and summary.images == 1 and "instances_val.json" in summary.line()


def test_staging_folders_of_a_killed_upload_are_swept(tmp_path: Path) -> None:
    """Old staging folders go, a fresh one (another kernel's upload in progress) and results stay."""
    import os

    from segwb.io.uploads import sweep_staging

    old, fresh, kept = tmp_path / "models" / ".upload-old", tmp_path / ".zip-fresh", tmp_path / "models" / "net-abc"
    for folder in (old, fresh, kept):
        folder.mkdir(parents=True)
    os.utime(old, (0, 0))
    assert sweep_staging(tmp_path) == 1
    assert not old.exists() and fresh.is_dir() and kept.is_dir()
