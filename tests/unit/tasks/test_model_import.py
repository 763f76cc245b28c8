"""Model import (segwb.tasks.model_import, segwb.io.model_file): one-line errors for bad input, card inference, reshape, IR export."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import openvino as ov
import openvino.opset13 as ops
import pytest
from tiny_models import write_model

from segwb.core.errors import ModelError
from segwb.io.model_card import card_file
from segwb.io.model_file import ir_digest, read_model, save_ir
from segwb.tasks import load_card
from segwb.tasks.model_import import describe, import_model, infer_fields


def _error(call, *args, **kwargs) -> str:
    """The ModelError message of ``call``; it must be a single line."""
    with pytest.raises(ModelError) as info:
        call(*args, **kwargs)
    text = str(info.value)
    assert "\n" not in text, text
    return text


@pytest.fixture
def tiny_ir(tmp_path: Path) -> Path:
    return write_model(tmp_path / "src", "class_map")


# --- files that are not (complete) models ------------------------------------------------------

def test_missing_file(tmp_path: Path) -> None:
    """A path that does not exist is named."""
    missing = tmp_path / "nope.xml"
    text = _error(read_model, missing)
    assert text.startswith(str(missing)) and "no such file" in text


def test_xml_without_bin(tiny_ir: Path, tmp_path: Path) -> None:
    """An IR .xml copied without its weights says the .bin is missing."""
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(tiny_ir, alone / tiny_ir.name)
    text = _error(read_model, alone / tiny_ir.name)
    assert text.startswith(str(alone / tiny_ir.name))
    assert tiny_ir.with_suffix(".bin").name in text and "missing" in text


def test_truncated_bin(tiny_ir: Path, tmp_path: Path) -> None:
    """Weights cut in half: 'truncated' with the byte counts, naming the .bin."""
    cut = tmp_path / "cut"
    cut.mkdir()
    shutil.copy(tiny_ir, cut / tiny_ir.name)
    weights = tiny_ir.with_suffix(".bin").read_bytes()
    (cut / tiny_ir.with_suffix(".bin").name).write_bytes(weights[: len(weights) // 2])
    text = _error(read_model, cut / tiny_ir.name)
    assert text.startswith(str(cut / tiny_ir.with_suffix(".bin").name))
    assert "truncated" in text and str(len(weights) // 2) in text and str(len(weights)) in text


def test_xml_that_is_html(tmp_path: Path) -> None:
    """A well-formed XML file that is not IR names its root element."""
    page = tmp_path / "model.xml"
    page.write_text("<html><body>not a model</body></html>")
    text = _error(read_model, page)
    assert text.startswith(str(page)) and "not an OpenVINO IR" in text and "<html>" in text


def test_garbage_xml(tmp_path: Path) -> None:
    """Bytes that do not parse as XML."""
    junk = tmp_path / "model.xml"
    junk.write_bytes(b"\x00\x01garbage<<<")
    text = _error(read_model, junk)
    assert text.startswith(str(junk)) and "not an OpenVINO IR" in text and "does not parse" in text


def test_text_file_named_onnx(tmp_path: Path) -> None:
    """A text file with the .onnx suffix is refused by the ONNX reader."""
    fake = tmp_path / "model.onnx"
    fake.write_text("hello, I am not a model\n")
    text = _error(read_model, fake)
    assert text.startswith(str(fake)) and "cannot be read as a ONNX model" in text


@pytest.mark.parametrize("suffix", [".txt", ".pt"])
def test_unsupported_suffix(tmp_path: Path, suffix: str) -> None:
    """Unknown formats list what segwb reads."""
    other = tmp_path / f"model{suffix}"
    other.write_bytes(b"x")
    text = _error(read_model, other)
    assert text.startswith(str(other)) and f"unsupported model format '{suffix}'" in text and ".onnx" in text


def test_bin_instead_of_xml(tiny_ir: Path) -> None:
    """Giving the weights half of an IR points at the .xml."""
    text = _error(read_model, tiny_ir.with_suffix(".bin"))
    assert text.startswith(str(tiny_ir.with_suffix(".bin"))) and "give the .xml" in text


def test_folder_that_is_not_saved_model(tmp_path: Path) -> None:
    """A folder without saved_model.pb is not a SavedModel."""
    text = _error(read_model, tmp_path)
    assert text.startswith(str(tmp_path)) and "saved_model.pb" in text


# --- graphs segwb cannot feed ------------------------------------------------------------------

def test_rank2_input_is_not_an_image(tmp_path: Path) -> None:
    """A [1,10] parameter is not an image input."""
    vec = ops.parameter([1, 10], ov.Type.f32, name="vec")
    xml = tmp_path / "vec.xml"
    save_ir(ov.Model([ops.relu(vec)], [vec], "vec"), xml)
    text = _error(describe, xml)
    assert text.startswith(str(xml)) and "'vec'" in text and "not an image" in text


def test_two_inputs(tmp_path: Path) -> None:
    """Two image-shaped inputs: both named, exactly one expected."""
    a = ops.parameter([1, 3, 8, 8], ov.Type.f32, name="left")
    b = ops.parameter([1, 3, 8, 8], ov.Type.f32, name="right")
    xml = tmp_path / "two.xml"
    save_ir(ov.Model([ops.add(a, b)], [a, b], "two"), xml)
    text = _error(describe, xml)
    assert text.startswith(str(xml)) and "2 inputs" in text and "left" in text and "right" in text
    assert "exactly one" in text


def test_dynamic_input_needs_input_size(tmp_path: Path) -> None:
    """A [1,?,?,3] input without a card size asks for 'input_size'."""
    xml = write_model(tmp_path, "scores", dynamic=True)
    text = _error(describe, xml)
    assert text.startswith(str(xml)) and "'input_size'" in text and "--input-size" in text


@pytest.mark.parametrize("output", ["class_map", "scores"])
def test_dynamic_input_reshaped_to_card_size(tmp_path: Path, output: str) -> None:
    """With input_size given, a dynamic model becomes static at that (non-square) size, outputs included."""
    xml = write_model(tmp_path, output, dynamic=True)
    model, card = describe(xml, overrides={"input_size": [32, 48]})
    assert card.input_size == (32, 48)
    assert model.input(0).get_partial_shape().is_static
    assert list(model.input(0).get_shape()) == [1, 32, 48, 3]
    expected = [1, 32, 48] if output == "class_map" else [1, 3, 32, 48]
    assert list(model.output(0).get_shape()) == expected
    if output == "scores":
        assert card.output_layout == "NCHW"


def test_static_input_resized_by_override(tmp_path: Path) -> None:
    """An input_size override reshapes a static model too, and the score layout is still inferred."""
    xml = write_model(tmp_path, "scores", size=64)
    model, card = describe(xml, overrides={"input_size": [40, 56]})
    assert list(model.input(0).get_shape()) == [1, 40, 56, 3]
    assert card.adapter == "scores" and card.output_layout == "NCHW"


def test_class_map_adapter_on_scores_output(tmp_path: Path) -> None:
    """Forcing class_map on a float [1,3,H,W] output is refused, naming the adapter."""
    xml = write_model(tmp_path, "scores")
    text = _error(describe, xml, overrides={"adapter": "class_map"})
    assert text.startswith(str(xml)) and "class_map" in text and "[1, 3, 64, 64]" in text


def test_scores_channels_differ_from_labels(tmp_path: Path) -> None:
    """Three score channels against four labels."""
    xml = write_model(tmp_path, "scores")
    (tmp_path / "labels.txt").write_text("background\nperson\ncat\ndog\n")
    text = _error(describe, xml)
    assert text.startswith(str(xml)) and "3 class channels" in text and "4 labels" in text


# --- what the graph says about the card ---------------------------------------------------------

def test_infer_fields_nhwc_u8(tmp_path: Path) -> None:
    """u8 NHWC input: layout, raw scaling and size come from the graph."""
    xml = write_model(tmp_path, "class_map", size=48)
    found = infer_fields(read_model(xml), xml)
    assert found["layout"] == "NHWC"
    assert found["mean"] == 0 and found["scale"] == 1
    assert found["input_size"] == [48, 48]
    assert found["task"] == "semantic"


def test_describe_class_map(tmp_path: Path) -> None:
    """Integer ids output → class_map adapter; labels.txt and the yml fill the rest."""
    xml = write_model(tmp_path, "class_map")
    _, card = describe(xml)
    assert (card.task, card.layout, card.adapter, card.output_layout) == ("semantic", "NHWC", "class_map", None)
    assert card.mean == (0, 0, 0) and card.scale == (1, 1, 1) and card.input_size == (64, 64)
    assert card.color_order == "RGB" and card.resize == "fit_pad"
    assert card.labels == ("background", "person", "cat")


def test_describe_scores(tmp_path: Path) -> None:
    """Float [1,3,H,W] output → scores adapter with NCHW output layout."""
    _, card = describe(write_model(tmp_path, "scores"))
    assert card.adapter == "scores" and card.output_layout == "NCHW"


def test_overrides_win_over_card_file(tmp_path: Path) -> None:
    """CLI-style overrides beat the yml next to the model."""
    _, card = describe(write_model(tmp_path, "class_map"), overrides={"color_order": "BGR", "resize": "stretch"})
    assert card.color_order == "BGR" and card.resize == "stretch"


# --- import into a project ---------------------------------------------------------------------

def test_import_writes_ir_and_card(tiny_ir: Path, tmp_path: Path) -> None:
    """import_model stores model.xml/.bin and model-card.yml; the card reads back equal."""
    dest = tmp_path / "project" / "model.xml"
    imported = import_model(tiny_ir, dest)
    assert dest.is_file() and dest.with_suffix(".bin").is_file()
    assert card_file(dest) == dest.with_name("model-card.yml") and card_file(dest).is_file()
    assert load_card(card_file(dest)) == imported.card
    assert not list(dest.parent.glob(".save-*"))  # no staging folder left behind


def test_ir_digest_stable_across_imports(tiny_ir: Path, tmp_path: Path) -> None:
    """Two imports of the same model (into different folders) hash the same; another model does not."""
    first = import_model(tiny_ir, tmp_path / "one" / "model.xml")
    second = import_model(tiny_ir, tmp_path / "two" / "model.xml")
    assert first.digest == second.digest == ir_digest(tmp_path / "one" / "model.xml")
    other = import_model(write_model(tmp_path / "other", "class_map", seed=7), tmp_path / "three" / "model.xml")
    assert other.digest != first.digest


# --- ONNX --------------------------------------------------------------------------------------

CONV_W = np.random.default_rng(3).normal(0, 0.2, size=(3, 3, 3, 3)).astype(np.float32)
ONNX_OVERRIDES = {"color_order": "RGB", "resize": "stretch", "mean": 0, "scale": 255,
                  "labels": ["background", "person", "cat"]}


def _check_onnx_import(onnx_path: Path, tmp_path: Path) -> None:
    """The 1-conv ONNX model imports as an NCHW f32 scores model and computes the same conv."""
    imported = import_model(onnx_path, tmp_path / "imported" / "model.xml", overrides=ONNX_OVERRIDES)
    card = imported.card
    assert (card.layout, card.input_size, card.adapter, card.output_layout) == ("NCHW", (16, 16), "scores", "NCHW")
    assert card.scale == (255, 255, 255) and card.labels == ("background", "person", "cat")
    x = np.random.default_rng(0).random((1, 3, 16, 16), dtype=np.float32)
    got = ov.Core().compile_model(imported.xml, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})(x)[0]
    padded = np.pad(x[0], ((0, 0), (1, 1), (1, 1)))
    want = np.zeros((3, 16, 16), np.float32)
    for dy in range(3):
        for dx in range(3):
            want += np.einsum("oc,chw->ohw", CONV_W[:, :, dy, dx], padded[:, dy:dy + 16, dx:dx + 16])
    np.testing.assert_allclose(got[0], want, rtol=1e-4, atol=1e-5)


def test_onnx_import_with_onnx_helper(tmp_path: Path) -> None:
    """Built with onnx.helper when the onnx package is installed (it is not a segwb dependency)."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [helper.make_node("Conv", ["image", "w"], ["scores"], pads=[1, 1, 1, 1])], "conv",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 3, 16, 16])],
        [numpy_helper.from_array(CONV_W, "w")])
    path = tmp_path / "conv.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    _check_onnx_import(path, tmp_path)


