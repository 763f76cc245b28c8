"""Model card: what the graph cannot say about pre- and post-processing.

A card comes from a YAML file next to the model (``<stem>.yml``, ``<stem>.yaml`` or
``model-card.yml``), from CLI flags, or both (flags win). Fields that the graph determines
(layout, input size, output adapter and layout, raw u8 input) are inferred; a field that cannot
be inferred is asked for by name. Which tasks and adapters exist is the task registry's to say
(:func:`segwb.tasks.card_vocabulary`): a card is built against that vocabulary.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..core.errors import ModelError, first_line
from ..core.storage import write_text
from .labels import read_labels

Vocabulary = Mapping[str, Sequence[str]]  # task name -> the adapters it has
LAYOUTS = ("NCHW", "NHWC")
COLOR_ORDERS = ("RGB", "BGR")
RESIZE_MODES = ("stretch", "fit_pad", "letterbox")


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
    output_layout: str | None = None  # for score outputs
    output: str | None = None  # output tensor name when the model has several
    threshold: float = 0.5  # single-channel probability outputs and instance masks: foreground above this
    nms_iou: float = 0.7  # yolo_raw: class-aware NMS IoU (Ultralytics' default)
    labels: tuple[str, ...] = field(default_factory=tuple)

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
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ModelError(f"model card is not readable YAML ({first_line(exc)})", path) from exc
    if not isinstance(data, dict):
        raise ModelError("model card must be a YAML mapping of field: value", path)
    unknown = sorted(set(data) - CARD_FIELDS - {"labels_file"})
    if unknown:
        raise ModelError(f"unknown model card field(s) {', '.join(unknown)}; known: {', '.join(sorted(CARD_FIELDS))}", path)
    if "labels_file" in data:
        data["labels"] = read_labels(path.parent / data.pop("labels_file"))
    return data


def gather_fields(model_path: Path, card_path: Path | None, overrides: dict[str, Any]) -> dict[str, Any]:
    """Merge, lowest priority first: ``labels.txt`` next to the model, the card file, CLI overrides."""
    fields: dict[str, Any] = {}
    folder = model_path if model_path.is_dir() else model_path.parent
    if (folder / "labels.txt").is_file():
        fields["labels"] = read_labels(folder / "labels.txt")
    card_path = card_path or find_card_file(model_path)
    if card_path is not None:
        fields.update(read_card_file(card_path))
    fields.update({k: v for k, v in overrides.items() if v is not None})
    return fields


def _triple(value: Any, name: str) -> tuple[float, float, float]:
    values = [value] * 3 if isinstance(value, (int, float)) else list(value)
    if len(values) != 3:
        raise ModelError(f"model card field '{name}' needs one number or three (per channel), got {value!r}")
    return tuple(float(v) for v in values)  # type: ignore[return-value]


def _choice(fields: dict[str, Any], name: str, choices: tuple[str, ...], why: str) -> str:
    if name not in fields:
        raise ModelError(f"cannot infer '{name}' ({' or '.join(choices)}) {why}: give it in the model card or as --{name.replace('_', '-')}")
    value = str(fields[name])
    normalised = value.upper() if choices[0].isupper() else value.lower()
    if normalised not in choices:
        raise ModelError(f"model card field '{name}' must be one of {', '.join(choices)}, got {value!r}")
    return normalised


def build_card(fields: dict[str, Any], inferred: dict[str, Any], vocabulary: Vocabulary) -> ModelCard:
    """A complete card from given fields plus graph-inferred ones (given fields win), its task and adapter one of
    ``vocabulary``'s."""
    merged = {**inferred, **fields}
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
    size = tuple(int(v) for v in merged["input_size"])
    if len(size) != 2 or min(size) <= 0:
        raise ModelError(f"model card field 'input_size' must be [height, width], got {merged['input_size']!r}")
    adapter = _choice(merged, "adapter", tuple(vocabulary[task]), "from the outputs")
    output_layout = merged.get("output_layout")
    if adapter == "scores":
        output_layout = _choice(merged, "output_layout", LAYOUTS, "from the output shape")
    return ModelCard(
        task=task, layout=layout, color_order=color,
        mean=_triple(merged["mean"], "mean"), scale=_triple(merged["scale"], "scale"),
        resize=resize, pad_value=float(merged.get("pad_value", 114 if resize == "letterbox" else 0)),
        input_size=size,  # type: ignore[arg-type]
        adapter=adapter, output_layout=output_layout, output=merged.get("output"),
        threshold=float(merged.get("threshold", 0.5)),
        nms_iou=float(merged.get("nms_iou", 0.7)),
        labels=tuple(str(x) for x in merged.get("labels", ())),
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
