"""Builders of the corpus's inputs, good and bad, all made in code: tiny models, photos, odd and broken image files, a
decompression bomb, Pascal VOC and COCO roots, archives."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import openvino as ov
import openvino.opset13 as ops
from PIL import Image
from bombs import bomb_png, png_chunk
from tiny_models import NUM_CLASSES, write_model
from tutorial_runs import coco_root, tiny_yolo

from segwb.io.model_file import save_ir

# Quick tutorial runs: short benchmarks, no bf16 runs, two calibration images.
FAST = ["--bench-seconds", "0.3", "--no-bf16", "--subset-size", "2"]
SEMANTIC_STEM = "tiny_class_map"  # write_model's file stem: the card is <stem>.yml
LABELS = ("background", "person", "cat")
VOC_IDS = {"background": 0, "cat": 8, "person": 15}

__all__ = ["FAST", "coco_root", "tiny_yolo"]


# --- photos -------------------------------------------------------------------------------------------------------------

def photo(seed: int = 0, h: int = 40, w: int = 56) -> np.ndarray:
    """A small BGR photo: a dark noisy ground with a coloured disc."""
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 40, (h, w, 3)).astype(np.uint8)
    colour = tuple(int(v) for v in rng.integers(80, 255, 3))
    cv2.circle(image, (w // 2, h // 2), min(h, w) // 3, colour, -1)
    return image


def write_photo(path: Path, seed: int = 0, h: int = 40, w: int = 56) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, buf = cv2.imencode(path.suffix or ".jpg", photo(seed, h, w))
    assert ok
    path.write_bytes(buf.tobytes())
    return path


def write_photos(folder: Path, n: int = 2, prefix: str = "p") -> Path:
    """``n`` good photos ``p0.jpg``, ``p1.jpg``... in ``folder``; returns the folder."""
    for i in range(n):
        write_photo(folder / f"{prefix}{i}.jpg", seed=i)
    return folder


def truncated_jpeg(path: Path, keep: float = 0.5) -> Path:
    write_photo(path, seed=5, h=120, w=160)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


png_bomb = bomb_png  # one writer of bombs: tests/helpers/bombs.py


def huge_header_png(path: Path, width: int = 100_000, height: int = 100_000) -> Path:
    """A PNG header claiming 10 gigapixels RGB, followed by a few bytes of image data: a small file, a huge promise."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
                     + png_chunk(b"IDAT", zlib.compress(b"\x00" * 4096)) + png_chunk(b"IEND", b""))
    return path


def odd_image(kind: str, path: Path) -> Path:
    """A valid but unusual image: 1x1, 16-bit, CMYK JPEG, greyscale, with alpha."""
    path.parent.mkdir(parents=True, exist_ok=True)
    base = photo(3, 40, 56)
    if kind == "1x1":
        cv2.imwrite(str(path), base[:1, :1])
    elif kind == "16bit":
        cv2.imwrite(str(path), base.astype(np.uint16) * 257)
    elif kind == "cmyk":
        Image.fromarray(base[:, :, ::-1]).convert("CMYK").save(path, "JPEG")
    elif kind == "grey":
        cv2.imwrite(str(path), cv2.cvtColor(base, cv2.COLOR_BGR2GRAY))
    elif kind == "alpha":
        alpha = np.full(base.shape[:2], 128, np.uint8)
        cv2.imwrite(str(path), np.dstack([base, alpha]))
    else:
        raise ValueError(kind)
    return path


# --- models -------------------------------------------------------------------------------------------------------------

def write_semantic(folder: Path) -> Path:
    """The tiny 3-class class-map model (u8 NHWC RGB 64x64) with ``labels.txt`` and its card; returns the .xml."""
    folder.mkdir(parents=True, exist_ok=True)
    return write_model(folder, "class_map")


def _head(x: ov.Node, names: bool = True) -> ov.Node:
    """f32 NCHW 3-channel tensor → 3x3 conv to 3 class scores → ArgMax class map [1,H,W]."""
    rng = np.random.default_rng(0)
    weights = rng.normal(0, 0.05, size=(NUM_CLASSES, 3, 3, 3)).astype(np.float32)
    x = ops.convolution(x, ops.constant(weights), [1, 1], [1, 1], [1, 1], [1, 1])
    x = ops.relu(ops.add(x, ops.constant(np.array([0.0, 0.02, 0.04], np.float32).reshape(1, 3, 1, 1))))
    topk = ops.topk(x, ops.constant(np.int64(1)), axis=1, mode="max", sort="none", index_element_type=ov.Type.i64)
    ids = ops.squeeze(topk.output(1), ops.constant(np.array([1], dtype=np.int64)))
    if names:
        ids.output(0).set_names({"class_ids"})
    return ids


def _u8_nhwc_to_f32_nchw(image: ov.Node) -> ov.Node:
    x = ops.convert(image, ov.Type.f32)
    x = ops.transpose(x, ops.constant(np.array([0, 3, 1, 2], dtype=np.int64)))
    return ops.multiply(x, ops.constant(np.float32(1 / 255)))


def _save_with_sidecars(model: ov.Model, folder: Path, stem: str, card: str = "color_order: RGB\nresize: fit_pad\n") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    xml = folder / f"{stem}.xml"
    save_ir(model, xml)
    (folder / "labels.txt").write_text("\n".join(LABELS) + "\n")
    (folder / f"{stem}.yml").write_text(card)
    return xml


