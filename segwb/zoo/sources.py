"""How each zoo model is obtained as a model file: checksummed downloads, and conversions done once into the cache."""

from __future__ import annotations

import os
import tarfile
import threading
from pathlib import Path

import openvino as ov

from ..core.cache import cache_dir
from ..core.errors import DownloadError, ModelError, first_line
from ..core.storage import atomic_path
from ..io.model_file import save_ir
from .download import Artifact, fetch, fetch_wheel_member

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


def deeplabv3(cancel: threading.Event | None = None) -> Path:
    """Open Model Zoo's deeplabv3: the TensorFlow archive, converted as its model.yml does."""
    ir = cache_dir() / DEEPLABV3_IR[0]
    if ir.is_file():
        return ir
    archive = fetch(DEEPLABV3_ARCHIVE, cancel=cancel)
    graph = extract(archive, "deeplabv3_mnv2_pascal_train_aug/frozen_inference_graph.pb", ir.parent)
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


def extract(archive: Path, member: str, folder: Path) -> Path:
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
            with atomic_path(out) as tmp, open(tmp, "wb") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
    except (tarfile.TarError, KeyError) as exc:
        raise DownloadError(f"archive does not hold {member} ({exc})", archive) from exc
    return out


def instance_security_0002(cancel: threading.Event | None = None) -> Path:
    xml, _ = [fetch(artifact, cancel=cancel) for artifact in ISS2_FILES]
    return xml


def package_index_url() -> str:
    """The index page pip would ask for the selfie model's package (``$PIP_INDEX_URL`` or PyPI)."""
    name = SELFIE_PACKAGE.split("==")[0]
    return os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/") + f"/{name}/"


def selfie(cancel: threading.Event | None = None) -> Path:
    return fetch_wheel_member(SELFIE_PACKAGE, f"mediapipe/modules/selfie_segmentation/{SELFIE_FILE}",
                              SELFIE_FILE, "sha256",
                              "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c", cancel=cancel)
