"""Small segmentation models built in code with the OpenVINO opset (no fixture files needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openvino as ov
import openvino.opset13 as ops

from segwb.models import save_ir

NUM_CLASSES = 3


def _weights(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(0, 0.05, size=(NUM_CLASSES, 3, 3, 3)).astype(np.float32)


def semantic_model(output: str = "class_map", size: int = 64, dynamic: bool = False, seed: int = 0) -> ov.Model:
    """u8 NHWC RGB image → 3x3 conv to 3 class scores → either scores [1,3,H,W] or an ArgMax map [1,H,W]."""
    shape = [1, -1, -1, 3] if dynamic else [1, size, size, 3]
    image = ops.parameter(shape, ov.Type.u8, name="image")
    x = ops.convert(image, ov.Type.f32)
    x = ops.transpose(x, ops.constant(np.array([0, 3, 1, 2], dtype=np.int64)))
    x = ops.multiply(x, ops.constant(np.float32(1 / 255)))
    x = ops.convolution(x, ops.constant(_weights(seed)), [1, 1], [1, 1], [1, 1], [1, 1])
    x = ops.relu(ops.add(x, ops.constant(np.array([0.0, 0.02, 0.04], np.float32).reshape(1, 3, 1, 1))))
    if output == "scores":
        x.output(0).set_names({"scores"})
        return ov.Model([x], [image], "tiny_scores")
    topk = ops.topk(x, ops.constant(np.int64(1)), axis=1, mode="max", sort="none", index_element_type=ov.Type.i64)
    ids = ops.squeeze(topk.output(1), ops.constant(np.array([1], dtype=np.int64)))
    ids.output(0).set_names({"class_ids"})
    return ov.Model([ids], [image], "tiny_class_map")


def write_model(folder: Path, output: str = "class_map", **kwargs) -> Path:
    """Save a tiny model as IR with a model card and labels next to it; return the .xml path."""
    xml = folder / f"tiny_{output}.xml"
    save_ir(semantic_model(output, **kwargs), xml)
    (folder / "labels.txt").write_text("background\nperson\ncat\n")
    (folder / f"tiny_{output}.yml").write_text("color_order: RGB\nresize: fit_pad\n")
    return xml
