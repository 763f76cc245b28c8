"""What every instance adapter shares: a view of the outputs (names, shapes, integer or not) that works for the
graph's ports and for a finished request's arrays alike, and the geometry of boxes and masks.

An adapter is one object with a ``name`` and three methods: ``recognise`` (the card fields a signature implies, or
None), ``problem`` (why outputs do not fit, one line, or None) and ``decode`` (arrays → :class:`Instances`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import cv2
import numpy as np
import openvino as ov

from ....core.errors import ModelError
from ....inference.preprocess import Geometry
from ....io.model_card import ModelCard, logit_cut
from ....io.model_inspect import port_name
from ..instances import Instances, encode_crop


@dataclass(frozen=True)
class Tensor:
    """One output as an adapter sees it: its names (none for some exporters), shape (-1 = dynamic), integer type."""

    key: str  # the name the arrays are keyed by (port_name)
    names: frozenset[str]
    shape: tuple[int, ...]
    integer: bool

    @property
    def rank(self) -> int:
        return len(self.shape)

    def __str__(self) -> str:
        return f"{self.key} {list(self.shape)}"


def model_tensors(model: ov.Model) -> tuple[Tensor, ...]:
    """The model's outputs as :class:`Tensor` (a dynamic rank is shown as rank 0)."""
    found = []
    for i, out in enumerate(model.outputs):
        shape = out.get_partial_shape()
        dims = tuple(d.get_length() if d.is_static else -1 for d in shape) if shape.rank.is_static else ()
        found.append(Tensor(port_name(out, i), frozenset(out.get_names()), dims, out.get_element_type().is_integral()))
    return tuple(found)


def array_tensors(outputs: Mapping[str, np.ndarray]) -> tuple[Tensor, ...]:
    """A finished request's arrays as :class:`Tensor`, keyed as :func:`model_tensors` keys them."""
    return tuple(Tensor(k, frozenset({k}), tuple(v.shape), v.dtype.kind in "iub") for k, v in outputs.items())


def described(tensors: Sequence[Tensor]) -> str:
    """The outputs as an error line lists them."""
    return ", ".join(str(t) for t in tensors) or "none"


@dataclass(frozen=True)
class Signature:
    """What recognising an adapter may use: the outputs and, when static, the input's (height, width)."""

    tensors: tuple[Tensor, ...]
    input_size: tuple[int, int] | None


class Adapter(Protocol):
    """One family of instance-segmentation outputs."""

    name: str

    def recognise(self, signature: Signature) -> dict[str, Any] | None:
        """The card fields this signature implies (``adapter`` and input conventions), or None when it is not one."""

    def problem(self, signature: Signature, card: ModelCard) -> str | None:
        """Why the outputs do not fit this adapter (one line naming what was found and the card keys that would
        settle it), or None."""

    def decode(self, outputs: Mapping[str, np.ndarray], card: ModelCard, geometry: Geometry, min_score: float,
               max_detections: int) -> Instances:
        """Detections with score ≥ ``min_score`` (at most ``max_detections``), masks at the original size."""


class BoundOutputs:
    """An adapter whose outputs are found by one binding rule (``bind``: names, else shapes): it is recognised when
    they bind, and the error when they do not says what it ``needs``. Subclasses add ``decode``."""

    name: str
    needs: str  # the outputs, as the error line lists them
    implied: dict[str, Any] = {}  # card fields the signature implies (input conventions)

    def bind(self, tensors: Sequence[Tensor]) -> list[Tensor] | None:
        raise NotImplementedError

    def recognise(self, signature: Signature) -> dict[str, Any] | None:
        return {"adapter": self.name, **self.implied} if self.bind(signature.tensors) else None

    def problem(self, signature: Signature, card: ModelCard) -> str | None:
        if self.bind(signature.tensors) is None:
            return f"adapter {self.name} needs outputs {self.needs}; the model has {described(signature.tensors)}"
        return None


def by_name(tensors: Sequence[Tensor], *names: str) -> list[Tensor] | None:
    """The tensors called ``names`` (in that order) when every one is there, else None."""
    found = [next((t for t in tensors if n in t.names), None) for n in names]
    return None if any(t is None for t in found) else found  # type: ignore[return-value]


