"""The model zoo: known models, fetched with checksums and converted to IR once, with their model cards."""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import DownloadError, ModelError
from ..io.labels import COCO80, VOC_LABELS
from . import sources
from .download import source_url
from .sources import (DEEPLABV3_ARCHIVE, DEEPLABV3_IR, ISP_0007, ISS_0002, ISS_0091, ISS_0228, ISS_1040, OMZ,
                      ROAD_0001, SELFIE_FILE, SELFIE_PACKAGE, SEMANTIC_0001, UNET_CAMVID, OmzIR)

log = logging.getLogger("segwb")


@dataclass(frozen=True)
class ZooEntry:
    """A zoo model: how to obtain it as a model file, and its card (pre/post-processing)."""

    name: str
    task: str
    summary: str
    licence: str
    card: dict[str, Any]
    obtain: Callable[[threading.Event | None], Path]  # cancel event → model file
    cache_files: tuple[tuple[str, ...], ...]  # files in the cache that make it usable offline (any one tuple)
    probe_url: Callable[[], str]  # what to ask to know whether it can be downloaded
    sources: tuple[str, ...] = field(default_factory=tuple)
    omz: OmzIR | None = None  # an Open Model Zoo IR: its other precisions are zoo names too (NAME:FP16-INT8)


INTEL = "Apache-2.0 (Open Model Zoo)"
# semantic-segmentation-adas-0001's 20 classes (README.md), class ids 0..19: Cityscapes' 19 train ids + ego-vehicle
ADAS_LABELS = ("road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign", "vegetation",
               "terrain", "sky", "person", "rider", "car", "truck", "bus", "train", "motorcycle", "bicycle",
               "ego-vehicle")
CAMVID_LABELS = ("Sky", "Building", "Pole", "Road", "Pavement", "Tree", "SignSymbol", "Fence", "Vehicle", "Pedestrian",
                 "Bike", "Unlabeled")  # unet-camvid-onnx-0001's README.md; its accuracy check ignores 11 (Unlabeled)
# Every Open Model Zoo IR takes a BGR image of raw 0..255 values (any normalisation is inside the graph), NCHW
OMZ_INPUT = dict(layout="NCHW", color_order="BGR", mean=0, scale=1)


def _ir_files(ir: OmzIR, precision: str) -> dict[str, Any]:
    """The ZooEntry fields that fetch ``precision`` of an Open Model Zoo IR."""
    xml, weights = ir.artifacts(precision)
    return dict(obtain=functools.partial(sources.omz_ir, ir, precision), cache_files=((xml.name, weights.name),),
                probe_url=lambda: source_url(xml), sources=(xml.url, weights.url), omz=ir)


def _omz(ir: OmzIR, task: str, summary: str, card: dict[str, Any]) -> ZooEntry:
    """The zoo entry of an Open Model Zoo IR: its FP32 files (the parent a user quantizes)."""
    return ZooEntry(ir.name, task, f"{summary} (Open Model Zoo IR, FP32)", INTEL, card, **_ir_files(ir, "FP32"))


