"""Model card: what the graph cannot say about pre- and post-processing.

A card comes from a YAML file next to the model (``<stem>.yml``, ``<stem>.yaml`` or
``model-card.yml``), from CLI flags, or both (flags win). Fields that the graph determines
(layout, input size, output adapter and layout, raw u8 input) are inferred; a field that cannot
be inferred is asked for by name. Which tasks and adapters exist is the task registry's to say
(:func:`segwb.tasks.card_vocabulary`): a card is built against that vocabulary.
"""

from __future__ import annotations

import dataclasses
import math
import reprlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..core.errors import ModelError
from ..core.paths import control_free, is_within
from ..core.storage import write_text
from .labels import read_labels
from .yaml_files import indexed_names, read_mapping

Vocabulary = Mapping[str, Sequence[str]]  # task name -> the adapters it has
LAYOUTS = ("NCHW", "NHWC")
COLOR_ORDERS = ("RGB", "BGR")
RESIZE_MODES = ("stretch", "fit_pad", "letterbox")
PAD_POSITIONS = ("top_left", "center")  # where a fitted image sits: padding right/bottom, or on both sides
# OpenCV's filters, and Pillow's, which widen with the downscale factor (antialiased) as Open Model Zoo's
# accuracy checker resizes with `use_pillow: true` (its ANTIALIAS is Pillow's LANCZOS)
INTERPOLATIONS = ("linear", "nearest", "cubic", "area", "pillow_bilinear", "pillow_bicubic", "pillow_lanczos")
BOX_UNITS = ("pixels", "normalized")  # detection boxes in model-input pixels, or as fractions of the input size
ACTIVATIONS = ("none", "sigmoid")  # semantic one-channel outputs: a probability already, or a logit
ULTRALYTICS_METADATA = "metadata.yaml"
MAX_INPUT_SIDE = 16384
MAX_LABELS = 10_000


