"""The model zoo: known models, fetched with checksums and converted to IR once, with their model cards."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import DownloadError, ModelError
from ..io.labels import COCO80, VOC_LABELS
from . import sources
from .sources import DEEPLABV3_ARCHIVE, DEEPLABV3_IR, ISS2, ISS2_FILES, OMZ, SELFIE_FILE, SELFIE_PACKAGE

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


ENTRIES: dict[str, ZooEntry] = {e.name: e for e in (
    ZooEntry("deeplabv3", "semantic", "DeepLabV3 + MobileNetV2, Pascal VOC (21 classes), 513x513 (Open Model Zoo)",
             "Apache-2.0 (TensorFlow models)",
             dict(task="semantic", layout="NHWC", color_order="BGR", mean=0, scale=1, resize="fit_pad",
                  pad_value=127.5, input_size=[513, 513], adapter="class_map", labels=list(VOC_LABELS)),
             sources.deeplabv3, (DEEPLABV3_IR, (DEEPLABV3_ARCHIVE.name,)), lambda: DEEPLABV3_ARCHIVE.url,
             (f"{OMZ}/public/2022.1/deeplabv3/",)),
    ZooEntry("instance-segmentation-security-0002", "instance",
             "Mask R-CNN ResNet50-FPN, COCO 80 classes, 768x1024 (Open Model Zoo)", "Apache-2.0 (Open Model Zoo)",
             dict(task="instance", layout="NCHW", color_order="BGR", mean=0, scale=1, resize="fit_pad", pad_value=0,
                  input_size=[768, 1024], adapter="mask_rcnn", labels=list(COCO80)),
             sources.instance_security_0002, (tuple(a.name for a in ISS2_FILES),), lambda: ISS2_FILES[0].url,
             (f"{ISS2}.xml",)),
    ZooEntry("selfie-segmentation", "semantic", "MediaPipe selfie segmentation, person vs background, 256x256",
             "Apache-2.0 (MediaPipe)",
             dict(task="semantic", layout="NHWC", color_order="RGB", mean=0, scale=255, resize="stretch",
                  input_size=[256, 256], adapter="scores", output_layout="NHWC", threshold=0.5,
                  labels=["background", "person"]),
             sources.selfie, ((SELFIE_FILE,),), sources.package_index_url, (f"PyPI wheel {SELFIE_PACKAGE}",)),
)}


def entry(name: str) -> ZooEntry:
    """The zoo entry called ``name``."""
    if name not in ENTRIES:
        raise ModelError(f"'{name}' is neither a model file nor a zoo model; zoo models: {', '.join(ENTRIES)}")
    return ENTRIES[name]


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
