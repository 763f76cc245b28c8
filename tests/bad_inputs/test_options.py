"""Command-line options out of range or of the wrong type, refused at once (before any import or quantization), and
--out / --dataset folders that cannot or must not hold a project."""

from __future__ import annotations

import os
from pathlib import Path

import hostile_inputs as hi
import pytest
from bad_inputs_conftest import Scratch, semantic_argv

AA = ["--method", "accuracy-aware"]
# (id, extra flags, what the error line must name: any of the alternatives)
OPTION_CASES = [
    ("bench_seconds_0", ["--bench-seconds", "0"], ("--bench-seconds",)),
    ("bench_seconds_-1", ["--bench-seconds", "-1"], ("--bench-seconds",)),
    ("bench_seconds_nan", ["--bench-seconds", "nan"], ("--bench-seconds",)),
    ("bench_seconds_inf", ["--bench-seconds", "inf"], ("--bench-seconds",)),
    ("bench_seconds_abc", ["--bench-seconds", "abc"], ("--bench-seconds",)),
    ("subset_size_0", ["--subset-size", "0"], ("--subset-size", "subset size")),
    ("subset_size_-5", ["--subset-size", "-5"], ("--subset-size", "subset size")),
    ("subset_size_0%", ["--subset-size", "0%"], ("--subset-size", "subset size")),
    ("subset_size_150%", ["--subset-size", "150%"], ("--subset-size", "subset size")),
    ("subset_size_abc", ["--subset-size", "abc"], ("--subset-size", "subset size")),
    ("max_drop_50", [*AA, "--max-drop", "50"], ("--max-drop", "max accuracy drop")),
    ("max_drop_-1", [*AA, "--max-drop", "-1"], ("--max-drop", "max accuracy drop")),
    ("max_drop_nan", [*AA, "--max-drop", "nan"], ("--max-drop", "max accuracy drop")),
    ("max_iterations_-1", [*AA, "--max-iterations", "-1"], ("--max-iterations", "max iterations")),
    ("max_megapixels_-1", ["--max-megapixels", "-1"], ("--max-megapixels",)),
    ("max_megapixels_nan", ["--max-megapixels", "nan"], ("--max-megapixels",)),
    ("max_megapixels_abc", ["--max-megapixels", "abc"], ("--max-megapixels",)),
    ("min_score_nan", ["--min-score", "nan"], ("--min-score",)),
    ("min_score_2", ["--min-score", "2"], ("--min-score",)),
    ("max_detections_0", ["--max-detections", "0"], ("--max-detections",)),
    ("threshold_2", ["--threshold", "2"], ("--threshold", "threshold")),
    ("threshold_nan", ["--threshold", "nan"], ("--threshold", "threshold")),
    ("nms_iou_-1", ["--nms-iou", "-1"], ("--nms-iou", "nms_iou")),
    ("pad_value_inf", ["--pad-value", "inf"], ("--pad-value", "pad_value")),
    ("input_size_0x10", ["--input-size", "0x10"], ("--input-size", "input_size")),
    ("input_size_abc", ["--input-size", "axb"], ("--input-size",)),
    ("scale_0", ["--scale", "0"], ("--scale", "scale")),
    ("scale_nan", ["--scale", "nan"], ("--scale", "scale")),
    ("mean_two_values", ["--mean", "1,2"], ("--mean", "mean")),
    ("preset_unknown", ["--preset", "turbo"], ("--preset",)),
    ("method_unknown", ["--method", "magic"], ("--method",)),
    ("device_absent", ["--device", "NOPE"], ("--device NOPE: not on this machine",)),
    ("device_escape", ["--device", "CPU\x1b[2J"], ("--device must name an OpenVINO device",)),
    ("device_empty_list", ["--device", "HETERO:"], ("lists no devices",)),
]


@pytest.mark.parametrize("extra,names", [(e, n) for _, e, n in OPTION_CASES], ids=[c for c, _, _ in OPTION_CASES])
def test_bad_option_is_refused_at_once(extra: list[str], names: tuple[str, ...], scratch: Scratch,
                                       semantic_model: Path, photos: Path) -> None:
    scratch.refused(semantic_argv(scratch.project, semantic_model, photos, *extra), names, early=True, timeout=20)


def test_ignored_node_that_does_not_exist_is_refused(scratch: Scratch, semantic_model: Path, photos: Path) -> None:
    scratch.refused(semantic_argv(scratch.project, semantic_model, photos, "--ignore", "no_such_node"), "no_such_node",
                    early=True)


# --- where the project would go ---------------------------------------------------------------------------------------

def test_out_naming_an_existing_file_is_refused(scratch: Scratch, semantic_model: Path, photos: Path) -> None:
    existing = scratch.root / "thesis.pdf"
    existing.write_bytes(b"%PDF-1.4 the user's thesis")
    scratch.refused(semantic_argv(existing, semantic_model, photos), "thesis.pdf", allowed=[], early=True)


def test_out_below_a_file_is_refused(scratch: Scratch, semantic_model: Path, photos: Path) -> None:
    out = scratch.victim / "notes.txt" / "project"
    scratch.refused(semantic_argv(out, semantic_model, photos), "notes.txt", allowed=[], early=True)


def test_out_inside_the_dataset_is_refused(scratch: Scratch, semantic_model: Path, photos: Path) -> None:
    """A project inside its dataset would add its overlays to the dataset of the next run."""
    scratch.refused(semantic_argv(photos / "project", semantic_model, photos), ("photos", "project"), allowed=[],
                    early=True)


def test_out_equal_to_the_dataset_is_refused(scratch: Scratch, semantic_model: Path, photos: Path) -> None:
    scratch.refused(semantic_argv(photos, semantic_model, photos), "photos", allowed=[], early=True)


def test_dataset_inside_out_is_refused(scratch: Scratch, semantic_model: Path) -> None:
    """Photos kept inside the project folder: a re-run or an export would treat the project's files as the dataset's."""
    dataset = hi.write_photos(scratch.project / "photos", 2)
    scratch.refused(semantic_argv(scratch.project, semantic_model, dataset), ("photos", "project"), allowed=[],
                    early=True)


def test_out_inside_the_model_folder_is_refused_or_leaves_the_model_alone(scratch: Scratch, semantic_model: Path,
                                                                         photos: Path) -> None:
    """A project inside the model's folder must never overwrite the model's own files (snapshot: model/ outside
    the project is unchanged)."""
    out = semantic_model.parent / "project"
    result = scratch.run(semantic_argv(out, semantic_model, photos), allowed=[out])
    assert result.code in (0, 2), result.describe()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_out_in_a_read_only_folder_is_refused(scratch: Scratch, semantic_model: Path, photos: Path) -> None:
    locked = scratch.root / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        scratch.refused(semantic_argv(locked / "project", semantic_model, photos), "locked", allowed=[], early=True)
    finally:
        locked.chmod(0o755)


def test_out_on_a_pseudo_file_system_is_refused(scratch: Scratch, semantic_model: Path, photos: Path) -> None:
    scratch.refused(semantic_argv(Path("/proc/segwb-project"), semantic_model, photos), "/proc/segwb-project",
                    allowed=[], early=True)
    assert not Path("/proc/segwb-project").exists()
