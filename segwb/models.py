"""Model import: read IR, ONNX, TFLite, TensorFlow (.pb, SavedModel), check it, infer its card, save IR."""

from __future__ import annotations

import os
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openvino as ov

from .errors import ModelError
from .instance_adapters import check_outputs, infer_adapter
from .modelcard import ModelCard, build_card, gather_fields, write_card
from .runtime import core
from .semantic import num_classes
from .storage import files_digest

CONVERTIBLE = {".onnx": "ONNX", ".tflite": "TFLite", ".pb": "TensorFlow frozen graph"}
SUPPORTED = ".xml (+ .bin), .onnx, .tflite, .pb or a TensorFlow SavedModel folder"


@dataclass(frozen=True)
class ImportedModel:
    """An IR inside a project, with the card that describes it and its content hash."""

    xml: Path
    card: ModelCard
    digest: str

    @property
    def bin(self) -> Path:
        return self.xml.with_suffix(".bin")

    @property
    def size_bytes(self) -> int:
        return self.bin.stat().st_size


def read_model(path: str | Path) -> ov.Model:
    """Read or convert a model file; bad files raise a one-line :class:`ModelError` naming them."""
    path = Path(path)
    if not path.exists():
        raise ModelError("no such file or folder", path)
    if path.is_dir():
        if not (path / "saved_model.pb").is_file():
            raise ModelError(f"folder is not a TensorFlow SavedModel (no saved_model.pb); segwb reads {SUPPORTED}", path)
        return _convert(path, "TensorFlow SavedModel")
    suffix = path.suffix.lower()
    if suffix == ".xml":
        return _read_ir(path)
    if suffix == ".bin":
        raise ModelError("this is the weights half of an IR: give the .xml file next to it", path)
    if suffix in CONVERTIBLE:
        return _convert(path, CONVERTIBLE[suffix])
    raise ModelError(f"unsupported model format '{suffix or path.name}'; segwb reads {SUPPORTED}", path)


def _read_ir(xml: Path) -> ov.Model:
    weights = xml.with_suffix(".bin")
    needed = _ir_weights_extent(xml)
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
                extent = max(extent, int(elem.attrib["offset"]) + int(elem.attrib["size"]))
    except (ET.ParseError, StopIteration) as exc:
        raise ModelError(f"not an OpenVINO IR: the .xml does not parse ({exc})", xml) from exc
    return extent


def _convert(path: Path, kind: str) -> ov.Model:
    extensions: list[Any] = []
    if kind == "TFLite":
        from .tflite_extensions import mediapipe_extensions

        extensions = mediapipe_extensions()
    try:
        return ov.convert_model(str(path), extension=extensions or None)
    except Exception as exc:
        raise ModelError(f"cannot be read as a {kind} model ({first_line(exc)})", path) from exc


def first_line(exc: BaseException, limit: int = 200) -> str:
    """The most informative single line of an exception message (OpenVINO's are long)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    useful = [ln for ln in lines if not ln.startswith(("Check ", "Exception from src", "Traceback", "File "))]
    text = (useful or lines or [type(exc).__name__])[0]
    return text if len(text) <= limit else text[: limit - 1] + "…"


def image_input(model: ov.Model, path: Path) -> ov.Output:
    """The model's single image input; anything else is a clear error."""
    inputs = model.inputs
    if not inputs:
        raise ModelError("the model has no inputs", path)
    if len(inputs) > 1:
        names = ", ".join(i.get_any_name() for i in inputs)
        raise ModelError(f"the model has {len(inputs)} inputs ({names}); segwb feeds exactly one image input", path)
    inp = inputs[0]
    if inp.get_partial_shape().rank.is_dynamic or inp.get_partial_shape().rank.get_length() != 4:
        raise ModelError(f"input '{inp.get_any_name()}' has shape {inp.get_partial_shape()}, not an image (N,C,H,W or N,H,W,C)", path)
    return inp


