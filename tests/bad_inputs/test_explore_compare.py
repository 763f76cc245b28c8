"""``segwb explore``, ``segwb compare-performance`` and ``segwb deploy`` given files that are not IR, missing or
broken projects, and values out of range: one line, exit 2, nothing written (not even an explorer/ folder)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import hostile_inputs as hi
import pytest
from bad_inputs_conftest import Baseline, Scratch


def txt(s: Scratch) -> Path:
    p = s.models / "model.txt"
    p.write_text("not a model\n")
    return p


def onnx_garbage(s: Scratch) -> Path:
    p = s.models / "model.onnx"
    p.write_bytes(os.urandom(2048))
    return p


def missing(s: Scratch) -> Path:
    return s.models / "missing.xml"


def empty_xml(s: Scratch) -> Path:
    p = s.models / "empty.xml"
    p.write_bytes(b"")
    return p


def weights_half(s: Scratch) -> Path:
    return hi.write_semantic(s.models).with_suffix(".bin")


def folder(s: Scratch) -> Path:
    (s.models / "folder.xml").mkdir()
    return s.models / "folder.xml"


NOT_IR: list[Callable[[Scratch], Path]] = [txt, onnx_garbage, missing, empty_xml, weights_half, folder]


@pytest.mark.parametrize("make", NOT_IR, ids=[m.__name__ for m in NOT_IR])
def test_explore_on_a_file_that_is_not_an_ir_is_refused(make: Callable[[Scratch], Path], scratch: Scratch) -> None:
    model = make(scratch)
    scratch.refused(["explore", str(model), "--seconds", "0.1", "--streams", "1", "--batch", "1"], model.name,
                    allowed=[], early=True)


@pytest.mark.parametrize("make", NOT_IR, ids=[m.__name__ for m in NOT_IR])
def test_compare_performance_on_a_file_that_is_not_an_ir_is_refused(make: Callable[[Scratch], Path], scratch: Scratch,
                                                                    semantic_model: Path) -> None:
    model = make(scratch)
    scratch.refused(["compare-performance", "--a", str(semantic_model), "--b", str(model), "--inferences", "2"],
                    model.name, allowed=[], early=True)


QUICK = {"--seconds": "0.1", "--streams": "1", "--batch": "1"}
EXPLORE_VALUES = [("seconds_0", {"--seconds": "0"}, "--seconds"), ("seconds_nan", {"--seconds": "nan"}, "--seconds"),
                  ("seconds_-1", {"--seconds": "-1"}, "--seconds"), ("streams_0", {"--streams": "0"}, "--streams"),
                  ("batch_0", {"--batch": "0"}, "--batch"), ("batch_-1", {"--batch": "-1"}, "--batch"),
                  ("max_batch_0", {"--max-batch": "0", "--batch": None}, "--max-batch")]


@pytest.mark.parametrize("values,flag", [(v, f) for _, v, f in EXPLORE_VALUES], ids=[i for i, _, _ in EXPLORE_VALUES])
def test_explore_value_out_of_range_is_refused(values: dict, flag: str, scratch: Scratch, semantic_model: Path) -> None:
    options = {k: v for k, v in {**QUICK, **values}.items() if v is not None}
    argv = ["explore", str(semantic_model), "--cache", str(scratch.project), *[t for kv in options.items() for t in kv]]
    scratch.refused(argv, (flag, flag.lstrip("-").replace("-", " ")), early=True, timeout=30)


def test_compare_performance_on_a_missing_project_creates_nothing(scratch: Scratch) -> None:
    scratch.refused(["compare-performance", "--project", str(scratch.root / "no-such-project")], "no-such-project",
                    allowed=[], early=True)


def test_compare_performance_on_a_folder_that_is_no_project(scratch: Scratch) -> None:
    scratch.refused(["compare-performance", "--project", str(scratch.victim)], "victim", allowed=[], early=True)


def test_compare_performance_on_a_project_with_an_empty_model(scratch: Scratch, baseline: Baseline) -> None:
    project = baseline.copy_project(scratch.project)
    (project / "models" / "optimized" / "model.xml").write_bytes(b"")
    scratch.refused(["compare-performance", "--project", str(project), "--inferences", "2"], "model.xml",
                    allowed=[], early=True)


@pytest.mark.parametrize("extra,flag", [(["--inferences", "-5"], "--inferences"),
                                        (["--a-precision", "int3"], "precision")], ids=["inferences_-5", "precision"])
def test_compare_performance_value_out_of_range_is_refused(extra: list[str], flag: str, scratch: Scratch,
                                                           semantic_model: Path) -> None:
    scratch.refused(["compare-performance", "--a", str(semantic_model), "--b", str(semantic_model), *extra], flag,
                    allowed=[], early=True)


@pytest.mark.parametrize("content", [b'{"task": "semantic", "compar', b"\xff\xfe\x00", b"[1, 2, 3]"],
                         ids=["truncated", "not_utf8", "a_list"])
def test_deploy_of_a_project_with_a_broken_report_is_refused(content: bytes, scratch: Scratch,
                                                             baseline: Baseline) -> None:
    project = baseline.copy_project(scratch.project)
    (project / "report.json").write_bytes(content)
    scratch.refused(["deploy", "--project", str(project)], "report.json", allowed=[], early=True)
