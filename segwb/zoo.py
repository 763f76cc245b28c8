"""The model zoo: known models, fetched with checksums and converted to IR once, with their model cards."""

from __future__ import annotations

import logging
import os
import tarfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openvino as ov

from .datasets import VOC_LABELS
from .download import Artifact, cache_dir, fetch, fetch_wheel_member
from .errors import DownloadError, ModelError
from .models import first_line, save_ir

log = logging.getLogger("segwb")

COCO80 = ("person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
          "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
          "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
          "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
          "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
          "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
          "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard",
          "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase",
          "scissors", "teddy bear", "hair drier", "toothbrush")

OMZ = "https://storage.openvinotoolkit.org/repositories/open_model_zoo"
ISS2 = f"{OMZ}/2021.4/models_bin/3/instance-segmentation-security-0002/FP32/instance-segmentation-security-0002"
DEEPLABV3_ARCHIVE = Artifact(
    "deeplabv3_mnv2_pascal_train_aug_2018_01_29.tar.gz",
    f"{OMZ}/public/2022.1/deeplabv3/deeplabv3_mnv2_pascal_train_aug_2018_01_29.tar.gz", "sha384",
    "d3f2b27bb00c485ca45d68731f7198a23926cb865dd010fc444bcad9158e33413cd60da2588a9be3ff1e8c9b4557362b", 23_882_985)
DEEPLABV3_IR = ("deeplabv3/deeplabv3.xml", "deeplabv3/deeplabv3.bin")  # the conversion, in the cache
ISS2_FILES = (
    Artifact("instance-segmentation-security-0002.xml", f"{ISS2}.xml", "sha256",
             "27bb8cbba8139f7757e1d0e8ff9badf8e388f61d9b1ae2d3d7fe61d21647cfd4", 840_711),
    Artifact("instance-segmentation-security-0002.bin", f"{ISS2}.bin", "sha256",
             "43df120a06790f0d623645d6cc7d8e410fca005cb8ede7f3495a972f9d701ec6", 177_479_928),
)
SELFIE_PACKAGE, SELFIE_FILE = "mediapipe==0.10.21", "selfie_segmentation.tflite"


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


def _deeplabv3(cancel: threading.Event | None = None) -> Path:
    """Open Model Zoo's deeplabv3: the TensorFlow archive, converted as its model.yml does."""
    ir = cache_dir() / DEEPLABV3_IR[0]
    if ir.is_file():
        return ir
    archive = fetch(DEEPLABV3_ARCHIVE, cancel=cancel)
    graph = _extract(archive, "deeplabv3_mnv2_pascal_train_aug/frozen_inference_graph.pb", ir.parent)
    save_ir(convert_deeplabv3(graph), ir)
    return ir


def convert_deeplabv3(graph: Path) -> ov.Model:
    """Convert the frozen graph like Open Model Zoo's model.yml (legacy MO ``--input=1:mul_1
    --input_shape=[1,513,513,3] --output=ArgMax --reverse_input_channels``).

    The graph is cut at input port 1 of ``mul_1`` (the f32 RGB image, 0..255, NHWC, where DeepLab computes
    ``(2/255) * x - 1``), so the in-graph uint8 input, resizing and padding are left out; the output is
    ``ArgMax`` (int64 class map [1,513,513]); channels are reversed in front so the IR takes BGR.
    ``ov.convert_model`` refuses to cut inside a graph ("Name 1:mul_1 is not found among model inputs"),
    so this goes through the TensorFlow frontend, which understands MO's ``PORT:NODE`` names itself.
    The IR input is also named ``mul_1/placeholder_port_1`` and the output ``ArgMax/Squeeze``, as in OMZ's IR.
    """
    from openvino.frontend import FrontEndManager

    try:
        fe = FrontEndManager().load_by_framework("tf")
        source = fe.load(str(graph))
        image = source.get_place_by_tensor_name("1:mul_1")  # input port 1 of node mul_1
        labels = source.get_place_by_tensor_name("ArgMax")
        if image is None or labels is None:
            raise ValueError("the graph has no mul_1 or ArgMax node")
        source.extract_subgraph([image], [labels])
        source.set_partial_shape(image, ov.PartialShape([1, 513, 513, 3]))
        source.set_element_type(image, ov.Type.f32)
        model = fe.convert(source)
    except Exception as exc:
        raise ModelError(f"cannot convert the deeplabv3 graph ({first_line(exc)})", graph) from exc
    for port, omz_name in ((model.input(0), "mul_1/placeholder_port_1"), (model.output(0), "ArgMax/Squeeze")):
        port.get_tensor().set_names(set(port.get_names()) | {omz_name})
    ppp = ov.preprocess.PrePostProcessor(model)
    ppp.input().tensor().set_layout(ov.Layout("NHWC"))
    ppp.input().model().set_layout(ov.Layout("NHWC"))
    ppp.input().preprocess().reverse_channels()
    return ppp.build()


def _extract(archive: Path, member: str, folder: Path) -> Path:
    """One member of a tar archive, by exact name (no path tricks), into ``folder``."""
    out = folder / Path(member).name
    if out.is_file():
        return out
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive) as tar:
            src = tar.extractfile(tar.getmember(member))
            if src is None:
                raise KeyError(member)
            from .storage import atomic_path

            with atomic_path(out) as tmp, open(tmp, "wb") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
    except (tarfile.TarError, KeyError) as exc:
        raise DownloadError(f"archive does not hold {member} ({exc})", archive) from exc
    return out


