"""``--device`` on the command line: a device this machine lacks is one line with exit code 2 before any long step, on
the tutorial, the explorer and compare-performance; the flag round-trips through ``to_argv``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tiny_models import write_model

from segwb import cli
from segwb.cli.parser import build_parser, options_from_args, to_argv
from segwb.tutorial.options import TutorialOptions


def _one_error_line(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert cli.main(list(argv)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("segwb: error: ") and "Traceback" not in err[0]
    return err[0]


def test_an_absent_device_stops_the_tutorial_first(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    line = _one_error_line(capsys, "tutorial", "semantic", "--model", str(write_model(tmp_path / "m")),
                           "--out", str(tmp_path / "out"), "--device", "GPU.9")
    assert line.startswith("segwb: error: --device GPU.9: not on this machine; available: CPU (") and line.endswith(", AUTO")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("spec", ["NOPE", "HETERO:", "MULTI:CPU,CPU"])
def test_the_explorer_and_compare_performance_check_the_device(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                                 spec: str) -> None:
    xml = write_model(tmp_path / "m", "scores")
    assert "--device" in _one_error_line(capsys, "explore", str(xml), "--streams", "1", "--batch", "1", "--device", spec)
    assert "--device" in _one_error_line(capsys, "compare-performance", "--a", str(xml), "--b", str(xml), "--device", spec)
    assert not (tmp_path / "m" / "explorer").exists() and not Path("performance-comparison.json").exists()


def test_the_explorer_estimates_on_auto(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    xml = write_model(tmp_path / "m", "scores")
    assert cli.main(["explore", str(xml), "--streams", "1", "--batch", "1", "--device", "AUTO", "--estimate-only"]) == 0


def test_compare_performance_on_auto(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    xml = write_model(tmp_path / "m", "scores")
    assert cli.main(["compare-performance", "--a", str(xml), "--b", str(xml), "--inferences", "3", "--device", "AUTO",
                     "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "performance-comparison.json").read_text())
    assert result["device"] == "AUTO" and result["device_name"].startswith("executed on CPU: ")
    assert result["a"]["properties"]["EXECUTION_DEVICES"] == "CPU"
    assert "on AUTO (executed on CPU: " in (tmp_path / "performance-comparison.html").read_text()


def test_the_device_round_trips_through_to_argv() -> None:
    options = TutorialOptions(out=Path("p"), device="AUTO")
    argv = to_argv(options)
    assert argv[argv.index("--device") + 1] == "AUTO"
    assert options_from_args(build_parser().parse_args(argv)) == options
    assert "--device" not in to_argv(TutorialOptions(out=Path("p")))  # the default stays implicit
