"""Semantic output adapters: raw model output → class map at the original image size."""

from __future__ import annotations

import cv2
import numpy as np

from .modelcard import ModelCard
from .preprocess import Geometry


def _content(array: np.ndarray, geometry: Geometry) -> np.ndarray:
    """Crop the part of an output map (any resolution) that covers the original image."""
    out_h, out_w = array.shape[:2]
    in_h, in_w = geometry.input_size
    sy, sx = out_h / in_h, out_w / in_w
    top, left = int(round(geometry.top * sy)), int(round(geometry.left * sx))
    bottom = max(top + 1, int(round((geometry.top + geometry.height) * sy)))
    right = max(left + 1, int(round((geometry.left + geometry.width) * sx)))
    return array[top:bottom, left:right]


def _resize_channels(scores: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of an HxWxC float map; OpenCV handles at most 512 channels per call."""
    h, w = size
    parts = [cv2.resize(scores[..., i:i + 512], (w, h), interpolation=cv2.INTER_LINEAR)
             for i in range(0, scores.shape[2], 512)]
    parts = [p[..., np.newaxis] if p.ndim == 2 else p for p in parts]
    return np.concatenate(parts, axis=2)


def class_map(output: np.ndarray, card: ModelCard, geometry: Geometry) -> np.ndarray:
    """The model's class-id map at the original image size (uint8, or uint16 past 256 classes)."""
    orig_h, orig_w = geometry.original_size
    if card.adapter == "class_map":
        ids = np.squeeze(output).astype(np.int64)
        if ids.ndim != 2:
            raise ValueError(f"class_map adapter got an output of shape {output.shape}")
        ids = _content(ids, geometry)
        dtype = np.uint8 if ids.max(initial=0) < 256 else np.uint16
        return cv2.resize(ids.astype(dtype), (orig_w, orig_h), interpolation=cv2.INTER_NEAREST)
    scores = output[0].transpose(1, 2, 0) if card.output_layout == "NCHW" else output[0]
    scores = _resize_channels(_content(scores.astype(np.float32), geometry), (orig_h, orig_w))
    if scores.shape[2] == 1:  # a foreground probability (e.g. person vs background)
        return (scores[..., 0] > card.threshold).astype(np.uint8)
    ids = scores.argmax(axis=2)
    return ids.astype(np.uint8 if scores.shape[2] <= 256 else np.uint16)


def num_classes(card: ModelCard, output_shape: tuple[int, ...]) -> int:
    """Number of classes the adapter can emit (labels win; else channels; else 256 ids)."""
    if card.labels:
        return len(card.labels)
    if card.adapter == "scores":
        channels = output_shape[1] if card.output_layout == "NCHW" else output_shape[3]
        return 2 if channels == 1 else channels
    return 256
