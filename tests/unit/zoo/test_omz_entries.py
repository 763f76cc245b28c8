"""The zoo's Open Model Zoo entries: cards that build and fit each model's documented signature (a tiny IR built in
code with exactly the inputs and outputs of its README), published URLs and checksums, precisions as NAME:PRECISION,
and a download through SEGWB_ZOO_MIRROR served on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import openvino as ov
import openvino.opset13 as ops
import pytest

from segwb.core.errors import DownloadError, ModelError
from segwb.io.model_card import build_card
from segwb.io.model_file import save_ir
from segwb.tasks import card_vocabulary
from segwb.tasks.model_import import describe
from segwb.zoo import catalog
from segwb.zoo.download import ALGORITHMS, Artifact
from segwb.zoo.sources import OMZ
from segwb.zoo.status import zoo_status

OMZ_ENTRIES = [name for name, e in catalog.ENTRIES.items() if e.omz is not None]
AXES = ops.constant(np.int64([0, 1, 2, 3]))


def _image(shape: list[int], name: str = "image") -> ov.Node:
    return ops.parameter(shape, ov.Type.f32, name=name)


def _named(node: ov.Node, name: str) -> ov.Node:
    node.output(0).set_names({name})
    return node


def _scores(image: ov.Node, channels: int, nhwc: bool = False) -> ov.Node:
    """A 1x1 convolution of the image to ``channels`` maps at the input size."""
    x = ops.transpose(image, ops.constant(np.int64([0, 3, 1, 2]))) if nhwc else image
    x = ops.convolution(x, ops.constant(np.full((channels, 3, 1, 1), 0.1, np.float32)), [1, 1], [0, 0], [0, 0], [1, 1])
    return ops.transpose(x, ops.constant(np.int64([0, 2, 3, 1]))) if nhwc else x


def _mask_rcnn(shape: list[int], count: int | None, side: int) -> ov.Model:
    """Open Model Zoo's Mask R-CNN signature: ``labels`` [N] i32, ``boxes`` [N,5], ``masks`` [N,side,side]; ``count``
    None gives outputs of dynamic length, as instance-segmentation-person-0007's."""
    image = _image(shape)
    # rows picked by a data-dependent index list have a length known only at run time
    found = ops.non_zero(ops.reshape(image, ops.constant(np.int64([-1])), False), "i64")
    rows = ops.multiply(ops.gather(found, ops.constant(np.int64(0)), ops.constant(np.int64(0))), ops.constant(np.int64(0)))
    zero = ops.multiply(ops.reduce_max(image, AXES, False), ops.constant(np.float32(0)))

    def pick(value: np.ndarray) -> ov.Node:
        if count is None:
            return ops.gather(ops.constant(value[:1]), rows, ops.constant(np.int64(0)))
        return ops.add(ops.constant(value), ops.convert(zero, value.dtype))

    n = count or 1
    outputs = [_named(pick(np.zeros(n, np.int32)), "labels"), _named(pick(np.zeros((n, 5), np.float32)), "boxes"),
               _named(pick(np.zeros((n, side, side), np.float32)), "masks")]
    return ov.Model(outputs, [image], "tiny_mask_rcnn")


def _semantic(shape: list[int], channels: int, nhwc: bool = False, class_map: bool = False,
              probability: bool = False) -> ov.Model:
    image = _image(shape)
    x = _scores(image, channels, nhwc)
    x = ops.sigmoid(x) if probability else x
    if class_map:  # arg-max over the channels, without the channel axis: [1,H,W] integer ids
        top = ops.topk(x, ops.constant(np.int64(1)), axis=3 if nhwc else 1, mode="max", sort="none",
                       index_element_type=ov.Type.i64)
        x = ops.squeeze(top.output(1), ops.constant(np.int64([3 if nhwc else 1])))
    return ov.Model([_named(x, "output")], [image], "tiny_semantic")


# Each model's documented signature (its README.md "Inputs" and "Outputs").
SIGNATURES = {
    "deeplabv3": lambda: _semantic([1, 513, 513, 3], 21, nhwc=True, class_map=True),  # ArgMax [1,513,513]
    "selfie-segmentation": lambda: _semantic([1, 256, 256, 3], 1, nhwc=True, probability=True),  # [1,256,256,1]
    "road-segmentation-adas-0001": lambda: _semantic([1, 3, 512, 896], 4),  # [1,4,512,896] probabilities
    "semantic-segmentation-adas-0001": lambda: _semantic([1, 3, 1024, 2048], 1),  # [1,1,1024,2048] class ids
    "unet-camvid-onnx-0001": lambda: _semantic([1, 3, 368, 480], 12),  # [1,12,368,480] probabilities
    "instance-segmentation-security-0002": lambda: _mask_rcnn([1, 3, 768, 1024], 100, 28),
    "instance-segmentation-security-0091": lambda: _mask_rcnn([1, 3, 800, 1344], 100, 28),
    "instance-segmentation-security-0228": lambda: _mask_rcnn([1, 3, 608, 608], 100, 14),
    "instance-segmentation-security-1040": lambda: _mask_rcnn([1, 3, 608, 608], 100, 28),
    "instance-segmentation-person-0007": lambda: _mask_rcnn([1, 3, 320, 544], None, 224),
}


