"""How each zoo model is obtained as a model file: checksummed downloads, and conversions done once into the cache."""

from __future__ import annotations

import os
import tarfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import openvino as ov

from ..core.cache import cache_dir
from ..core.errors import DownloadError, ModelError, first_line
from ..core.storage import atomic_path
from ..io.model_file import save_ir
from .download import Artifact, fetch, fetch_wheel_member, mirror_url

OMZ = "https://storage.openvinotoolkit.org/repositories/open_model_zoo"
DEEPLABV3_ARCHIVE = Artifact(
    "deeplabv3_mnv2_pascal_train_aug_2018_01_29.tar.gz",
    f"{OMZ}/public/2022.1/deeplabv3/deeplabv3_mnv2_pascal_train_aug_2018_01_29.tar.gz", "sha384",
    "d3f2b27bb00c485ca45d68731f7198a23926cb865dd010fc444bcad9158e33413cd60da2588a9be3ff1e8c9b4557362b", 23_882_985)
DEEPLABV3_IR = ("deeplabv3/deeplabv3.xml", "deeplabv3/deeplabv3.bin")  # the conversion, in the cache
SELFIE_PACKAGE, SELFIE_FILE = "mediapipe==0.10.21", "selfie_segmentation.tflite"

Digest = tuple[str, int]  # checksum, size in bytes


@dataclass(frozen=True)
class OmzIR:
    """An Open Model Zoo IR as its ``model.yml`` publishes it: per precision, the checksums and sizes of the .xml and
    the .bin under ``<storage>/<release>/<name>/<precision>/``."""

    name: str
    release: str  # e.g. "2021.4/models_bin/3"
    algorithm: str  # "sha256" (model.yml's `sha256:` key) or "sha384" (its `checksum:` key)
    files: Mapping[str, tuple[Digest, Digest]]  # precision -> (.xml, .bin)

    def artifacts(self, precision: str) -> tuple[Artifact, Artifact]:
        """The .xml and .bin of ``precision``, cached where Open Model Zoo's downloader puts them
        (``intel/<name>/<precision>/``), so the output folder of ``omz_downloader`` can serve as the mirror folder."""
        if precision not in self.files:
            raise ModelError(f"Open Model Zoo publishes {self.name} as {', '.join(self.files)}, not {precision}")
        xml, weights = self.files[precision]
        stem = f"{self.name}/{precision}/{self.name}"
        return (Artifact(f"intel/{stem}.xml", f"{OMZ}/{self.release}/{stem}.xml", self.algorithm, *xml),
                Artifact(f"intel/{stem}.bin", f"{OMZ}/{self.release}/{stem}.bin", self.algorithm, *weights))


def omz_ir(model: OmzIR, precision: str, cancel: threading.Event | None = None) -> Path:
    """An Open Model Zoo IR of ``precision`` in the cache (fetched, or copied from the mirror, once): its .xml."""
    xml, _ = [fetch(artifact, cancel=cancel) for artifact in model.artifacts(precision)]
    return xml


