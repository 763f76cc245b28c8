"""The ``segwb`` command line: one-line errors with exit code 2, --debug tracebacks, argument checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from tiny_models import write_model

from segwb import cli


@pytest.fixture
def tiny_xml(tmp_path: Path) -> Path:
    return write_model(tmp_path / "model", "class_map")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _error_line(err: str) -> str:
    """The last stderr line, which must be segwb's one-line error."""
    line = err.strip().splitlines()[-1]
    assert line.startswith("segwb: error: "), err
    assert "Traceback" not in err
    return line


def test_zoo_lists_models(capsys: pytest.CaptureFixture[str]) -> None:
    """``segwb zoo`` names the three zoo models."""
    code, out, _ = _run(capsys, "zoo")
    assert code == 0
    for name in ("deeplabv3", "instance-segmentation-security-0002", "selfie-segmentation"):
        assert name in out


def test_missing_model_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A model path that does not exist: exit 2, one line naming it (no FileNotFoundError traceback)."""
    missing = tmp_path / "missing.xml"
    code, _, err = _run(capsys, "tutorial", "semantic", "--model", str(missing), "--out", str(tmp_path / "out"))
    assert code == 2
    line = _error_line(err)
    assert str(missing) in line and "no such file" in line


def test_missing_model_card(capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_xml: Path) -> None:
    """--model-card pointing nowhere is a one-line error too."""
    card = tmp_path / "nope.yml"
    code, _, err = _run(capsys, "quantize", "--model", str(tiny_xml), "--model-card", str(card),
                        "--out", str(tmp_path / "out"))
    assert code == 2 and str(card) in _error_line(err)


def test_bad_model_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A ModelError from import surfaces as the same single line."""
    page = tmp_path / "model.xml"
    page.write_text("<html></html>")
    code, _, err = _run(capsys, "quantize", "--model", str(page), "--out", str(tmp_path / "out"))
    assert code == 2
    assert _error_line(err) == f"segwb: error: {page}: not an OpenVINO IR: the .xml root element is <html>, not <net>"


def test_debug_shows_traceback(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """--debug prints the traceback, then still the one-line error and exit 2."""
    missing = tmp_path / "missing.xml"
    code, _, err = _run(capsys, "--debug", "tutorial", "semantic", "--model", str(missing), "--out", str(tmp_path / "o"))
    assert code == 2
    assert "Traceback (most recent call last)" in err and "ModelError" in err
    assert err.strip().splitlines()[-1].startswith("segwb: error: ")


def test_missing_dataset_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_xml: Path) -> None:
    """--dataset naming a folder that does not exist."""
    missing = tmp_path / "no-photos"
    code, _, err = _run(capsys, "tutorial", "semantic", "--model", str(tiny_xml), "--dataset", str(missing),
                        "--out", str(tmp_path / "out"))
    assert code == 2
    line = _error_line(err)
    assert str(missing) in line and "no such dataset folder" in line


def test_empty_dataset_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_xml: Path) -> None:
    """A folder without images."""
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no pictures here")
    code, _, err = _run(capsys, "quantize", "--model", str(tiny_xml), "--dataset", str(empty), "--out", str(tmp_path / "o"))
    assert code == 2 and str(empty) in _error_line(err) and "no readable images" in err


@pytest.mark.parametrize("spec, words", [("0", "positive count"), ("abc", "positive count"), ("150%", "(0, 100]")])
def test_bad_subset_size(capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_xml: Path,
                         photo_folder: Path, spec: str, words: str) -> None:
    """--subset-size must be a positive count or a percentage in (0, 100]."""
    code, _, err = _run(capsys, "quantize", "--model", str(tiny_xml), "--dataset", str(photo_folder),
                        "--subset-size", spec, "--out", str(tmp_path / "out"))
    assert code == 2
    line = _error_line(err)
    assert "subset size" in line and spec in line and words in line


@pytest.mark.parametrize("size", ["12", "axb", "12x"])
def test_bad_input_size_is_an_argparse_error(capsys: pytest.CaptureFixture[str], size: str) -> None:
    """--input-size must be HxW: argparse exits 2 with one line giving the reason."""
    with pytest.raises(SystemExit) as info:
        cli.main(["tutorial", "semantic", "--input-size", size])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("segwb: error: tutorial semantic: argument --input-size")
    assert "expected HxW" in err and repr(size) in err


def test_input_size_parses() -> None:
    """HxW (any case) becomes [height, width]."""
    args = cli.build_parser().parse_args(["quantize", "--input-size", "12X34"])
    assert args.input_size == [12, 34]


def test_no_command_is_an_argparse_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A subcommand is required."""
    with pytest.raises(SystemExit) as info:
        cli.main([])
    assert info.value.code == 2 and capsys.readouterr().err == \
        "segwb: error: the following arguments are required: command (see --help)\n"


def test_keyboard_interrupt_exits_130(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                      tmp_path: Path) -> None:
    """Ctrl-C during a run: exit 130 and a note that finished steps are kept."""
    from segwb.tutorial import run as tutorial_run

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(tutorial_run, "run", interrupted)
    code, _, err = _run(capsys, "quantize", "--model", "x.xml", "--out", str(tmp_path / "o"))
    assert code == 130 and "cancelled" in err and "Traceback" not in err


def _segwb_command() -> list[str]:
    script = Path(sys.executable).parent / "segwb"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "segwb"]


@pytest.mark.parametrize("case", ["model", "dataset"])
def test_subprocess_exit_code_and_single_line(tmp_path: Path, tiny_xml: Path, case: str) -> None:
    """The installed entry point really exits 2 with exactly one stderr line and no traceback."""
    missing = tmp_path / ("missing.xml" if case == "model" else "no-photos")
    args = ["--model", str(missing)] if case == "model" else ["--model", str(tiny_xml), "--dataset", str(missing)]
    proc = subprocess.run([*_segwb_command(), "tutorial", "semantic", *args, "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("segwb: error: ") and str(missing) in lines[0]
    assert "Traceback" not in proc.stderr and proc.stdout == ""
