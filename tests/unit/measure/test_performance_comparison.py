"""Compare Projects: per-layer profiles, summary, precision shares, kernel matching, findings, CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_models import write_model

from segwb import cli
from segwb.core.storage import read_json
from segwb.measure.layer_profile import Layer, profile, runtime_precision
from segwb.measure.performance_comparison import (
    compare,
    findings,
    kernel_table,
    precision_distribution,
    summary,
)

A = [Layer("conv1", "Convolution", "brgconv_avx512_f32", "f32", 6.0),
     Layer("dw1", "GroupConvolution", "brgconv_avx512_dw_f32", "f32", 2.0),
     Layer("argmax", "TopK", "jit_avx512_f32", "f32", 1.0),
     Layer("x_abcd_acdb_conv1", "Reorder", "jit_uni_f32", "f32", 1.0)]
B = [Layer("conv1", "Convolution", "brgconv_avx512_amx_i8", "i8", 2.0),
     Layer("dw1", "GroupConvolution", "brgconv_avx512_dw_f32", "f32", 2.0),
     Layer("argmax", "TopK", "jit_avx512_bf16", "bf16", 4.0),
     Layer("x/fq_output_0", "Subgraph", "jit_avx512_f32", "f32", 0.5),
     Layer("x_abcd_acdb_I8_conv1", "Reorder", "jit_uni_I8", "i8", 0.5)]


def test_runtime_precision_from_kernel_names() -> None:
    assert runtime_precision("brgconv_avx512_amx_1x1_i8") == "i8"
    assert runtime_precision("jit_uni_I8") == "i8"
    assert runtime_precision("jit_avx512_bf16") == "bf16"
    assert runtime_precision("unknown_f32") == "f32"
    assert runtime_precision("undef") == "unknown"


def test_summary_and_precision_distribution() -> None:
    """B: 9 ms in all; i8 2.5 ms, f32 2.5 ms, bf16 4 ms."""
    rows = summary(B)
    assert [r["type"] for r in rows][:2] == ["TopK", "Convolution"]
    topk = rows[0]
    assert topk["ms"] == 4.0 and topk["share"] == pytest.approx(4 / 9) and topk["precisions"] == {"bf16": 1}
    shares = precision_distribution(B)
    assert shares == pytest.approx({"bf16": 4 / 9, "i8": 2.5 / 9, "f32": 2.5 / 9})
    assert list(shares)[0] == "bf16"


def test_kernel_table_matches_by_name() -> None:
    """conv1 2/6 ms → delta -4, ratio 1/3; quantizer and runtime reorders have no counterpart."""
    rows = {r["name"]: r for r in kernel_table(A, B)}
    assert rows["conv1"]["delta_ms"] == -4.0 and rows["conv1"]["ratio"] == pytest.approx(1 / 3)
    assert (rows["conv1"]["precision_a"], rows["conv1"]["precision_b"]) == ("f32", "i8")
    assert rows["argmax"]["delta_ms"] == 3.0 and rows["argmax"]["origin"] == "both"
    assert rows["x/fq_output_0"]["origin"] == "quantization" and rows["x/fq_output_0"]["ms_a"] is None
    assert rows["x_abcd_acdb_conv1"]["origin"] == "A only" and rows["x_abcd_acdb_conv1"]["ratio"] is None
    assert rows["x_abcd_acdb_I8_conv1"]["origin"] == "B only"
    assert list(rows)[0] == "conv1"  # largest first (6 ms in A)


def test_findings_name_the_culprits() -> None:
    """TopK is B's largest layer and slower than in A; depthwise convolutions still run in f32."""
    lines = findings(A, B)
    text = "\n".join(lines)
    assert lines[0].startswith("B takes 9.00 ms per inference against 10.00 ms for A")
    assert "28 % of B's time runs in INT8 kernels" in text
    assert "TopK argmax takes 4.00 of 9.00 ms of B (44 %, bf16); in A it takes 1.00 ms (f32)." in text
    assert "GroupConvolution layers that still run in floating point take 2.00 ms (22 %) of B." in text
    assert "TopK argmax is slower in B: 4.00 ms (bf16) against 1.00 ms (f32) in A." in text
    assert "Layers that exist only in B (quantizers, reorders) take 1.00 ms (11 %)." in text
    assert set(compare(A, B)) == {"total_ms", "summary", "precision_distribution", "kernels", "findings"}


def test_profile_a_real_model(tmp_path: Path) -> None:
    """The tiny model's executed layers, all timed, at the precision asked."""
    xml = write_model(tmp_path, "scores")
    layers, props = profile(xml, "f32", inferences=5, warmup=1)
    assert layers and all(layer.ms >= 0 for layer in layers) and sum(layer.ms for layer in layers) > 0
    assert any(layer.type == "Convolution" and layer.precision == "f32" for layer in layers)
    assert props["PERFORMANCE_HINT"] == "LATENCY" and props["INFERENCE_PRECISION_HINT"] == "f32"


def test_cli_writes_json_and_html(tmp_path: Path, capsys) -> None:
    xml = write_model(tmp_path / "m", "scores")
    out = tmp_path / "out"
    out.mkdir()
    assert cli.main(["compare-performance", "--a", str(xml), "--b", str(xml), "--b-precision", "f32",
                     "--inferences", "3", "--out", str(out)]) == 0
    result = read_json(out / "performance-comparison.json")
    assert result["a"]["precision"] == "f32" and result["b"]["precision"] == "f32" and result["inferences"] == 3
    assert all(r["origin"] == "both" for r in result["kernels"])
    assert "Kernel-level performance" in (out / "performance-comparison.html").read_text()
    assert "report page:" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["compare-performance"], "needs --project DIR, or both --a XML and --b XML"),
    (["compare-performance", "--a", "nope.xml", "--b", "nope.xml"], "nope.xml: no such model file"),
    (["compare-performance", "--project", "PROJECT"], "no models/parent/model.xml; run `segwb quantize` on it first"),
    (["compare-performance", "--project", "MISSING"], "no such project folder"),
])
def test_cli_errors_are_one_line(argv: list[str], message: str, tmp_path: Path, capsys) -> None:
    (tmp_path / "p").mkdir()
    argv = [str(tmp_path / "p") if a == "PROJECT" else str(tmp_path / "missing") if a == "MISSING" else a for a in argv]
    assert cli.main(argv) == 2
    assert not (tmp_path / "missing").exists()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
