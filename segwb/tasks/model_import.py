"""Model import: read a model, resolve its card (given fields, then what the graph and the tasks' output
signatures say) and store it as IR with its card in a project."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openvino as ov

from ..core.errors import ModelError
from ..io.model_card import (ULTRALYTICS_METADATA, ModelCard, build_card, card_file, find_card_file, gather_fields,
                             read_card_file, read_ultralytics_metadata, write_card)
from ..io.integer_io import float_io
from ..io.model_file import ir_digest, read_model, save_ir
from ..io.model_inspect import input_fields, outputs_described, reshape_input, rt_info_labels, with_batch_axis
from . import REGISTRY, card_vocabulary, get


# The version of how a graph is read into a card (signatures, inferred fields): a new one imports again.
IMPORT_VERSION = 2


@dataclass(frozen=True)
class ImportedModel:
    """An IR inside a project, with the card that describes it and its content hash."""

    xml: Path
    card: ModelCard
    digest: str


def infer_fields(model: ov.Model, path: Path) -> dict[str, Any]:
    """Card fields the graph determines: the input's (layout, size, raw u8 scaling), and the task, adapter and input
    conventions a known output signature implies (what the input itself says wins)."""
    found = input_fields(model, path)
    metadata = (path if path.is_dir() else path.parent) / ULTRALYTICS_METADATA
    if "input_size" not in found and metadata.is_file():  # a dynamic Ultralytics export: the size it was made for
        found.update({k: v for k, v in read_ultralytics_metadata(metadata).items() if k == "input_size"})
    labels = rt_info_labels(model)  # the last source of names: the card, labels.txt and metadata.yaml come first
    if labels:
        found["labels"] = labels
    recognised: dict[str, Any] = {}
    for task in REGISTRY.values():
        recognised = {**task.recognise(model), **recognised}
    return {**recognised, **found}


def read_graph(path: Path) -> tuple[ov.Model, dict[str, Any]]:
    """A model file as segwb feeds it: a batch axis on a single-image input, and TFLite's quantized integer I/O as
    real values; with the card fields that rewrite implies."""
    model = with_batch_axis(read_model(path))
    # Only for TFLite: an NNCF or POT IR whose first FakeQuantize spans 0..255 after a u8 input keeps that input
    # (there it is the model's own first quantizer, not a dequantization of the input)
    return float_io(model) if path.suffix.lower() == ".tflite" else (model, {})


def describe(path: str | Path, card_path: str | Path | None = None,
             overrides: dict[str, Any] | None = None) -> tuple[ov.Model, ModelCard]:
    """Read a model and resolve its card; the model is reshaped to the card's input size."""
    path = Path(path)
    model, io_fields = read_graph(path)
    fields = gather_fields(path, Path(card_path) if card_path else None, overrides or {})
    inferred = {**io_fields, **infer_fields(model, path)}
    merged = {**inferred, **fields}
    layout, size = str(merged.get("layout", "")).upper(), merged.get("input_size")
    if layout in ("NCHW", "NHWC") and isinstance(size, (list, tuple)) and len(size) == 2 \
            and all(isinstance(v, int) and v > 0 for v in size):
        reshape_input(model, layout, size, path)  # output shapes (hence the output layout) follow the card's size
    if str(merged.get("task")) in REGISTRY:
        inferred.update(get(merged["task"]).output_fields(model, merged, path))
    try:
        card = build_card(fields, inferred, card_vocabulary())
    except ModelError as exc:
        reason = exc.reason
        if reason.startswith(("cannot infer 'task'", "cannot infer 'adapter'")):  # say what the graph does have
            reason += f"; the model's outputs are {outputs_described(model)}"
        raise ModelError(reason, blame(exc.reason, path, card_path, overrides or {})) from exc
    reshape_input(model, card.layout, card.input_size, path)
    get(card.task).check_outputs(model, card, path)
    return model, card


def blame(message: str, model: Path, card_path: str | Path | None, overrides: dict[str, Any]) -> Path:
    """The file a card error is about: the card file when the field it names came from there (not from a flag, which
    wins over it), else the model."""
    card = Path(card_path) if card_path else find_card_file(model)
    named = re.search(r"'(\w+)'", message)
    field = named.group(1) if named else None
    if card is not None and field and overrides.get(field) is None and field in read_card_file(card):
        return card
    return model


def import_model(path: str | Path, dest_xml: Path, card_path: str | Path | None = None,
                 overrides: dict[str, Any] | None = None,
                 check: Callable[[ov.Model], None] | None = None) -> ImportedModel:
    """Read, check and describe a model, then store it as IR (+ card) at ``dest_xml``; ``check`` may refuse the
    described model before anything is written."""
    model, card = describe(path, card_path, overrides)
    if check is not None:
        check(model)
    save_ir(model, dest_xml)
    write_card(card, card_file(dest_xml))
    return ImportedModel(dest_xml, card, ir_digest(dest_xml))
