"""Instance output adapters: raw model outputs → :class:`~segwb.tasks.instance.instances.Instances` at the original
image size. One module per family of exports, each an :class:`~.base.Adapter`; :data:`REGISTRY` lists them in the
order their signatures are tried (a new family is one module and one line here)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import openvino as ov

from ....core.errors import ModelError
from ....inference.preprocess import Geometry
from ....inference.queue import output_arrays
from ....io.model_card import ModelCard
from ..instances import Instances
from .base import Adapter, Signature, array_tensors, model_tensors
from .mask_rcnn import MASK_RCNN
from .torchvision_rcnn import TORCHVISION
from .yolact import YOLACT
from .yolo import E2E, RAW

REGISTRY: dict[str, Adapter] = {a.name: a for a in (MASK_RCNN, TORCHVISION, YOLACT, E2E, RAW)}
ADAPTERS = tuple(REGISTRY)


def signature(model: ov.Model) -> Signature:
    """The model's outputs and its input's static (height, width), if it has one image input of rank 4."""
    size = None
    if len(model.inputs) == 1:
        shape = model.inputs[0].get_partial_shape()
        if shape.rank.is_static and shape.rank.get_length() == 4 and shape.is_static:
            dims = [d.get_length() for d in shape]
            size = (dims[2], dims[3]) if dims[1] in (1, 3) else (dims[1], dims[2])
    return Signature(model_tensors(model), size)


def recognise(model: ov.Model) -> dict[str, Any]:
    """``task: instance``, the adapter and the input conventions it implies, when the outputs have one of the known
    signatures, else {}."""
    found = signature(model)
    for adapter in REGISTRY.values():
        fields = adapter.recognise(found)
        if fields is not None:
            return {"task": "instance", **fields}
    return {}


def output_fields(model: ov.Model, fields: dict[str, Any], path: Path) -> dict[str, Any]:
    """What the (reshaped) outputs settle once the adapter is known: the prototypes' layout; and boxes given as
    fractions of the input by Ultralytics' TFLite exports."""
    adapter = REGISTRY.get(str(fields.get("adapter")))
    if adapter is None:
        return {}
    found = {k: v for k, v in (adapter.recognise(signature(model)) or {}).items() if k == "proto_layout"}
    if adapter in (E2E, RAW) and path.suffix.lower() == ".tflite":
        found["box_units"] = "normalized"
    return found


def output_problem(model: ov.Model, card: ModelCard) -> str | None:
    """Why the outputs do not fit ``card.adapter`` (one line), or None when they do."""
    if card.adapter not in REGISTRY:
        return f"unknown instance adapter {card.adapter!r}; known: {', '.join(ADAPTERS)}"
    return REGISTRY[card.adapter].problem(signature(model), card)


def check_outputs(model: ov.Model, card: ModelCard, path: Path) -> None:
    """Refuse outputs that do not fit ``card.adapter`` (one line naming ``path``)."""
    problem = output_problem(model, card)
    if problem:
        raise ModelError(problem, path)


def decoder(card: ModelCard, min_score: float, max_detections: int) -> Callable[[ov.InferRequest, Geometry], Instances]:
    """The detections of a finished request, at the original image size."""
    def decode_request(request: ov.InferRequest, geometry: Geometry) -> Instances:
        return decode(output_arrays(request), card, geometry, min_score, max_detections)

    return decode_request


def decode(outputs: dict[str, np.ndarray], card: ModelCard, geometry: Geometry, min_score: float,
           max_detections: int) -> Instances:
    """Detections with score ≥ ``min_score`` (at most ``max_detections``), masks at the original size."""
    for name, array in outputs.items():
        if array.dtype.kind == "f" and not np.isfinite(array).all():  # NaN scores would drop detections unseen
            raise ModelError(f"the model's output '{name}' holds NaN or infinite values: its detections cannot be compared")
    if card.adapter not in REGISTRY:
        raise ValueError(f"unknown instance adapter {card.adapter!r}; known: {', '.join(ADAPTERS)}")
    adapter = REGISTRY[card.adapter]
    problem = adapter.problem(Signature(array_tensors(outputs), tuple(card.input_size)), card)  # dynamic outputs
    if problem:  # are checked on the graph by their rank only: the arrays of each image are checked again
        raise ModelError(problem)
    found = adapter.decode(outputs, card, geometry, min_score, max_detections)
    if found.class_ids.size and int(found.class_ids.min()) < 0:  # no name, no category: not a class at all
        raise ModelError(f"the model's output gives class id {int(found.class_ids.min())}: class ids start at 0")
    return found