def infer_fields(model: ov.Model, path: Path) -> dict[str, Any]:
    """Card fields that the graph determines: layout, input size, raw u8 scaling, output adapter."""
    inp = image_input(model, path)
    dims = [d.get_length() if d.is_static else None for d in inp.get_partial_shape()]
    found: dict[str, Any] = {}
    channels_first, channels_last = dims[1] in (1, 3), dims[3] in (1, 3)
    if channels_first != channels_last:
        found["layout"] = "NCHW" if channels_first else "NHWC"
    if not channels_first and not channels_last:
        raise ModelError(f"input '{inp.get_any_name()}' has shape {inp.get_partial_shape()}: no colour channel of size 1 or 3", path)
    layout = found.get("layout")
    if layout:
        h, w = (dims[2], dims[3]) if layout == "NCHW" else (dims[1], dims[2])
        if h is not None and w is not None:
            found["input_size"] = [h, w]
    if inp.get_element_type() == ov.Type.u8:
        found.update(mean=0, scale=1)
    if len(model.outputs) == 1 and _looks_per_pixel(model.outputs[0]):
        found["task"] = "semantic"
    # Known instance signatures also imply input conventions (e.g. Ultralytics' RGB 0..1 letterbox);
    # what the graph itself says (u8 input, layout) still wins.
    return {**infer_adapter(model), **found}


def _looks_per_pixel(out: ov.Output) -> bool:
    shape = out.get_partial_shape()
    return shape.rank.is_static and shape.rank.get_length() in (3, 4)


def select_output(model: ov.Model, name: str | None, path: Path) -> ov.Output:
    """The output the adapter reads: the only one, or the one the card names."""
    outputs = model.outputs
    if name:
        for out in outputs:
            if name in out.get_names():
                return out
        names = ", ".join(o.get_any_name() for o in outputs)
        raise ModelError(f"model card names output '{name}', but the model's outputs are {names}", path)
    if len(outputs) != 1:
        names = ", ".join(o.get_any_name() for o in outputs)
        raise ModelError(f"the model has {len(outputs)} outputs ({names}): name the one to use in the model card field 'output'", path)
    return outputs[0]


def infer_output_fields(model: ov.Model, fields: dict[str, Any], path: Path) -> dict[str, Any]:
    """Semantic adapter and output layout from the output's type and shape (given fields win)."""
    out = select_output(model, fields.get("output"), path)
    shape = out.get_partial_shape()
    found: dict[str, Any] = {}
    if shape.rank.is_dynamic:
        return found
    integer = out.get_element_type().is_integral()
    found["adapter"] = "class_map" if integer else "scores"
    dims = [d.get_length() if d.is_static else None for d in shape]
    if not integer and len(dims) == 4 and "input_size" in fields:
        found.update(_score_layout(dims, fields["input_size"]))
    return found


def _score_layout(dims: list[int | None], input_size: list[int]) -> dict[str, str]:
    """NCHW or NHWC for a score tensor, by which pair of dims has the input's aspect ratio."""
    aspect = input_size[0] / input_size[1]

    def fits(h: int | None, w: int | None, c: int | None) -> bool:
        return bool(h and w and c) and abs(h / w - aspect) < 0.1 * aspect and c < min(h, w)  # type: ignore[operator]

    nchw, nhwc = fits(dims[2], dims[3], dims[1]), fits(dims[1], dims[2], dims[3])
    return {"output_layout": "NCHW" if nchw else "NHWC"} if nchw != nhwc else {}


def check_output(model: ov.Model, card: ModelCard, path: Path) -> None:
    """Refuse an output whose shape does not fit the card's adapter."""
    if card.task == "instance":
        problem = check_outputs(model, card)
        if problem:
            raise ModelError(problem, path)
        return
    out = select_output(model, card.output, path)
    dims = [d.get_length() if d.is_static else -1 for d in out.get_partial_shape()]
    name = out.get_any_name()
    if card.adapter == "class_map":
        ok = len(dims) == 3 or (len(dims) == 4 and (dims[1] == 1 or dims[3] == 1))
        if not ok or dims[0] not in (1, -1):
            raise ModelError(f"output '{name}' has shape {dims}; adapter class_map expects [1,H,W] class ids", path)
    elif card.adapter == "scores":
        if len(dims) != 4 or dims[0] not in (1, -1):
            raise ModelError(f"output '{name}' has shape {dims}; adapter scores expects [1,C,H,W] or [1,H,W,C]", path)
        channels = dims[1] if card.output_layout == "NCHW" else dims[3]
        if card.labels and channels not in (-1, len(card.labels)) and not (channels == 1 and len(card.labels) == 2):
            raise ModelError(f"output '{name}' has {channels} class channels but the model card has {len(card.labels)} labels", path)