@dataclass(frozen=True)
class ModelCard:
    """Everything needed to turn an image into the model's input and its output into a class map."""

    task: str
    layout: str
    color_order: str
    mean: tuple[float, float, float]
    scale: tuple[float, float, float]
    resize: str
    pad_value: float
    input_size: tuple[int, int]  # (height, width)
    adapter: str
    pad_position: str | None = None  # top_left or center; None: the resize mode's own (center for letterbox)
    interpolation: str = "linear"
    output_layout: str | None = None  # for score outputs
    output: str | None = None  # output tensor name when the model has several
    threshold: float = 0.5  # single-channel probability outputs and instance masks: foreground above this
    nms_iou: float = 0.7  # yolo_raw: class-aware NMS IoU (Ultralytics' default)
    box_units: str = "pixels"  # instance: "normalized" for exports that divide boxes by the input size (TFLite)
    proto_layout: str | None = None  # instance prototypes NCHW [1,K,h,w] or NHWC [1,h,w,K], when shapes cannot say
    activation: str = "none"  # semantic one-channel output: "sigmoid" when it is a logit
    labels: tuple[str, ...] = field(default_factory=tuple)

    @property
    def placement(self) -> str:
        """Where a fitted image sits in the input: ``pad_position``, else its resize mode's own (as before the field
        existed: centred for letterbox, top-left for fit_pad)."""
        return self.pad_position or ("center" if self.resize == "letterbox" else "top_left")

    @property
    def num_classes(self) -> int | None:
        """Number of classes, when the labels are known."""
        return len(self.labels) or None

    def label(self, class_id: int) -> str | None:
        """Name of ``class_id``, or None when the card has no labels for it."""
        return self.labels[class_id] if 0 <= class_id < len(self.labels) else None

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form, as written to ``model-card.yml`` and ``report.json``."""
        d = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


def logit_cut(threshold: float) -> float:
    """The logit above which sigmoid(x) > ``threshold`` (a card's ``threshold`` applied to logits)."""
    return math.log(threshold / (1 - threshold)) if threshold < 1 else math.inf


CARD_FIELDS = {f.name for f in dataclasses.fields(ModelCard)}
CARD_FILE_NAMES = ("{stem}.yml", "{stem}.yaml", "model-card.yml", "model-card.yaml")


def find_card_file(model_path: Path) -> Path | None:
    """The card YAML that sits next to ``model_path``, if any."""
    folder = model_path if model_path.is_dir() else model_path.parent
    for pattern in CARD_FILE_NAMES:
        candidate = folder / pattern.format(stem=model_path.stem)
        if candidate.is_file():
            return candidate
    return None


def read_card_file(path: Path) -> dict[str, Any]:
    """Card fields from a YAML file; unknown keys are refused so that typos do not pass silently."""
    data = read_mapping(path, ModelError, "model card", " of field: value", allow_empty=True, unique_keys=True)
    unknown = sorted(str(k) for k in set(data) - CARD_FIELDS - {"labels_file"})
    if unknown:
        raise ModelError(f"unknown model card field(s) {', '.join(unknown)}; known: {', '.join(sorted(CARD_FIELDS | {'labels_file'}))}", path)
    if "labels_file" in data:
        name = data.pop("labels_file")
        if not isinstance(name, str) or not name.strip():
            raise ModelError(f"model card field 'labels_file' must be a file name, got {shown(name)}", path)
        if not is_within(path.parent / name, path.parent):  # a card describes its model's folder, not the machine
            raise ModelError(f"model card field 'labels_file' must name a file in the card's folder, got {shown(name)}", path)
        data["labels"] = read_labels(path.parent / name)
    try:
        check_fields(data)
    except ModelError as exc:
        raise ModelError(exc.reason, path) from exc
    return data


def read_ultralytics_metadata(path: Path) -> dict[str, Any]:
    """Card fields from the ``metadata.yaml`` Ultralytics writes beside its exports: ``names`` as the labels and
    ``imgsz`` as the input size (both checked as a card's)."""
    data = read_mapping(path, ModelError, shape=" (Ultralytics' export metadata)")
    fields: dict[str, Any] = {}
    if data.get("names") is not None:
        fields["labels"] = indexed_names(data["names"])
    size = data.get("imgsz")
    if size is not None:
        fields["input_size"] = [size, size] if isinstance(size, int) and not isinstance(size, bool) else size
    try:
        check_fields(fields)
    except ModelError as exc:
        raise ModelError(exc.reason.replace("model card field", "field"), path) from exc
    return fields


def side_files(model_path: Path, card_path: Path | None = None) -> list[Path]:
    """The files beside the model that :func:`gather_fields` reads (Ultralytics' metadata, labels, the card found
    next to it), so that a change to any of them is a new import."""
    folder = model_path if model_path.is_dir() else model_path.parent
    found = [folder / ULTRALYTICS_METADATA, folder / "labels.txt", card_path or find_card_file(model_path)]
    return [f for f in found if f is not None and f.is_file()]


def gather_fields(model_path: Path, card_path: Path | None, overrides: dict[str, Any]) -> dict[str, Any]:
    """Merge, lowest priority first: Ultralytics' ``metadata.yaml`` and ``labels.txt`` next to the model, the card
    file, CLI overrides."""
    fields: dict[str, Any] = {}
    folder = model_path if model_path.is_dir() else model_path.parent
    if (folder / ULTRALYTICS_METADATA).is_file():  # its imgsz is the graph's to say first (model_import)
        fields.update({k: v for k, v in read_ultralytics_metadata(folder / ULTRALYTICS_METADATA).items() if k == "labels"})
    if (folder / "labels.txt").exists():
        fields["labels"] = read_labels(folder / "labels.txt")  # a folder or unreadable file is a one-line error
    card_path = card_path or find_card_file(model_path)
    if card_path is not None:
        card = read_card_file(card_path)
        if "task" in card and overrides.get("task") and str(card["task"]).lower() != str(overrides["task"]).lower():
            raise ModelError(f"the model card is for task {shown(card['task'])}, but this run is {shown(overrides['task'])}",
                             card_path)
        fields.update(card)
    fields.update({k: v for k, v in overrides.items() if v is not None})
    return fields


# Field checks: a card is typed data from a user's file; each value is checked for its type and range here,
# once, so that nothing downstream meets "abc" where a number belongs (list("abc") has three elements).

_SHOWN = reprlib.Repr()
_SHOWN.maxlevel, _SHOWN.maxlist, _SHOWN.maxdict, _SHOWN.maxstring, _SHOWN.maxother = 2, 6, 4, 60, 60


def shown(value: Any) -> str:
    """A card value as an error message quotes it: bounded (YAML aliases can make a tiny file a huge value)."""
    return control_free(_SHOWN.repr(value), 200)


def _is_number(value: Any) -> bool:
    try:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    except OverflowError:  # an integer of hundreds of digits
        return False


def _number(value: Any, name: str, low: float | None = None, high: float | None = None,
            open_low: bool = False) -> float:
    if not _is_number(value):
        raise ModelError(f"model card field '{name}' must be a number, got {shown(value)}")
    bad_low = low is not None and (value <= low if open_low else value < low)
    if bad_low or (high is not None and value > high):
        span = f"{'(' if open_low else '['}{low:g}, {high:g}]" if high is not None else f"{'>' if open_low else '>='} {low:g}"
        raise ModelError(f"model card field '{name}' must be in {span}, got {shown(value)}")
    return float(value)


def _triple(value: Any, name: str, nonzero: bool = False) -> tuple[float, float, float]:
    """One number or one per colour channel (1 or 3)."""
    values = [value] if _is_number(value) or not isinstance(value, (list, tuple)) else list(value)
    if len(values) == 1:
        values *= 3
    if len(values) != 3 or not all(_is_number(v) for v in values):
        raise ModelError(f"model card field '{name}' needs one number or three (per channel), got {shown(value)}")
    if nonzero and any(v == 0 for v in values):
        raise ModelError(f"model card field '{name}' must not be 0 (input = (pixel - mean) / scale), got {shown(value)}")
    return tuple(float(v) for v in values)  # type: ignore[return-value]


def _size(value: Any) -> tuple[int, int]:
    ok = isinstance(value, (list, tuple)) and len(value) == 2 and all(
        _is_number(v) and float(v).is_integer() and 0 < v <= MAX_INPUT_SIDE for v in value)
    if not ok:
        raise ModelError(f"model card field 'input_size' must be [height, width] in pixels (1..{MAX_INPUT_SIDE}), "
                         f"got {shown(value)}")
    return int(value[0]), int(value[1])


def _labels(value: Any) -> tuple[str, ...]:
    ok = isinstance(value, (list, tuple)) and all(
        (isinstance(v, str) and v.strip()) or (isinstance(v, int) and not isinstance(v, bool)) for v in value)
    if not ok or len(value) > MAX_LABELS:
        raise ModelError(f"model card field 'labels' must be a list of class names (one per class id), got "
                         f"{shown(value)}")
    return tuple(str(v).strip() for v in value)


CHECKS = {
    "mean": lambda v: _triple(v, "mean"),
    "scale": lambda v: _triple(v, "scale", nonzero=True),
    "pad_value": lambda v: _number(v, "pad_value", 0, 255),
    "input_size": _size,
    "threshold": lambda v: _number(v, "threshold", 0, 1, open_low=True),
    "nms_iou": lambda v: _number(v, "nms_iou", 0, 1, open_low=True),
    "labels": _labels,
    "output": lambda v: _word(v, "output", what="a tensor name"),
    "task": lambda v: _word(v, "task"),
    "adapter": lambda v: _word(v, "adapter"),
    "layout": lambda v: _word(v, "layout", LAYOUTS),
    "output_layout": lambda v: _word(v, "output_layout", LAYOUTS),
    "color_order": lambda v: _word(v, "color_order", COLOR_ORDERS),
    "resize": lambda v: _word(v, "resize", RESIZE_MODES),
    "pad_position": lambda v: _word(v, "pad_position", PAD_POSITIONS),
    "interpolation": lambda v: _word(v, "interpolation", INTERPOLATIONS),
    "box_units": lambda v: _word(v, "box_units", BOX_UNITS),
    "proto_layout": lambda v: _word(v, "proto_layout", LAYOUTS),
    "activation": lambda v: _word(v, "activation", ACTIVATIONS),
}


def _word(value: Any, name: str, choices: tuple[str, ...] = (), what: str = "a word") -> str:
    """A text value; one of ``choices`` (case-insensitive) when given. Task and adapter names are the vocabulary's
    to check (:func:`build_card`)."""
    if isinstance(value, str) and value and (not choices or value.upper() in choices or value.lower() in choices):
        return value
    wanted = f"one of {', '.join(choices)}" if choices else what
    raise ModelError(f"model card field '{name}' must be {wanted}, got {shown(value)}")


def check_fields(fields: dict[str, Any]) -> None:
    """Refuse a card value of the wrong type or out of range (one line naming the field)."""
    for name, value in fields.items():
        if name in CHECKS and value is not None:
            CHECKS[name](value)


def _choice(fields: dict[str, Any], name: str, choices: tuple[str, ...], why: str) -> str:
    if name not in fields:
        raise ModelError(f"cannot infer '{name}' ({' or '.join(choices)}) {why}: give it in the model card or as --{name.replace('_', '-')}")
    value = str(fields[name])
    normalised = value.upper() if choices[0].isupper() else value.lower()
    if normalised not in choices:
        raise ModelError(f"model card field '{name}' must be one of {', '.join(choices)}, got {shown(value)}")
    return normalised


def _given(fields: dict[str, Any], name: str, default: Any) -> Any:
    """A field's value, or ``default`` when it is absent or left empty (``threshold:`` in YAML is None)."""
    value = fields.get(name)
    return default if value is None else value


def build_card(fields: dict[str, Any], inferred: dict[str, Any], vocabulary: Vocabulary) -> ModelCard:
    """A complete card from given fields plus graph-inferred ones (given fields win), its task and adapter one of
    ``vocabulary``'s; every value checked for type and range (:func:`check_fields`)."""
    merged = {**inferred, **fields}
    check_fields(merged)
    task = _choice(merged, "task", tuple(vocabulary), "from the graph")
    layout = _choice(merged, "layout", LAYOUTS, "from the input shape")
    color = _choice(merged, "color_order", COLOR_ORDERS, "from the graph")
    resize = _choice(merged, "resize", RESIZE_MODES, "from the graph")
    if "mean" not in merged or "scale" not in merged:
        missing = [k for k in ("mean", "scale") if k not in merged]
        raise ModelError(f"cannot infer {' and '.join(repr(m) for m in missing)} for a floating-point input: "
                         "give them in the model card (input = (pixel - mean) / scale, e.g. mean 0, scale 255 for 0..1)")
    if "input_size" not in merged:
        raise ModelError("the input has a dynamic height or width: give 'input_size' [height, width] in the model card or as --input-size")
    adapter = _choice(merged, "adapter", tuple(vocabulary[task]), "from the outputs")
    output_layout = merged.get("output_layout")
    if adapter == "scores":
        output_layout = _choice(merged, "output_layout", LAYOUTS, "from the output shape")
    return ModelCard(
        task=task, layout=layout, color_order=color,
        mean=_triple(merged["mean"], "mean"), scale=_triple(merged["scale"], "scale", nonzero=True),
        resize=resize, pad_value=float(_given(merged, "pad_value", 114 if resize == "letterbox" else 0)),
        input_size=_size(merged["input_size"]),
        pad_position=str(merged["pad_position"]).lower() if merged.get("pad_position") else None,
        interpolation=str(merged.get("interpolation") or "linear").lower(),
        adapter=adapter, output_layout=output_layout, output=merged.get("output"),
        threshold=float(_given(merged, "threshold", 0.5)),
        nms_iou=float(_given(merged, "nms_iou", 0.7)),
        box_units=str(merged.get("box_units") or "pixels").lower(),
        proto_layout=str(merged["proto_layout"]).upper() if merged.get("proto_layout") else None,
        activation=str(merged.get("activation") or "none").lower(),
        labels=_labels(_given(merged, "labels", ())),
    )


def write_card(card: ModelCard, path: Path) -> None:
    """Store a resolved card as YAML (atomically) so an imported model is self-describing."""
    write_text(path, yaml.safe_dump(card.to_dict(), sort_keys=False))


def load_card(path: Path, vocabulary: Vocabulary) -> ModelCard:
    """Read a card that :func:`write_card` wrote."""
    data = read_card_file(path)
    return build_card(data, {}, vocabulary)


def card_file(xml: Path) -> Path:
    """Where an imported IR keeps its card."""
    return xml.with_name("model-card.yml")