def same_count(adapter: str, counts: Mapping[str, int]) -> None:
    """Refuse outputs that disagree on the number of detections (one line naming each output and its count): an
    index past the shorter one would fail, and a detection would be paired with another one's mask or score."""
    if len(set(counts.values())) > 1:
        found = ", ".join(f"{name} {n}" for name, n in counts.items())
        raise ModelError(f"adapter {adapter}: the model's outputs disagree on the number of detections ({found})")


def batchless(array: np.ndarray, ndim: int) -> np.ndarray:
    """``array`` without a leading batch axis of 1, when it has one more axis than ``ndim``."""
    return array[0] if array.ndim == ndim + 1 and array.shape[0] == 1 else array


def to_original(boxes: np.ndarray, geometry: Geometry, clip: bool = True) -> np.ndarray:
    """Boxes (x1, y1, x2, y2) from model-input pixels to original pixels, clipped to the image unless ``clip`` is
    False."""
    h, w = geometry.original_size
    sx, sy = geometry.width / w, geometry.height / h
    out = (boxes.astype(np.float32) - np.float32([geometry.left, geometry.top] * 2)) / np.float32([sx, sy, sx, sy])
    return np.clip(out, 0, np.float32([w, h, w, h])) if clip else out


def input_pixels(boxes: np.ndarray, card: ModelCard) -> np.ndarray:
    """Boxes in model-input pixels: scaled up when the card says the model gives them as fractions of the input."""
    if card.box_units != "normalized":
        return boxes
    in_h, in_w = card.input_size
    return boxes.astype(np.float32) * np.float32([in_w, in_h, in_w, in_h])


def class_nms(boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray, candidates: np.ndarray,
              iou: float) -> np.ndarray:
    """Indices (of ``candidates``) that class-aware NMS keeps, by OpenCV; boxes are x1, y1, x2, y2."""
    if not len(candidates):
        return np.zeros(0, np.int64)
    b = boxes[candidates].astype(np.float32)
    xywh = np.concatenate([b[:, :2], b[:, 2:] - b[:, :2]], axis=1)
    picked = cv2.dnn.NMSBoxesBatched(xywh.tolist(), scores[candidates].astype(np.float32).tolist(),
                                     classes[candidates].tolist(), -1.0, iou)  # candidates are already ≥ min_score
    return candidates[np.asarray(picked, dtype=np.int64).reshape(-1)]


def proto_mask(logit: np.ndarray, box: np.ndarray, geometry: Geometry, cut: float) -> dict[str, Any]:
    """One instance's prototype logits (covering the model input), resampled inside its box at the original size,
    thresholded at ``cut``.

    A single affine warp maps original pixels to prototype coordinates (through the letterbox), so only
    the box is computed, at the same values a full-image bilinear resize would give.
    """
    h, w = geometry.original_size
    in_h, in_w = geometry.input_size
    mh, mw = logit.shape
    x0, y0 = int(np.ceil(box[0] - 0.5)), int(np.ceil(box[1] - 0.5))  # pixels whose centre is inside the box
    x1, y1 = int(np.ceil(box[2] - 0.5)), int(np.ceil(box[3] - 0.5))
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 <= x0 or y1 <= y0:
        return encode_crop(np.zeros((0, 0), np.uint8), 0, 0, (h, w))
    ax, ay = geometry.width / w * mw / in_w, geometry.height / h * mh / in_h
    bx = (geometry.left + (x0 + 0.5) * geometry.width / w) * mw / in_w - 0.5
    by = (geometry.top + (y0 + 0.5) * geometry.height / h) * mh / in_h - 0.5
    warp = np.float32([[ax, 0, bx], [0, ay, by]])
    crop = cv2.warpAffine(logit, warp, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)
    return encode_crop(crop > cut, y0, x0, (h, w))


def prototype_masks(coeffs: np.ndarray, protos: np.ndarray, boxes_original: np.ndarray, geometry: Geometry,
                    threshold: float) -> list[dict[str, Any]]:
    """Masks from mask coefficients [N,K] and prototypes [K,h,w]: sigmoid(coeffs @ protos) > threshold in each box."""
    if not len(coeffs):
        return []
    k = protos.shape[0]
    logits = coeffs.astype(np.float32) @ protos.reshape(k, -1).astype(np.float32)
    logits = logits.reshape(len(coeffs), *protos.shape[1:])
    cut = logit_cut(threshold)
    return [proto_mask(logits[i], boxes_original[i], geometry, cut) for i in range(len(coeffs))]