def reshape_to_card(model: ov.Model, card: ModelCard, path: Path) -> None:
    """Give a dynamic (or differently sized) input the card's static batch-1 shape."""
    reshape_input(model, card.layout, card.input_size, path)


def reshape_input(model: ov.Model, layout: str, input_size: Any, path: Path) -> None:
    """Give the image input the static batch-1 shape of ``input_size`` [height, width] in ``layout``."""
    inp = image_input(model, path)
    h, w = input_size
    channels = [d for i, d in enumerate(inp.get_partial_shape()) if i == (1 if layout == "NCHW" else 3)][0]
    c = channels.get_length() if channels.is_static else 3
    target = [1, c, h, w] if layout == "NCHW" else [1, h, w, c]
    if inp.get_partial_shape().is_static and list(inp.get_shape()) == target:
        return
    try:
        model.reshape({inp: ov.PartialShape(target)})
    except Exception as exc:
        raise ModelError(f"cannot reshape input '{inp.get_any_name()}' to {target} ({first_line(exc)})", path) from exc


def describe(path: str | Path, card_path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> tuple[ov.Model, ModelCard]:
    """Read a model and resolve its card; the model is reshaped to the card's input size."""
    path = Path(path)
    model = read_model(path)
    fields = gather_fields(path, Path(card_path) if card_path else None, overrides or {})
    inferred = infer_fields(model, path)
    merged = {**inferred, **fields}
    layout, size = str(merged.get("layout", "")).upper(), merged.get("input_size")
    if layout in ("NCHW", "NHWC") and isinstance(size, (list, tuple)) and len(size) == 2 \
            and all(isinstance(v, int) and v > 0 for v in size):
        reshape_input(model, layout, size, path)  # output shapes (hence the output layout) follow the card's size
    if merged.get("task", "semantic") == "semantic":
        inferred.update(infer_output_fields(model, merged, path))
    try:
        card = build_card(fields, inferred)
    except ModelError as exc:
        raise ModelError(str(exc), path) from exc
    reshape_to_card(model, card, path)
    check_output(model, card, path)
    return model, card


def save_ir(model: ov.Model, xml: Path) -> None:
    """Save an IR pair so that a crash never leaves a half-written one: the .xml lands last."""
    xml.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=xml.parent, prefix=".save-") as tmp:
        staged = Path(tmp) / "model.xml"
        ov.save_model(model, staged, compress_to_fp16=False)
        os.replace(staged.with_suffix(".bin"), xml.with_suffix(".bin"))
        os.replace(staged, xml)


def import_model(path: str | Path, dest_xml: Path, card_path: str | Path | None = None,
                 overrides: dict[str, Any] | None = None) -> ImportedModel:
    """Read, check and describe a model, then store it as IR (+ card) at ``dest_xml``."""
    model, card = describe(path, card_path, overrides)
    save_ir(model, dest_xml)
    write_card(card, card_file(dest_xml))
    return ImportedModel(dest_xml, card, ir_digest(dest_xml))


def card_file(xml: Path) -> Path:
    """Where an imported IR keeps its card."""
    return xml.with_name("model-card.yml")


def ir_digest(xml: Path) -> str:
    """Content hash of an IR pair."""
    return files_digest([xml, xml.with_suffix(".bin")], root=xml.parent)


def output_classes(xml: Path, card: ModelCard) -> int:
    """How many classes the model's adapter can produce."""
    out = select_output(core().read_model(xml), card.output, xml)
    return num_classes(card, tuple(out.get_partial_shape().get_min_shape()))
