"""Small segmentation models built in code with the OpenVINO opset (no fixture files needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openvino as ov
import openvino.opset13 as ops

from segwb.io.model_file import save_ir

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


def yolo_e2e_model(detections: np.ndarray, size: int = 32) -> ov.Model:
    """f32 NCHW RGB 0..1 input → end-to-end YOLO-seg outputs: the given detections [1,N,6+2] and prototypes.

    The two prototypes [1,2,size/4,size/4] come from a strided conv of the image: channel 0 is positive where
    the image is bright, channel 1 where it is dark, so masks follow the photo and quantization can touch them.
    """
    image = ops.parameter([1, 3, size, size], ov.Type.f32, name="x")
    weights = np.zeros((2, 3, 4, 4), np.float32)
    weights[0], weights[1] = 10 / 48, -10 / 48
    protos = ops.convolution(image, ops.constant(weights), [4, 4], [0, 0], [0, 0], [1, 1])
    protos = ops.add(protos, ops.constant(np.float32([-5, 5]).reshape(1, 2, 1, 1)))
    protos.output(0).set_names({"output1"})
    dets = ops.add(ops.constant(np.asarray(detections[np.newaxis], np.float32)), ops.constant(np.float32(0)))
    dets.output(0).set_names({"output0"})
    return ov.Model([dets, protos], [image], "tiny_yolo_e2e")


def mask_rcnn_model(boxes: np.ndarray, labels: np.ndarray, masks: np.ndarray, size: tuple[int, int] = (32, 48)) -> ov.Model:
    """The Open Model Zoo Mask R-CNN signature (input ``image`` BGR NCHW; ``boxes``, ``labels``, ``masks``), fixed outputs."""
    image = ops.parameter([1, 3, *size], ov.Type.f32, name="image")
    zero = ops.multiply(ops.reduce_mean(image, ops.constant(np.int64([0, 1, 2, 3])), False), ops.constant(np.float32(0)))
    outs = []
    for value, name in ((boxes, "boxes"), (masks, "masks")):
        node = ops.add(ops.constant(np.asarray(value, np.float32)), zero)
        node.output(0).set_names({name})
        outs.append(node)
    ids = ops.constant(np.asarray(labels, np.int32))
    ids.output(0).set_names({"labels"})
    return ov.Model([outs[0], ids, outs[1]], [image], "tiny_mask_rcnn")


def yolo_raw_model(rows: np.ndarray, k: int, size: int = 32) -> ov.Model:
    """A YOLOv8-seg style signature: [1,4+C+K,A] (given as ``rows`` [A,4+C+K]) and prototypes [1,K,size/4,size/4]."""
    image = ops.parameter([1, 3, size, size], ov.Type.f32, name="images")
    protos = ops.convolution(image, ops.constant(np.full((k, 3, 4, 4), 1 / 48, np.float32)), [4, 4], [0, 0], [0, 0], [1, 1])
    protos.output(0).set_names({"output1"})
    dets = ops.add(ops.constant(np.ascontiguousarray(rows.T[np.newaxis], dtype=np.float32)), ops.constant(np.float32(0)))
    dets.output(0).set_names({"output0"})
    return ov.Model([dets, protos], [image], "tiny_yolo_raw")


# Two detections at fixed places of the 32x32 input: a person (score 0.9) on the bright prototype and a cat (0.6)
# on the dark one, so both models report them and the viewer has a badge above and one below its 0.8 threshold.
YOLO_DETECTIONS = np.float32([[8, 8, 24, 24, 0.9, 0, 1, 0],
                              [6, 16, 26, 28, 0.6, 1, 0, 1]])


def write_instance_model(folder: Path) -> Path:
    """Save a tiny end-to-end YOLO-seg IR (classes person, cat) with its labels; return the .xml path."""
    xml = folder / "tiny_yolo.xml"
    save_ir(yolo_e2e_model(YOLO_DETECTIONS), xml)
    (folder / "labels.txt").write_text("person\ncat\n")
    return xml