def _instance_security_0002(cancel: threading.Event | None = None) -> Path:
    xml, _ = [fetch(artifact, cancel=cancel) for artifact in ISS2_FILES]
    return xml


def _package_index_url() -> str:
    """The index page pip would ask for the package (``$PIP_INDEX_URL`` or PyPI)."""
    name = SELFIE_PACKAGE.split("==")[0]
    return os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/") + f"/{name}/"


def _selfie(cancel: threading.Event | None = None) -> Path:
    return fetch_wheel_member(SELFIE_PACKAGE, f"mediapipe/modules/selfie_segmentation/{SELFIE_FILE}",
                              SELFIE_FILE, "sha256",
                              "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c", cancel=cancel)


ENTRIES: dict[str, ZooEntry] = {e.name: e for e in (
    ZooEntry("deeplabv3", "semantic", "DeepLabV3 + MobileNetV2, Pascal VOC (21 classes), 513x513 (Open Model Zoo)",
             "Apache-2.0 (TensorFlow models)",
             dict(task="semantic", layout="NHWC", color_order="BGR", mean=0, scale=1, resize="fit_pad",
                  pad_value=127.5, input_size=[513, 513], adapter="class_map", labels=list(VOC_LABELS)),
             _deeplabv3, (DEEPLABV3_IR, (DEEPLABV3_ARCHIVE.name,)), lambda: DEEPLABV3_ARCHIVE.url,
             (f"{OMZ}/public/2022.1/deeplabv3/",)),
    ZooEntry("instance-segmentation-security-0002", "instance",
             "Mask R-CNN ResNet50-FPN, COCO 80 classes, 768x1024 (Open Model Zoo)", "Apache-2.0 (Open Model Zoo)",
             dict(task="instance", layout="NCHW", color_order="BGR", mean=0, scale=1, resize="fit_pad", pad_value=0,
                  input_size=[768, 1024], adapter="mask_rcnn", labels=list(COCO80)),
             _instance_security_0002, (tuple(a.name for a in ISS2_FILES),), lambda: ISS2_FILES[0].url,
             (f"{ISS2}.xml",)),
    ZooEntry("selfie-segmentation", "semantic", "MediaPipe selfie segmentation, person vs background, 256x256",
             "Apache-2.0 (MediaPipe)",
             dict(task="semantic", layout="NHWC", color_order="RGB", mean=0, scale=255, resize="stretch",
                  input_size=[256, 256], adapter="scores", output_layout="NHWC", threshold=0.5,
                  labels=["background", "person"]),
             _selfie, ((SELFIE_FILE,),), _package_index_url, (f"PyPI wheel {SELFIE_PACKAGE}",)),
)}

DEFAULT_SEMANTIC = ("deeplabv3", "selfie-segmentation")
DEFAULT_INSTANCE = "instance-segmentation-security-0002"


def entry(name: str) -> ZooEntry:
    """The zoo entry called ``name``."""
    if name not in ENTRIES:
        raise ModelError(f"'{name}' is neither a model file nor a zoo model; zoo models: {', '.join(ENTRIES)}")
    return ENTRIES[name]


def obtain(name: str, cancel: threading.Event | None = None) -> tuple[Path, dict[str, Any]]:
    """Fetch (or reuse from the cache) a zoo model: its model file and card fields; ``cancel`` stops a download."""
    e = entry(name)
    return e.obtain(cancel), dict(e.card)


def obtain_default_semantic() -> tuple[str, Path, dict[str, Any], str]:
    """The semantic tutorial's model: deeplabv3 when it can be fetched, else selfie-segmentation.

    Returns the name, model file, card fields and a sentence saying which model and why.
    """
    first, fallback = DEFAULT_SEMANTIC
    try:
        path, card = obtain(first)
        return first, path, card, f"model: {first} (the tutorial's model)"
    except DownloadError as exc:
        log.warning("%s is not available (%s); using %s instead", first, exc, fallback)
        path, card = obtain(fallback)
        return fallback, path, card, f"model: {fallback}, because the tutorial's {first} could not be fetched ({exc})"


def obtain_default(task: str) -> tuple[str, Path, dict[str, Any], str]:
    """The tutorial's model for ``task`` ("semantic" or "instance"): name, model file, card fields, a sentence.

    The instance tutorial has no fallback model that could be shipped; when its model cannot be fetched the
    error says so and how to point at one.
    """
    if task == "semantic":
        return obtain_default_semantic()
    try:
        path, card = obtain(DEFAULT_INSTANCE)
    except DownloadError as exc:
        raise DownloadError(f"the instance tutorial's model {DEFAULT_INSTANCE} could not be fetched ({exc}); "
                            "point at a model with --model PATH (IR, ONNX, TFLite or TensorFlow; e.g. a YOLO-seg "
                            "OpenVINO export) or place the IR in the cache with `segwb fetch` when online") from exc
    return DEFAULT_INSTANCE, path, card, f"model: {DEFAULT_INSTANCE} (the tutorial's model)"