# Grouped by task, as the dashboard lists them. The Open Model Zoo cards reproduce the preprocessing of each model's
# accuracy-check.yml (openvinotoolkit/open_model_zoo, models/<intel|public>/<name>/accuracy-check.yml), quoted
# beside each card, so the models can meet their published accuracy; where that file has no preprocessing (its
# dataset is already at the input size) the card does what Open Model Zoo's demos do: a bilinear stretch.
ENTRIES: dict[str, ZooEntry] = {e.name: e for e in (
    ZooEntry("deeplabv3", "semantic", "DeepLabV3 + MobileNetV2, Pascal VOC (21 classes), 513x513 (Open Model Zoo)",
             "Apache-2.0 (TensorFlow models)",
             # resize: {aspect_ratio_scale: fit_to_window, size: 513, interpolation: ANTIALIAS, use_pillow: True}
             #   -> fit_pad, input_size, pillow_lanczos (the accuracy checker maps ANTIALIAS to Pillow's LANCZOS);
             # padding: {pad_value: '127.5,127.5,127.5', size: 513} (pad_type defaults to center) -> pad_value,
             #   pad_position. BGR and raw 0..255: the conversion reverses the channels and keeps DeepLab's own
             #   (2/255)x - 1 (model.yml: --reverse_input_channels --input=1:mul_1)
             dict(task="semantic", layout="NHWC", color_order="BGR", mean=0, scale=1, resize="fit_pad",
                  pad_position="center", interpolation="pillow_lanczos", pad_value=127.5, input_size=[513, 513],
                  adapter="class_map", labels=list(VOC_LABELS)),
             sources.deeplabv3, (DEEPLABV3_IR, (DEEPLABV3_ARCHIVE.name,)), lambda: source_url(DEEPLABV3_ARCHIVE),
             (f"{OMZ}/public/2022.1/deeplabv3/",)),
    ZooEntry("selfie-segmentation", "semantic", "MediaPipe selfie segmentation, person vs background, 256x256",
             "Apache-2.0 (MediaPipe)",
             dict(task="semantic", layout="NHWC", color_order="RGB", mean=0, scale=255, resize="stretch",
                  input_size=[256, 256], adapter="scores", output_layout="NHWC", threshold=0.5,
                  labels=["background", "person"]),
             sources.selfie, ((SELFIE_FILE,),), sources.package_index_url, (f"PyPI wheel {SELFIE_PACKAGE}",)),
    _omz(ROAD_0001, "semantic", "ENet-style road segmentation: background, road, curb, mark, 512x896",
         # no preprocessing (its road_segmentation images are 896x512); output [1,4,512,896] class probabilities
         dict(task="semantic", **OMZ_INPUT, resize="stretch", input_size=[512, 896], adapter="scores",
              output_layout="NCHW", labels=["background", "road", "curb", "mark"])),
    _omz(SEMANTIC_0001, "semantic", "ICNet, 19 Cityscapes classes + ego-vehicle, 1024x2048",
         # no preprocessing (inputs: {name: data, precision: U8}; Cityscapes images are 2048x1024); output
         # [1,1,1024,2048] holds class ids
         dict(task="semantic", **OMZ_INPUT, resize="stretch", input_size=[1024, 2048], adapter="class_map",
              labels=list(ADAS_LABELS))),
    _omz(UNET_CAMVID, "semantic", "U-Net, CamVid (11 classes + unlabeled), 368x480",
         # reader: pillow_imread, then rgb_to_bgr -> BGR; resize: {dst_height: 368, dst_width: 480, use_pillow: True,
         # interpolation: BILINEAR} -> stretch, pillow_bilinear; output [1,12,368,480] class probabilities
         dict(task="semantic", **OMZ_INPUT, resize="stretch", interpolation="pillow_bilinear", input_size=[368, 480],
              adapter="scores", output_layout="NCHW", labels=list(CAMVID_LABELS))),
    _omz(ISS_0002, "instance", "Mask R-CNN ResNet50-FPN, COCO 80 classes, 768x1024",
         # resize: {dst_width: 1024, dst_height: 768, aspect_ratio_scale: fit_to_window} (OpenCV, LINEAR) -> fit_pad;
         # padding: {dst_width: 1024, dst_height: 768, pad_type: right_bottom} (pad_value 0) -> pad_position top_left
         dict(task="instance", **OMZ_INPUT, resize="fit_pad", pad_position="top_left", pad_value=0,
              input_size=[768, 1024], adapter="mask_rcnn", labels=list(COCO80))),
    _omz(ISS_0091, "instance", "Cascade Mask R-CNN ResNet101 + deformable conv, COCO 80 classes, 800x1344",
         # resize: {dst_width: 1344, dst_height: 800, aspect_ratio_scale: fit_to_window} -> fit_pad;
         # padding: {dst_width: 1344, dst_height: 800, pad_type: right_bottom} -> pad_position top_left
         dict(task="instance", **OMZ_INPUT, resize="fit_pad", pad_position="top_left", pad_value=0,
              input_size=[800, 1344], adapter="mask_rcnn", labels=list(COCO80))),
    _omz(ISS_0228, "instance", "Mask R-CNN ResNet101 + light FPN, COCO 80 classes, 608x608",
         # resize: {size: 608} (no aspect ratio kept, OpenCV LINEAR) -> stretch
         dict(task="instance", **OMZ_INPUT, resize="stretch", input_size=[608, 608], adapter="mask_rcnn",
              labels=list(COCO80))),
    _omz(ISS_1040, "instance", "Mask R-CNN EfficientNet-B2 + light FPN, COCO 80 classes, 608x608",
         # resize: {dst_width: 608, dst_height: 608} -> stretch
         dict(task="instance", **OMZ_INPUT, resize="stretch", input_size=[608, 608], adapter="mask_rcnn",
              labels=list(COCO80))),
    _omz(ISP_0007, "instance", "PointRend EfficientNet-B1, person only, 320x544",
         # resize: {dst_width: 544, dst_height: 320} -> stretch; outputs of dynamic count, masks [N,224,224]
         dict(task="instance", **OMZ_INPUT, resize="stretch", input_size=[320, 544], adapter="mask_rcnn",
              labels=["person"])),
)}


def entry(name: str) -> ZooEntry:
    """The zoo entry called ``name``; ``NAME:PRECISION`` (e.g. ``road-segmentation-adas-0001:FP16-INT8``) is another
    precision of an Open Model Zoo IR, with the same card."""
    base, _, precision = name.partition(":")
    if base not in ENTRIES:
        raise ModelError(f"'{name}' is neither a model file nor a zoo model; zoo models: {', '.join(ENTRIES)}")
    found = ENTRIES[base]
    if not precision:
        return found
    if found.omz is None:
        raise ModelError(f"zoo model {base} comes in one precision only; use '{base}'")
    return dataclasses.replace(found, name=name, summary=found.summary.replace("FP32", precision),
                               **_ir_files(found.omz, precision))


def obtain(name: str, cancel: threading.Event | None = None) -> tuple[Path, dict[str, Any]]:
    """Fetch (or reuse from the cache) a zoo model: its model file and card fields; ``cancel`` stops a download."""
    e = entry(name)
    return e.obtain(cancel), dict(e.card)


def obtain_first(names: Sequence[str], cancel: threading.Event | None = None) -> tuple[str, Path, dict[str, Any], str]:
    """The first of ``names`` (a tutorial's model, then its fallbacks) that can be fetched: its name, model file,
    card fields and a sentence saying which model and why. When none can, the error says how to point at a model."""
    first, reasons = names[0], {}
    for name in names:
        try:
            path, card = obtain(name, cancel)
        except DownloadError as exc:
            reasons[name] = exc
            if name != names[-1]:
                log.warning("%s is not available (%s); using the next fallback instead", name, exc)
            continue
        if name == first:
            return name, path, card, f"model: {name} (the tutorial's model)"
        return name, path, card, f"model: {name}, because the tutorial's {first} could not be fetched ({reasons[first]})"
    fallbacks = "".join(f"; nor its fallback {name} ({reason})" for name, reason in list(reasons.items())[1:])
    raise DownloadError(f"the tutorial's model {first} could not be fetched ({reasons[first]}){fallbacks}; point at a "
                        "model with --model PATH (IR, ONNX, TFLite or TensorFlow; e.g. a YOLO-seg OpenVINO export) or "
                        "place the IR in the cache with `segwb fetch` when online")
