"""Model files: read OpenVINO IR, convert ONNX, TFLite and TensorFlow (.pb, SavedModel), save IR, hash them."""

from __future__ import annotations

import os
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import openvino as ov

from ..core.compile import core
from ..core.errors import ModelError, first_line
from ..core.storage import file_digest, files_digest

CONVERTIBLE = {".onnx": "ONNX", ".tflite": "TFLite", ".pb": "TensorFlow frozen graph"}
SUPPORTED = ".xml (+ .bin), .onnx, .tflite, .pb or a TensorFlow SavedModel folder"


def read_model(path: str | Path) -> ov.Model:
    """Read or convert a model file; bad files raise a one-line :class:`ModelError` naming them."""
    path = Path(path)
    if not path.exists():
        raise ModelError("no such file or folder", path)
    if path.is_dir():
        if not (path / "saved_model.pb").is_file():
            raise ModelError(f"folder is not a TensorFlow SavedModel (no saved_model.pb); segwb reads {SUPPORTED}", path)
        return _convert(path, "TensorFlow SavedModel")
    if not path.is_file():  # a device or a FIFO (/dev/zero) would be read forever
        raise ModelError("not a regular file", path)
    suffix = path.suffix.lower()
    if suffix == ".xml":
        return _read_ir(path)
    if suffix == ".bin":
        raise ModelError("this is the weights half of an IR: give the .xml file next to it", path)
    if suffix in CONVERTIBLE:
        return _convert(path, CONVERTIBLE[suffix])
    raise ModelError(f"unsupported model format '{suffix or path.name}'; segwb reads {SUPPORTED}", path)


def read_ir(xml: str | Path) -> ov.Model:
    """An OpenVINO IR (the ``.xml`` of an ``.xml``/``.bin`` pair), checked: anything else is a one-line error."""
    xml = Path(xml)
    if not xml.is_file():
        raise ModelError("no such model file" if not xml.exists() else "not a file: give the IR's .xml", xml)
    if xml.suffix.lower() != ".xml":
        raise ModelError(f"not an OpenVINO IR: give the .xml of an .xml/.bin pair (import other formats with "
                         f"`segwb tutorial`, which converts them), got '{xml.suffix or xml.name}'", xml)
    return _read_ir(xml)


def _read_ir(xml: Path) -> ov.Model:
    weights = xml.with_suffix(".bin")
    needed = _ir_weights_extent(xml)
    if weights.exists() and not weights.is_file():
        raise ModelError(f"weights file {weights.name} is not a regular file", xml)
    if needed and not weights.is_file():
        raise ModelError(f"weights file {weights.name} is missing next to the .xml", xml)
    if needed and weights.stat().st_size < needed:
        raise ModelError(f"weights file is truncated: {weights.stat().st_size} bytes, the .xml needs {needed}", weights)
    try:
        return core().read_model(xml, weights if weights.is_file() else None)
    except Exception as exc:  # OpenVINO raises RuntimeError subclasses with multi-line text
        raise ModelError(f"OpenVINO cannot read this IR ({first_line(exc)})", xml) from exc


def _ir_weights_extent(xml: Path) -> int:
    """Bytes of .bin the IR refers to (0 if none); also rejects files that are not IR XML."""
    extent = 0
    try:
        events = ET.iterparse(xml, events=("start",))
        _, root = next(events)
        if root.tag != "net":
            raise ModelError(f"not an OpenVINO IR: the .xml root element is <{root.tag}>, not <net>", xml)
        for _, elem in events:
            if elem.tag == "data" and "offset" in elem.attrib and "size" in elem.attrib:
                try:
                    extent = max(extent, int(elem.attrib["offset"]) + int(elem.attrib["size"]))
                except ValueError:
                    raise ModelError(f"not an OpenVINO IR: a layer's weight offset or size is not a number "
                                     f"({elem.attrib['offset']!r}, {elem.attrib['size']!r})", xml) from None
    except (ET.ParseError, StopIteration) as exc:
        raise ModelError(f"not an OpenVINO IR: the .xml does not parse ({exc})", xml) from exc
    return extent


def _convert(path: Path, kind: str) -> ov.Model:
    extensions: list[Any] = []
    if kind == "TFLite":
        from .conversion_extensions import mediapipe_extensions

        extensions = mediapipe_extensions()
    try:
        return ov.convert_model(str(path), extension=extensions or None)
    except Exception as exc:
        raise ModelError(f"cannot be read as a {kind} model ({first_line(exc)})", path) from exc


def save_ir(model: ov.Model, xml: Path) -> None:
    """Save an IR pair so that a crash never leaves a half-written one: the .xml lands last."""
    xml.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=xml.parent, prefix=".save-") as tmp:
        staged = Path(tmp) / "model.xml"
        ov.save_model(model, staged, compress_to_fp16=False)
        os.replace(staged.with_suffix(".bin"), xml.with_suffix(".bin"))
        os.replace(staged, xml)


def ir_digest(xml: Path) -> str:
    """Content hash of an IR pair."""
    return files_digest([xml, xml.with_suffix(".bin")], root=xml.parent)


def source_digest(path: Path) -> str:
    """Content hash of a user's model: an IR pair, a SavedModel folder or a single file."""
    if path.is_dir():
        return files_digest([p for p in path.rglob("*") if p.is_file()], root=path)
    if path.suffix.lower() == ".xml" and path.with_suffix(".bin").is_file():
        return files_digest([path, path.with_suffix(".bin")], root=path.parent)
    return file_digest(path)