def _ir(folder: Path, name: str) -> Path:
    xml = folder / name / f"{name}.xml"
    save_ir(SIGNATURES[name](), xml)
    return xml


def test_every_entry_has_a_documented_signature_and_its_card_builds() -> None:
    assert set(SIGNATURES) == set(catalog.ENTRIES)
    for entry in catalog.ENTRIES.values():
        card = build_card(entry.card, {}, card_vocabulary())
        assert card.task == entry.task


@pytest.mark.parametrize("name", list(SIGNATURES))
def test_card_fits_the_documented_signature(tmp_path: Path, name: str) -> None:
    entry = catalog.ENTRIES[name]
    _, card = describe(_ir(tmp_path, name), overrides=dict(entry.card))
    expected = build_card(entry.card, {}, card_vocabulary())
    assert {k: getattr(card, k) for k in entry.card} == {k: getattr(expected, k) for k in entry.card}


def test_preprocessing_reproduces_the_accuracy_checks() -> None:
    """deeplabv3 fits 513 with Pillow's ANTIALIAS (LANCZOS) and pads centred with 127.5; the security Mask R-CNNs at
    768x1024 and 800x1344 fit and pad right/bottom; unet-camvid stretches with Pillow's bilinear."""
    card = {name: build_card(e.card, {}, card_vocabulary()) for name, e in catalog.ENTRIES.items()}
    deeplab = card["deeplabv3"]
    assert (deeplab.resize, deeplab.placement, deeplab.interpolation, deeplab.pad_value) == \
           ("fit_pad", "center", "pillow_lanczos", 127.5)
    for name, size in (("instance-segmentation-security-0002", (768, 1024)),
                       ("instance-segmentation-security-0091", (800, 1344))):
        assert (card[name].resize, card[name].placement, card[name].pad_value, card[name].input_size) == \
               ("fit_pad", "top_left", 0, size)
    assert (card["unet-camvid-onnx-0001"].resize, card["unet-camvid-onnx-0001"].interpolation) == \
           ("stretch", "pillow_bilinear")


def test_sources_are_published_with_checksums() -> None:
    digits = {"sha256": 64, "sha384": 96}
    for name in OMZ_ENTRIES:
        ir = catalog.ENTRIES[name].omz
        assert ir.name == name and ir.algorithm in ALGORITHMS and set(ir.files) <= {"FP32", "FP16", "FP16-INT8"}
        for precision in ir.files:
            for artifact, suffix in zip(ir.artifacts(precision), (".xml", ".bin")):
                assert artifact.url == f"{OMZ}/{ir.release}/{name}/{precision}/{name}{suffix}"
                assert artifact.name == f"intel/{name}/{precision}/{name}{suffix}"
                assert len(artifact.digest) == digits[ir.algorithm] and int(artifact.digest, 16) >= 0
                assert artifact.size and artifact.size > 0
    # two rows copied from the model.yml files, as a check on the copying
    xml, _ = catalog.ENTRIES["instance-segmentation-security-0002"].omz.artifacts("FP32")
    assert xml.url == ("https://storage.openvinotoolkit.org/repositories/open_model_zoo/2021.4/models_bin/3/"
                       "instance-segmentation-security-0002/FP32/instance-segmentation-security-0002.xml")
    assert (xml.algorithm, xml.digest, xml.size) == \
           ("sha256", "27bb8cbba8139f7757e1d0e8ff9badf8e388f61d9b1ae2d3d7fe61d21647cfd4", 840_711)
    _, weights = catalog.ENTRIES["instance-segmentation-person-0007"].omz.artifacts("FP16")
    assert (weights.algorithm, weights.size, weights.digest[:16]) == ("sha384", 14_121_850, "26039d9fe4305696")


def test_precisions_are_zoo_names() -> None:
    variant = catalog.entry("road-segmentation-adas-0001:FP16-INT8")
    assert variant.card == catalog.ENTRIES["road-segmentation-adas-0001"].card
    assert variant.cache_files == ((
        "intel/road-segmentation-adas-0001/FP16-INT8/road-segmentation-adas-0001.xml",
        "intel/road-segmentation-adas-0001/FP16-INT8/road-segmentation-adas-0001.bin"),)
    with pytest.raises(ModelError, match="publishes instance-segmentation-person-0007 as FP32, FP16, not FP16-INT8$"):
        catalog.entry("instance-segmentation-person-0007:FP16-INT8")
    with pytest.raises(ModelError, match="deeplabv3 comes in one precision only"):
        catalog.entry("deeplabv3:FP16")


