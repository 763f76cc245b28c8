"""performance-comparison.html from its template: the sections of Compare Projects, N/A for one-sided layers, the
kernel table cut at 300 rows, and layer names from the user's model escaped."""

from __future__ import annotations

from pathlib import Path

from segwb.measure.layer_profile import Layer
from segwb.measure.performance_comparison import compare
from segwb.report.performance_page import KERNEL_ROWS, render, write_performance_html


def _result(layers_a: list[Layer], layers_b: list[Layer]) -> dict:
    return {"a": {"model": "models/parent/model.xml", "precision": "f32"},
            "b": {"model": "models/optimized/<model>.xml", "precision": "default"},
            "inferences": 7, **compare(layers_a, layers_b)}


def test_sections_numbers_and_escaping(tmp_path: Path) -> None:
    a = [Layer("conv <1>", "Convolution", "brgconv_avx512_f32", "f32", 2.0), Layer("only_a", "Reorder", "ref_any", "unknown", 0.5)]
    b = [Layer("conv <1>", "Convolution", "brgconv_avx512_i8", "i8", 0.5),
         Layer("conv <1>/fq_output_0", "FakeQuantize", "jit_f32", "f32", 0.1)]
    page = render(_result(a, b))
    for title in ("Findings", "Precision distribution", "Performance summary: A", "Performance summary: B",
                  "Kernel-level performance"):
        assert f">{title}" in page
    assert "conv &lt;1&gt;" in page and "conv <1>" not in page and "&lt;model&gt;.xml" in page
    assert "over 7 inferences" in page and "A 2.50 ms, B 0.60 ms per inference" in page
    assert "<td>quantization</td>" in page and "<td>A only</td>" in page and "N/A" in page
    assert "<td class=num>-1.500</td><td class=num>0.25</td>" in page  # Delta B - A and Ratio B / A of the conv
    out = tmp_path / "p.html"
    write_performance_html(_result(a, b), out)
    assert out.read_text() == page


def test_long_kernel_tables_are_cut_and_say_so() -> None:
    layers = [Layer(f"l{i}", "Add", "jit_f32", "f32", 1.0 + i) for i in range(KERNEL_ROWS + 5)]
    page = render(_result(layers, layers))
    kernels = page.split("Kernel-level performance")[1]
    assert kernels.count("<td>Add</td>") == KERNEL_ROWS and "5 smaller rows in the JSON" in kernels