def write_two_inputs(folder: Path) -> Path:
    a = ops.parameter([1, 64, 64, 3], ov.Type.u8, name="image")
    b = ops.parameter([1, 64, 64, 3], ov.Type.u8, name="second_image")
    x = ops.add(_u8_nhwc_to_f32_nchw(a), _u8_nhwc_to_f32_nchw(b))
    return _save_with_sidecars(ov.Model([_head(x)], [a, b], "two_inputs"), folder, "two_inputs")


def write_dynamic_rank(folder: Path) -> Path:
    image = ops.parameter(ov.PartialShape.dynamic(), ov.Type.u8, name="image")
    return _save_with_sidecars(ov.Model([_head(_u8_nhwc_to_f32_nchw(image))], [image], "dynamic_rank"), folder,
                               "dynamic_rank")


def write_unnamed_semantic(folder: Path) -> Path:
    """The tiny class-map model with no tensor names on its output (nor on its input's tensor)."""
    image = ops.parameter([1, 64, 64, 3], ov.Type.u8)
    return _save_with_sidecars(ov.Model([_head(_u8_nhwc_to_f32_nchw(image), names=False)], [image], "unnamed"),
                               folder, "unnamed")


def write_unnamed_yolo(folder: Path) -> Path:
    """tutorial_runs' tiny YOLO-seg model with neither output tensor named."""
    from tutorial_runs import DETECTIONS

    size = 32
    image = ops.parameter([1, 3, size, size], ov.Type.f32)
    weights = np.zeros((2, 3, 4, 4), np.float32)
    weights[0], weights[1] = 10 / 48, -10 / 48
    protos = ops.convolution(image, ops.constant(weights), [4, 4], [0, 0], [0, 0], [1, 1])
    protos = ops.add(protos, ops.constant(np.float32([-5, 5]).reshape(1, 2, 1, 1)))
    dets = ops.add(ops.constant(np.asarray(DETECTIONS[np.newaxis], np.float32)), ops.constant(np.float32(0)))
    folder.mkdir(parents=True, exist_ok=True)
    xml = folder / "unnamed_yolo.xml"
    save_ir(ov.Model([dets, protos], [image], "unnamed_yolo"), xml)
    (folder / "labels.txt").write_text("person\ncat\n")
    return xml


# --- Pascal VOC ---------------------------------------------------------------------------------------------------------

VOC_PALETTE = [v for i in range(256) for v in ((i * 37) % 256, (i * 91) % 256, (i * 53) % 256)]


def voc_mask(h: int, w: int) -> np.ndarray:
    mask = np.zeros((h, w), np.uint8)
    mask[: h // 2, : w // 2] = VOC_IDS["person"]
    mask[h // 2:, w // 2:] = VOC_IDS["cat"]
    mask[0, :] = 255  # void border
    return mask


def save_mask(path: Path, mask: np.ndarray) -> Path:
    png = Image.fromarray(mask, mode="P")
    png.putpalette(VOC_PALETTE)
    png.save(path)
    return path


def voc_root(root: Path, ids: tuple[str, ...] = ("2007_000001", "2007_000002"), h: int = 40, w: int = 56) -> Path:
    """A Pascal VOC root of ``ids``: photos, palette masks (person, cat, a void row) and ``val.txt``."""
    for sub in ("JPEGImages", "SegmentationClass", "ImageSets/Segmentation"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for i, image_id in enumerate(ids):
        write_photo(root / "JPEGImages" / f"{image_id}.jpg", seed=i, h=h, w=w)
        save_mask(root / "SegmentationClass" / f"{image_id}.png", voc_mask(h, w))
    (root / "ImageSets" / "Segmentation" / "val.txt").write_text("".join(f"{i}\n" for i in ids))
    return root


# --- COCO -----------------------------------------------------------------------------------------------------------------

def coco_json(root: Path) -> Path:
    return root / "annotations" / "instances_val.json"


def read_coco(root: Path) -> dict[str, Any]:
    return json.loads(coco_json(root).read_text())


def write_coco(root: Path, data: Any) -> None:
    coco_json(root).write_text(json.dumps(data))  # NaN written as the NaN literal, as some exporters do


def add_coco_image(root: Path, data: dict[str, Any], file_name: str, image_id: int, ann_id: int,
                   on_disk: Path | None = None) -> None:
    """Add an image entry (and one annotation on it) to ``data``; ``on_disk``: where to put a copy of a good photo."""
    if on_disk is not None:
        on_disk.parent.mkdir(parents=True, exist_ok=True)
        on_disk.write_bytes((root / "images" / "a.jpg").read_bytes())
    data["images"].append({"id": image_id, "file_name": file_name, "width": 64, "height": 48})
    template = dict(data["annotations"][0])
    data["annotations"].append({**template, "id": ann_id, "image_id": image_id})


# --- archives -----------------------------------------------------------------------------------------------------------

def tar_members(archive: Path) -> list[tuple[Any, bytes | None]]:
    """(TarInfo, content) of every member of a .tar.gz."""
    import tarfile

    out = []
    with tarfile.open(archive, "r:gz") as tar:
        for m in tar.getmembers():
            out.append((m, tar.extractfile(m).read() if m.isfile() else None))
    return out


def write_tar(path: Path, members: list[tuple[Any, bytes | None]]) -> Path:
    import io
    import tarfile

    with tarfile.open(path, "w:gz") as tar:
        for info, content in members:
            if content is not None:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
            else:
                tar.addfile(info)
    return path