def test_file_names_stay_inside_the_cache() -> None:
    for name in ("../x.xml", "/etc/x", "a/../../x", "a\\..\\x", "./x", ""):
        with pytest.raises(ValueError, match="relative path inside the cache"):
            Artifact(name, "https://example.invalid/x", "sha256", "0" * 64)


def test_dashboard_lists_every_entry_by_task_without_network(isolated_cache: Path) -> None:
    rows = zoo_status()
    assert [r.name for r in rows] == list(catalog.ENTRIES)
    tasks = [r.task for r in rows]
    assert tasks == sorted(tasks, key=["semantic", "instance"].index)  # grouped: semantic first, then instance
    assert all(r.state == "downloadable" and "not checked yet" in r.reason for r in rows)


# --- a download through the mirror server ------------------------------------------------------------------


@pytest.fixture
def mirror_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, bytes]]:
    """SEGWB_ZOO_MIRROR pointing at a server on 127.0.0.1 that serves the dict it yields (path -> bytes)."""
    files: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            body = files.get(self.path.lstrip("/"))
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_HEAD(self) -> None:  # noqa: N802
            self.send_response(200 if self.path.lstrip("/") in files else 404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    monkeypatch.setenv("SEGWB_ZOO_MIRROR", f"http://127.0.0.1:{server.server_port}/")
    yield files
    server.shutdown()
    server.server_close()
    thread.join()


def _publish(tmp_path: Path, name: str, precision: str, files: dict[str, bytes],
             monkeypatch: pytest.MonkeyPatch) -> None:
    """Serve a tiny IR of ``name``'s signature as its ``precision``, and make the entry expect its checksums."""
    xml = _ir(tmp_path / "built", name)
    entry = catalog.ENTRIES[name]
    payloads = [xml.read_bytes(), xml.with_suffix(".bin").read_bytes()]
    digests = tuple((hashlib.new(entry.omz.algorithm, p).hexdigest(), len(p)) for p in payloads)
    ir = dataclasses.replace(entry.omz, files={**entry.omz.files, precision: digests})
    monkeypatch.setitem(catalog.ENTRIES, name, dataclasses.replace(entry, omz=ir))
    for artifact, payload in zip(ir.artifacts(precision), payloads):
        files[artifact.name] = payload


def test_download_through_the_mirror_server(tmp_path: Path, isolated_cache: Path, mirror_server: dict[str, bytes],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    name = "instance-segmentation-person-0007"
    _publish(tmp_path, name, "FP16", mirror_server, monkeypatch)
    row = next(r for r in zoo_status() if r.name == name)
    assert "127.0.0.1" in row.reason  # the mirror server, not the published host
    path, card = catalog.obtain(f"{name}:FP16")
    assert path == isolated_cache / f"intel/{name}/FP16/{name}.xml" and path.with_suffix(".bin").is_file()
    _, resolved = describe(path, overrides=card)
    assert (resolved.adapter, resolved.input_size, resolved.labels) == ("mask_rcnn", (320, 544), ("person",))
    assert [r.state for r in zoo_status() if r.name == name] == ["downloadable"]  # FP32 is what the list shows


def test_checksum_mismatch_is_refused(tmp_path: Path, isolated_cache: Path, mirror_server: dict[str, bytes],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    name = "road-segmentation-adas-0001"
    _publish(tmp_path, name, "FP32", mirror_server, monkeypatch)
    xml_name = f"intel/{name}/FP32/{name}.xml"
    mirror_server[xml_name] = mirror_server[xml_name].replace(b"<net", b"<NET", 1)  # same size, other bytes
    with pytest.raises(DownloadError, match="^checksum mismatch for http://127.0.0.1:") as caught:
        catalog.obtain(f"{name}:FP32")
    assert "\n" not in str(caught.value)
    assert not list(isolated_cache.rglob("*.xml*"))  # nothing unverified kept


def test_mirror_folder_laid_out_as_omz_downloader(tmp_path: Path, isolated_cache: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """``omz_downloader -o FOLDER`` writes intel/<name>/<precision>/<name>.xml|.bin: that folder is a mirror."""
    name, files = "unet-camvid-onnx-0001", {}
    _publish(tmp_path, name, "FP32", files, monkeypatch)
    for relative, payload in files.items():
        (tmp_path / "omz" / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "omz" / relative).write_bytes(payload)
    monkeypatch.setenv("SEGWB_ZOO_MIRROR", str(tmp_path / "omz"))
    row = next(r for r in zoo_status() if r.name == name)
    assert row.state == "downloadable" and "mirror folder" in row.reason
    path, _ = catalog.obtain(f"{name}:FP32")
    assert path.read_bytes() == files[f"intel/{name}/FP32/{name}.xml"]
    assert next(r for r in zoo_status() if r.name == name).state == "cached"