def _pb_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _pb(field: int, value: int | bytes | str) -> bytes:
    """One protobuf field: varint for ints, length-delimited for bytes/str/sub-messages."""
    if isinstance(value, int):
        return _pb_varint(field << 3) + _pb_varint(value)
    data = value.encode() if isinstance(value, str) else value
    return _pb_varint(field << 3 | 2) + _pb_varint(len(data)) + data


def _onnx_value_info(name: str, dims: list[int]) -> bytes:
    shape = b"".join(_pb(1, _pb(1, d)) for d in dims)  # TensorShapeProto.dim { dim_value }
    return _pb(1, name) + _pb(2, _pb(1, _pb(1, 1) + _pb(2, shape)))  # type.tensor_type{elem_type FLOAT, shape}


def _hand_encoded_onnx() -> bytes:
    """The same 1-conv model as ModelProto bytes, written field by field (no onnx package needed)."""
    pads = _pb(1, "pads") + _pb(20, 7) + b"".join(_pb(8, 1) for _ in range(4))  # AttributeProto INTS
    node = _pb(1, "image") + _pb(1, "w") + _pb(2, "scores") + _pb(3, "conv") + _pb(4, "Conv") + _pb(5, pads)
    weights = b"".join(_pb(1, d) for d in CONV_W.shape) + _pb(2, 1) + _pb(8, "w") + _pb(9, CONV_W.tobytes())
    graph = (_pb(1, node) + _pb(2, "conv") + _pb(5, weights)
             + _pb(11, _onnx_value_info("image", [1, 3, 16, 16])) + _pb(12, _onnx_value_info("scores", [1, 3, 16, 16])))
    return _pb(1, 7) + _pb(2, "segwb-tests") + _pb(7, graph) + _pb(8, _pb(1, "") + _pb(2, 13))


def test_onnx_import_hand_encoded(tmp_path: Path) -> None:
    """A real ONNX file read through OpenVINO's ONNX frontend, without the onnx package."""
    path = tmp_path / "conv.onnx"
    path.write_bytes(_hand_encoded_onnx())
    _check_onnx_import(path, tmp_path)
