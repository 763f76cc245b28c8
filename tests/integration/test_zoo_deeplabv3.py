"""convert_deeplabv3 on a tiny stand-in for OMZ's deeplabv3 frozen graph (tests/data/tiny_deeplab_frozen.pb).

The stand-in keeps what the conversion depends on: uint8 ``ImageTensor`` -> Cast -> ResizeBilinear ->
``mul_1 = Mul(2/255, image)`` -> ``sub`` -> 3x3 conv to 21 classes -> ``ArgMax``; its weights are in
tiny_deeplab_weights.npz, so numpy computes the expected class map from the RGB image.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import numpy as np
import openvino as ov
import pytest

from segwb.core.errors import ModelError
from segwb.zoo.sources import convert_deeplabv3
from segwb.zoo.sources import extract as _extract

DATA = Path(__file__).parents[1] / "data"
MEMBER = "deeplabv3_mnv2_pascal_train_aug/frozen_inference_graph.pb"


def _archive(tmp_path: Path, graph: bytes) -> Path:
    """A .tar.gz laid out like deeplabv3_mnv2_pascal_train_aug_2018_01_29.tar.gz, holding ``graph``."""
    archive = tmp_path / "deeplabv3_mnv2_pascal_train_aug_2018_01_29.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, payload in ((MEMBER, graph), ("deeplabv3_mnv2_pascal_train_aug/model.ckpt-30000.index", b"x")):
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return archive


def _reference_logits(rgb: np.ndarray) -> np.ndarray:
    """The tiny graph after its cut point, in numpy: 3x3 SAME conv of (2/255)*x - 1, plus bias."""
    w = np.load(DATA / "tiny_deeplab_weights.npz")
    kernel, bias = w["kernel"].astype(np.float64), w["bias"].astype(np.float64)  # HWIO, [21]
    x = np.pad(rgb[0].astype(np.float64) * (2.0 / 255.0) - 1.0, ((1, 1), (1, 1), (0, 0)))
    h, wd = rgb.shape[1:3]
    out = np.zeros((h, wd, kernel.shape[3])) + bias
    for dy in range(3):
        for dx in range(3):
            out += x[dy:dy + h, dx:dx + wd] @ kernel[dy, dx]
    return out


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> ov.Model:
    tmp = tmp_path_factory.mktemp("deeplab")
    graph = _extract(_archive(tmp, (DATA / "tiny_deeplab_frozen.pb").read_bytes()), MEMBER, tmp / "out")
    assert graph.read_bytes() == (DATA / "tiny_deeplab_frozen.pb").read_bytes()
    return convert_deeplabv3(graph)


def test_input_and_output_like_omz(model: ov.Model) -> None:
    assert len(model.inputs) == 1 and len(model.outputs) == 1
    inp, out = model.input(0), model.output(0)
    assert inp.get_element_type() == ov.Type.f32
    assert inp.get_partial_shape() == ov.PartialShape([1, 513, 513, 3])
    assert "mul_1/placeholder_port_1" in inp.get_names()
    assert out.get_partial_shape() == ov.PartialShape([1, 513, 513])
    assert out.get_element_type().is_integral()
    assert "ArgMax/Squeeze" in out.get_names()
    # the cut left out everything before mul_1: no uint8 input, no resize
    assert not [op for op in model.get_ordered_ops() if op.get_type_name() in ("Interpolate", "Convert")]


def test_bgr_input_matches_reference_on_rgb(model: ov.Model) -> None:
    rng = np.random.default_rng(3)
    bgr = rng.integers(0, 256, (1, 513, 513, 3)).astype(np.float32)
    rgb = bgr[..., ::-1]
    logits = _reference_logits(rgb)
    expected = logits.argmax(-1)[None]
    top2 = np.sort(logits, -1)[..., -2:]
    clear = (top2[..., 1] - top2[..., 0] > 1e-4)[None]  # pixels whose winner no rounding can change
    # f32 on purpose: the CPU plugin's default is bf16 where the hardware has it, which flips near-ties
    compiled = ov.Core().compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    got = compiled(bgr)[0]
    assert got.shape == (1, 513, 513)
    assert np.array_equal(got[clear], expected[clear])
    assert (got == expected).mean() > 0.9999
    # and the channel order matters: the same pixels in RGB order give a clearly different map
    assert (compiled(np.ascontiguousarray(rgb))[0] == expected).mean() < 0.5


def test_graph_without_the_cut_point_is_a_model_error(tmp_path: Path) -> None:
    bad = tmp_path / "frozen_inference_graph.pb"
    bad.write_bytes(b"not a graph")
    with pytest.raises(ModelError, match="cannot convert the deeplabv3 graph"):
        convert_deeplabv3(bad)