# Each model's files as its model.yml lists them (openvinotoolkit/open_model_zoo, models/intel/<name>/model.yml,
# the newest version that could be read: the 2021.4 release for most, 2023.0 for person-0007).
ISS_0002 = OmzIR("instance-segmentation-security-0002", "2021.4/models_bin/3", "sha256", {
    "FP32": (("27bb8cbba8139f7757e1d0e8ff9badf8e388f61d9b1ae2d3d7fe61d21647cfd4", 840_711),
             ("43df120a06790f0d623645d6cc7d8e410fca005cb8ede7f3495a972f9d701ec6", 177_479_928)),
    "FP16": (("cd516194b08132248c06e1e149eaa700fd25cd44dd32a7b233de970bd4407ba0", 840_311),
             ("aa238d4d7a4f3f0aa98786942138a7d98672d0bb8261c6c1adfde5bb5faa7a82", 88_740_226)),
    "FP16-INT8": (("574d3c33a1638ff69a3d7cfc1ef65e82cc86cc4836a8c713dee15e2475ba94e6", 1_186_837),
                  ("749264cfd5e7fc925f6d96b329e48ec5d4d147f2984cb3b0c64837b8cc98346b", 70_485_480)),
})
ISS_0091 = OmzIR("instance-segmentation-security-0091", "2021.4/models_bin/3", "sha256", {
    "FP32": (("21e2ecec2c1e1a72558b06f2e87b2ee250fb342203d2a74af2cf27920d7db533", 1_381_647),
             ("247da9b3b1b746fa4bd59fae3a5ec9546390aad5b318ab9a3853936ecbc1f65c", 390_233_536)),
    "FP16": (("4b83f2580999a3bcc9fb8746e07706b395cb506d1f1fb504ff919c450f7e6057", 1_380_558),
             ("ff7e29ab72b360d0497303fad3ce971a804a8da20ccd0948f0c5c848b749b74a", 195_117_022)),
    "FP16-INT8": (("17fec019507a2f8cec00f2c14e65bd006c364efa8c0c9aaedd1ea353b74f7ee0", 2_082_233),
                  ("81a8956eb446d42b6e58b5557f0b0b4da21c73ae0043438502e65daa9599c8ff", 196_951_642)),
})
ISS_0228 = OmzIR("instance-segmentation-security-0228", "2021.4/models_bin/3", "sha256", {
    "FP32": (("07fa70bb3ab4259c197cbd689e332199597e5458694c3e016c6a995d700a0c90", 985_819),
             ("1cf9b39d09637ba94ae5dd5f694ce40bdee7f3d59f7bad1d0134e9e1a2a0736c", 192_104_184)),
    "FP16": (("1dcac985aeebb2e59fa24c33e9a635a1b0567f1f321fe71f9aae41e0d196210f", 985_032),
             ("2a03d2142f444a2eda6d022d3a81645d07800e8387624ca8103023f6c07e1afc", 96_052_354)),
    "FP16-INT8": (("2b6a4dc7fa8becc3cb033aa1e95d0ca1cf06e5128edc3db148c1aa31a861cfa7", 1_568_012),
                  ("b8edc52599c114c7f39e9a2dde542bb8c58752cebf9758237cf12ab4c8df31d9", 54_794_552)),
})
ISS_1040 = OmzIR("instance-segmentation-security-1040", "2021.4/models_bin/3", "sha256", {
    "FP32": (("97882cb3da405b5dd380f66b969827a407e05635b8f88ef9a0792be9af85a6f2", 980_908),
             ("3a64d4c321c7e9b490ea7b8d19f8143b1d521fe370a15f299de39de066429b3f", 52_969_864)),
    "FP16": (("ff775aa45411b231ae41e37bfed78c08b0feba9ace0349c8a594269025b42ef3", 980_828),
             ("914e5804012e6769d335f5e9c9242959634bb29d4762307425192d52ec5a671a", 26_485_214)),
    "FP16-INT8": (("644ef1e88d23e8f947592d897d454a38d3830d50647e6be79c0724273ced487d", 1_688_757),
                  ("6230484885fcbf0b181cdcca989b9c8d7377ba24c44f366ebe098c87544f72aa", 21_614_048)),
})
ISP_0007 = OmzIR("instance-segmentation-person-0007", "2023.0/models_bin/1", "sha384", {
    "FP32": (("e0ef2fc33271aa7c79b286e7083cd6a5ea2a376a064b7228da1acb9b9a55011761e6e689a8f94b37dcedea2665df6356",
              3_643_747),
             ("58e899acc03e6bd0a5761fa99e343bfcda478bcb5cb04090e43f8fa00a7bd064164cab855b9a5eb88fc245882af01018",
              28_243_148)),
    "FP16": (("6e91ab4b808253a7a83fe9c94e4508743aabfeaa9bf850cf976d8c34ba0034dc78d81a4d7a475c53bc006fb90595d538",
              3_975_487),
             ("26039d9fe430569662a0ea6b0810c31aa7f268309657b98c45eff09632f4b952ec61d4c85f8b68f3dc30decfb46edc39",
              14_121_850)),
})
ROAD_0001 = OmzIR("road-segmentation-adas-0001", "2021.4/models_bin/3", "sha256", {
    "FP32": (("700f0691a10ef665e7af0c19823f521a58022cd03d55080fb884049709f4ee4a", 401_509),
             ("3c1847f6f62ed91b8ca2d94b4242b833bfcfb9be6dfdb007e83d13084fb15e0b", 737_192)),
    "FP16": (("d59b147705a21c3e37c2e1890ac9e4cbf40b67bd3896887dab8d9f41efa6f213", 401_354),
             ("056718eb78682a144eae1b037c7dba84f4f30013fca193fe83263ee3cda10bad", 368_620)),
    "FP16-INT8": (("3f51da777e4060ece82a6cbd096dde9d4b1861ac265580e24fc70f96dbfd9a0b", 1_114_191),
                  ("8587472ff5a457f20f6d6cb84c9785ded88d1122f6137dccfb121c5f6629a846", 188_927)),
})
SEMANTIC_0001 = OmzIR("semantic-segmentation-adas-0001", "2021.4/models_bin/3", "sha256", {
    "FP32": (("80a9fc172a69fe90df011e04c92ec7de56e87efa3881a36f9d6db785be348096", 214_195),
             ("44065ad7c7116ca4ef3cda9940fe7f04aaf45c61e30d2c2ae9b04b175b27a29d", 26_743_556)),
    "FP16": (("e23c86d0923fba99311bbd1a55019ccf007b3fb91db9f3ea90d2e178d7e3c27e", 214_114),
             ("61f3a8c70cfb2038a3a8b5fe5608a33312fe28a967b39c76ad45f57152d0272c", 13_371_812)),
    "FP16-INT8": (("f980c27e92355e5a8dc02525342a1d3e2b979fe4aade6f6b7ff11d21eba7d831", 536_811),
                  ("90c02ce7075759a23b5d622e9fd0cde6dcf44cd799dcdf090dc00e9420a257d1", 6_757_670)),
})
UNET_CAMVID = OmzIR("unet-camvid-onnx-0001", "2021.2/models_bin/3", "sha256", {
    "FP32": (("738e8c6611d5f994b4b3270d38f764870a55e8b96ea1b398fe3bbacba621a120", 64_680),
             ("cf996b45dadfa397f16aad5a7264787e3666a7645eba3653e5c48d42076e86d7", 124_129_876)),
    "FP16": (("908f346fa5cf3267803952e15d0ce8b8d4231b13776f82cf67d2f395ed175b8c", 64_634),
             ("0c8dda21bc6ad71f6e78dea15d228f1bb293efeb2e97dff8d91ea91d357ca080", 62_064_942)),
    "FP16-INT8": (("069a06f33a555f1708ad456c61010a372aeef911564ac0be7c333041c74dc52b", 149_574),
                  ("dc6286855c9a45b4014b52b650164bd2b3371abe25c666b34d302407da6b6f89", 33_848_274)),
})


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


def package_index_url() -> str:
    """What to ask to know whether the selfie model can be fetched: the mirror server, else the index page pip would
    ask for its package (``$PIP_INDEX_URL`` or PyPI)."""
    name = SELFIE_PACKAGE.split("==")[0]
    return mirror_url(SELFIE_FILE) or os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/") + f"/{name}/"


def selfie(cancel: threading.Event | None = None) -> Path:
    return fetch_wheel_member(SELFIE_PACKAGE, f"mediapipe/modules/selfie_segmentation/{SELFIE_FILE}",
                              SELFIE_FILE, "sha256",
                              "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c", cancel=cancel)
