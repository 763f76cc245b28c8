"""Leftovers of a crash in a good project — an IR staging folder (``.save-XXXX``, as save_ir makes it) and
unfinished atomic writes (``.<name>.XXXX.tmp``, as atomic_path makes them) — and damaged results: a re-run of the
same command removes the leftovers, never reads them as results, and gives the same report (timings apart)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from bad_inputs_conftest import (
    Baseline,
    Scratch,
    assert_clean_failure,
    assert_went_on,
    no_nan_json,
    without_timings,
)


def save_staging_parent(project: Path) -> list[Path]:
    staging = project / "models" / "parent" / ".save-k3j9x2qa"
    staging.mkdir()
    (staging / "model.xml").write_text("<net name='half-written'>")
    (staging / "model.bin").write_bytes(b"")
    return [staging]


def save_staging_optimized(project: Path) -> list[Path]:
    staging = project / "models" / "optimized" / ".save-8fh2l0zq"
    staging.mkdir()
    (staging / "model.bin").write_bytes(b"\x00" * 64)
    return [staging]


def prediction_tmp(project: Path) -> list[Path]:
    tmp = project / "predictions" / "parent" / ".p0.png.x7q2m9ab.tmp"
    tmp.write_bytes(b"")
    return [tmp]


def overlay_and_report_tmp(project: Path) -> list[Path]:
    made = [project / "overlays" / ".p1.jpg.0a9s8d7f.tmp", project / ".report.json.q1w2e3r4.tmp"]
    made[0].write_bytes(b"\xff\xd8\xff")
    made[1].write_text('{"task": "semantic", "comparison": {"mean_average_result": 1.0')
    return made


def step_record_tmp(project: Path) -> list[Path]:
    tmp = project / "steps" / ".quantize.json.zz99yy88.tmp"
    tmp.write_text('{"step": "quantize", "key": "forged"}')
    return [tmp]


LEFTOVERS: list[Callable[[Path], list[Path]]] = [save_staging_parent, save_staging_optimized, prediction_tmp,
                                                 overlay_and_report_tmp, step_record_tmp]


def _files(project: Path) -> dict[str, bytes]:
    return {p.relative_to(project).as_posix(): p.read_bytes() for p in sorted(project.rglob("*"))
            if p.is_file() and p.suffix in (".png", ".jpg", ".xml", ".bin")}


@pytest.mark.parametrize("make", LEFTOVERS, ids=[m.__name__ for m in LEFTOVERS])
def test_rerun_removes_crash_leftovers_and_ignores_them(make: Callable[[Path], list[Path]], scratch: Scratch,
                                                        baseline: Baseline) -> None:
    project = baseline.copy_project(scratch.project)
    results = _files(project)
    leftovers = make(project)
    result = scratch.run(baseline.argv(project))
    assert_went_on(result)
    left = [p.relative_to(project).as_posix() for p in leftovers if p.exists()]
    assert not left, f"crash leftovers still there after a re-run: {left}"
    assert _files(project) == results, "the re-run changed the saved models or pictures"
    assert without_timings(no_nan_json(project / "report.json")) == without_timings(baseline.report)


def truncated_step_record(project: Path) -> str:
    record = project / "steps" / "quantize.json"
    record.write_bytes(record.read_bytes()[:40])
    return "quantize.json"


def empty_prediction(project: Path) -> str:
    (project / "predictions" / "parent" / "p0.png").write_bytes(b"")
    return "p0.png"


def truncated_optimized_bin(project: Path) -> str:
    weights = project / "models" / "optimized" / "model.bin"
    weights.write_bytes(weights.read_bytes()[:10])
    return "model.bin"


DAMAGE: list[Callable[[Path], str]] = [truncated_step_record, empty_prediction, truncated_optimized_bin]


@pytest.mark.parametrize("make", DAMAGE, ids=[m.__name__ for m in DAMAGE])
def test_rerun_over_damaged_results_recomputes_or_refuses(make: Callable[[Path], str], scratch: Scratch,
                                                          baseline: Baseline) -> None:
    """A damaged result is either made again (the same report) or refused naming it — never read as it is."""
    project = baseline.copy_project(scratch.project)
    name = make(project)
    result = scratch.run(baseline.argv(project))
    if result.code == 0:
        assert_went_on(result)
        report = no_nan_json(project / "report.json")
        if name != "quantize.json":  # quantizing again may round differently; the other results must come back equal
            assert without_timings(report) == without_timings(baseline.report)
        assert (project / "predictions" / "parent" / "p0.png").stat().st_size > 0
    else:
        assert_clean_failure(result.code, result.stderr, [name])
