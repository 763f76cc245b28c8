"""Outputs that would land outside the project: project sub-folders and files that are symbolic links to the user's
own folder, and --out paths naming the user's existing files. The sentinel folder victim/ must stay byte-identical."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from bad_inputs_conftest import Baseline, Scratch, assert_clean_failure, assert_went_on


def _link_folder(project: Path, rel: str, target: Path) -> None:
    folder = project / rel
    shutil.rmtree(folder)
    folder.symlink_to(target, target_is_directory=True)


# (id, project folder replaced by a link to victim/, step records removed so that the step writes there again)
LINKED_FOLDERS = [
    ("overlays", "overlays", ["predict-parent", "predict-optimized", "compare"]),
    ("predictions_parent", "predictions/parent", ["predict-parent", "compare"]),
    ("models_optimized", "models/optimized", ["quantize", "benchmark", "predict-optimized", "compare"]),
    ("steps", "steps", []),
]


@pytest.mark.parametrize("rel,redo", [(r, d) for _, r, d in LINKED_FOLDERS], ids=[i for i, _, _ in LINKED_FOLDERS])
def test_project_folder_linked_outside_is_never_written_through(rel: str, redo: list[str], scratch: Scratch,
                                                                 baseline: Baseline) -> None:
    """Either the run replaces the link with a real folder and goes on, or it refuses naming the link."""
    project = baseline.copy_project(scratch.project)
    for step in redo:
        (project / "steps" / f"{step}.json").unlink()
    _link_folder(project, rel, scratch.victim)
    result = scratch.run(baseline.argv(project))
    if result.code == 0:
        assert_went_on(result)
    else:
        assert_clean_failure(result.code, result.stderr, [Path(rel).name])


@pytest.mark.parametrize("rel", ["report.json", "overlays/p0.jpg", "predictions/parent/p0.png"])
def test_project_file_linked_outside_is_replaced_not_written_through(rel: str, scratch: Scratch,
                                                                     baseline: Baseline) -> None:
    project = baseline.copy_project(scratch.project)
    for step in ("predict-parent", "predict-optimized", "compare"):
        (project / "steps" / f"{step}.json").unlink()
    target = scratch.victim / ("notes.txt" if rel.endswith(".json") else "photo.jpg")
    (project / rel).unlink()
    (project / rel).symlink_to(target)
    result = scratch.run(baseline.argv(project))
    if result.code == 0:
        assert_went_on(result)
    else:
        assert_clean_failure(result.code, result.stderr, [Path(rel).name])


@pytest.mark.parametrize("command", ["deploy", "export"])
def test_out_naming_a_users_file_is_not_overwritten(command: str, scratch: Scratch, baseline: Baseline) -> None:
    """``--out victim/photo.jpg``: an existing file that is not an archive segwb wrote is the user's; overwriting it
    would lose it (nothing is lost), so it is refused naming it."""
    project = baseline.copy_project(scratch.project)
    scratch.refused([command, "--project", str(project), "--out", str(scratch.victim / "photo.jpg")], "photo.jpg",
                    early=True)


@pytest.mark.parametrize("command", ["deploy", "export"])
def test_out_below_a_file_is_refused(command: str, scratch: Scratch, baseline: Baseline) -> None:
    project = baseline.copy_project(scratch.project)
    scratch.refused([command, "--project", str(project), "--out", str(scratch.victim / "notes.txt" / "x.zip")],
                    "notes.txt", early=True)
