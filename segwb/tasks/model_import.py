"""Model import: read a model, resolve its card (given fields, then what the graph and the tasks' output
signatures say) and store it as IR with its card in a project."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openvino as ov

from ..core.errors import ModelError
from ..io.model_card import (ULTRALYTICS_METADATA, ModelCard, build_card, card_file, find_card_file, gather_fields,
                             read_card_file, read_ultralytics_metadata, write_card)
from ..io.model_file import ir_digest, read_model, save_ir
from ..io.model_inspect import input_fields, reshape_input
from . import REGISTRY, card_vocabulary, get


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
    recognised: dict[str, Any] = {}
    for task in REGISTRY.values():
        recognised = {**task.recognise(model), **recognised}
    return {**recognised, **found}


def describe(path: str | Path, card_path: str | Path | None = None,
             overrides: dict[str, Any] | None = None) -> tuple[ov.Model, ModelCard]:
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
    if str(merged.get("task")) in REGISTRY:
        inferred.update(get(merged["task"]).output_fields(model, merged, path))
    try:
        card = build_card(fields, inferred, card_vocabulary())
    except ModelError as exc:
        raise ModelError(exc.reason, blame(exc.reason, path, card_path, overrides or {})) from exc
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
                 overrides: dict[str, Any] | None = None) -> ImportedModel:
    """Read, check and describe a model, then store it as IR (+ card) at ``dest_xml``."""
    model, card = describe(path, card_path, overrides)
    save_ir(model, dest_xml)
    write_card(card, card_file(dest_xml))
    return ImportedModel(dest_xml, card, ir_digest(dest_xml))
