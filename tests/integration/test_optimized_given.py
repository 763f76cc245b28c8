"""``--optimized``: a model the user already has is the optimized model (NNCF skipped), checked against the parent;
an already-quantized parent is refused before NNCF. Tiny models here, and the fixtures' precision (needs
$SEGWB_FIXTURES); test_fixture_yolo gives segwb's own INT8 of YOLO26n-seg with ``--optimized``."""

from __future__ import annotations

import logging
import tarfile
from pathlib import Path

import numpy as np
import openvino as ov
import openvino.opset13 as ops
import pytest
from tiny_models import semantic_model, write_model
from tutorial_runs import semantic_tutorial

from segwb import cli
from segwb.core.storage import read_json
from segwb.io.model_file import save_ir, source_digest
from segwb.io.model_precision import precision_summary
from segwb.ship.archive_export import export_project
from segwb.ship.archive_import import import_project
from segwb.ship.deploy import build_package


def _int8_weights(model: ov.Model) -> ov.Model:
    """The model with its convolution's weights stored as i8 and decompressed (Convert, Multiply), as an INT8 export
    stores them."""
    conv = next(n for n in model.get_ops() if n.get_type_name() == "Convolution")
    weights = conv.input_value(1).get_node().get_data()
    scale = float(np.abs(weights).max() / 127)
    stored = ops.constant(np.round(weights / scale).astype(np.int8))
    conv.input(1).replace_source_output(ops.multiply(ops.convert(stored, ov.Type.f32), ops.constant(np.float32(scale)))
                                        .output(0))
    return model


def _error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert cli.main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1].startswith("segwb: error: ")
    return lines[-1]


def test_a_given_fp16_model_is_the_optimized_one(tmp_path: Path, photo_folder: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """The report says where the optimized model came from and what it is; deployment and the archive work as for
    segwb's own INT8; NNCF's INT8 and the given model replace each other in one project, never reused wrongly."""
    parent = write_model(tmp_path / "parent")
    given = tmp_path / "exports" / "fp16" / "model.xml"
    given.parent.mkdir(parents=True)
    ov.save_model(semantic_model(), given, compress_to_fp16=True)
    out = tmp_path / "project"
    report = semantic_tutorial(parent, photo_folder, out, "--optimized", str(given))
    opt = report["optimized"]
    assert (opt["source"], opt["given"]) == ("given", {"path": str(given.resolve()), "digest": source_digest(given)})
    assert (opt["precision"]["kind"], opt["precision"]["f16_weights"]) == ("fp16", 1)
    assert "method" not in opt and report["parent"]["precision"]["kind"] == "f32"
    line = "Optimized model: given (fp16/model.xml, FP16 weights: 1 f16 constant), not quantized by segwb"
    assert line in capsys.readouterr().out.splitlines()
    assert "NNCF was not run" in (out / "report.html").read_text()
    assert report["comparison"]["mean_pixel_agreement"] > 0.99  # the same weights in f16
    assert (out / "models/optimized/model-card.yml").read_bytes() == (out / "models/parent/model-card.yml").read_bytes()

    package = build_package(out, tmp_path / "deploy.zip")
    assert package.is_file()
    archive = export_project(out)
    with tarfile.open(archive) as tar:
        description = tar.extractfile("project/description.txt").read().decode()
    assert f"{line}\n" in description and "NNCF not used (optimized model given)" in description
    assert read_json(import_project(archive, tmp_path / "imported") / "report.json")["optimized"]["source"] == "given"

    nncf = semantic_tutorial(parent, photo_folder, out)  # NNCF's INT8 replaces the given model …
    assert nncf["optimized"]["source"] == "segwb" and not nncf["steps_cached"]["quantize"]
    assert nncf["optimized"]["digest"] != opt["digest"] and nncf["optimized"]["precision"]["kind"] == "int8"
    again = semantic_tutorial(parent, photo_folder, out, "--optimized", str(given))  # … and the other way round
    assert again["optimized"]["digest"] == opt["digest"] and not again["steps_cached"]["quantize"]
    assert again["comparison"]["mean_pixel_agreement"] == report["comparison"]["mean_pixel_agreement"]


def test_the_parent_itself_is_allowed(tmp_path: Path, photo_folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A model against itself is a null comparison (the same predictions): allowed, and said."""
    parent = write_model(tmp_path / "parent")
    with caplog.at_level(logging.INFO, logger="segwb"):
        report = semantic_tutorial(parent, photo_folder, tmp_path / "project", "--optimized", str(parent))
    assert report["optimized"]["digest"] == report["parent"]["digest"]
    assert report["comparison"]["mean_pixel_agreement"] == 1.0
    assert "the optimized model is the parent itself" in caplog.text


def test_what_cannot_be_compared_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parent = write_model(tmp_path / "parent")
    run = ["tutorial", "semantic", "--model", str(parent), "--out", str(tmp_path / "p"), "--bench-seconds", "0.2"]
    for name, model in (("size", semantic_model(size=48)), ("scores", semantic_model("scores"))):
        save_ir(model, tmp_path / name / "model.xml")
    error = _error(capsys, [*run, "--optimized", str(tmp_path / "size/model.xml")])
    assert f"{tmp_path / 'size/model.xml'}: does not take the parent's input: 'image' is u8 [1,48,48,3], the " \
           "parent's is u8 [1,64,64,3] (NHWC)" in error
    error = _error(capsys, [*run, "--optimized", str(tmp_path / "scores/model.xml")])
    assert f"{tmp_path / 'scores/model.xml'}: does not fit the parent's model card (adapter class_map): " in error
    assert "no such file or folder (--optimized)" in _error(capsys, [*run, "--optimized", str(tmp_path / "none.xml")])
    assert "nothing to quantize" in _error(capsys, [*run, "--optimized", str(parent), "--method", "accuracy-aware"])


def test_an_already_quantized_parent_is_refused_before_nncf(tmp_path: Path, photo_folder: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """NNCF would quantize what is already rounded; the line offers comparing it as the optimized model instead,
    which works."""
    quantized = tmp_path / "int8" / "model.xml"
    save_ir(_int8_weights(semantic_model()), quantized)
    quantized.with_suffix(".yml").write_text("color_order: RGB\nresize: fit_pad\n")
    error = _error(capsys, ["tutorial", "semantic", "--model", str(quantized), "--out", str(tmp_path / "p")])
    assert error == (f"segwb: error: {quantized}: is already quantized (INT8: 1 int8 weight); segwb will not quantize "
                     f"it again. Compare it as the optimized model instead: --model <its f32 parent> --optimized "
                     f"{quantized}")
    report = semantic_tutorial(write_model(tmp_path / "parent"), photo_folder, tmp_path / "q", "--optimized",
                               str(quantized))
    assert report["optimized"]["precision"]["description"] == "INT8: 1 int8 weight"


# --- on the fixtures -------------------------------------------------------------------------------------------

@pytest.mark.fixtures
def test_the_fixtures_are_not_taken_for_quantized(zoo_fixtures: Path) -> None:
    """Both are FP32 rebuilt from INT8 exports: their f32 weights carry int8 rounding, which is not quantization."""
    for xml in ("deeplabv3-mnv2-voc-513/deeplabv3.xml", "yolo26n-seg-coco-320/yolo26n-seg.xml"):
        found = precision_summary(ov.Core().read_model(zoo_fixtures / "models" / xml))
        assert (found["kind"], found["fake_quantize"], found["int8_weights"]) == ("f32", 0, 0), xml
