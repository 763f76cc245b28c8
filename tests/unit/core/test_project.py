"""segwb.core.project: the step cache, and the paths a project records relative to its folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from segwb.core.errors import SegwbError
from segwb.core.project import Project
from segwb.core.storage import read_json


class Counter:
    """A compute function that counts its calls."""

    def __init__(self, result: dict | None = None) -> None:
        self.calls = 0
        self.result = result or {"value": 42}

    def __call__(self) -> dict:
        self.calls += 1
        return dict(self.result)


def test_cached_computes_once(tmp_path: Path) -> None:
    """First call computes (cached False); the same inputs again return the stored result without computing."""
    project = Project(tmp_path / "run")
    compute = Counter()
    first = project.cached("step", {"a": 1}, compute)
    assert first["value"] == 42 and first["cached"] is False
    second = project.cached("step", {"a": 1}, compute)
    assert second["value"] == 42 and second["cached"] is True
    assert second["key"] == first["key"]
    assert compute.calls == 1
    assert read_json(project.step_record("step"))["result"] == {"value": 42}


def test_cached_key_ignores_dict_order(tmp_path: Path) -> None:
    """Inputs are hashed with sorted keys: {a, b} and {b, a} are the same step."""
    project = Project(tmp_path)
    compute = Counter()
    project.cached("step", {"a": 1, "b": 2}, compute)
    assert project.cached("step", {"b": 2, "a": 1}, compute)["cached"] is True
    assert compute.calls == 1


def test_changed_inputs_recompute(tmp_path: Path) -> None:
    """Different inputs → a different key → compute runs again and its new result is stored."""
    project = Project(tmp_path)
    project.cached("step", {"a": 1}, Counter({"value": 1}))
    again = project.cached("step", {"a": 2}, Counter({"value": 2}))
    assert again == {"value": 2, "cached": False, "key": again["key"]}
    assert project.cached("step", {"a": 2}, Counter({"value": 99}))["value"] == 2


def test_deleted_output_recomputes(tmp_path: Path) -> None:
    """If a declared output file is gone, the step runs again even with identical inputs."""
    project = Project(tmp_path)
    out = tmp_path / "out.bin"

    def compute() -> dict:
        out.write_bytes(b"x")
        return {"n": 1}

    counted = Counter()
    assert project.cached("step", {"a": 1}, compute, (out,))["cached"] is False
    assert project.cached("step", {"a": 1}, counted, (out,))["cached"] is True
    out.unlink()
    assert project.cached("step", {"a": 1}, counted, (out,))["cached"] is False
    assert counted.calls == 1


def test_failed_compute_writes_no_record(tmp_path: Path) -> None:
    """compute raising → no step record, so the next run computes again (nothing half-done is reused)."""
    project = Project(tmp_path)

    def boom() -> dict:
        raise RuntimeError("cancelled")

    with pytest.raises(RuntimeError):
        project.cached("step", {"a": 1}, boom)
    assert not project.step_record("step").exists()
    compute = Counter()
    assert project.cached("step", {"a": 1}, compute)["cached"] is False and compute.calls == 1


def test_failed_recompute_keeps_no_stale_result(tmp_path: Path) -> None:
    """A step that succeeded for inputs A then fails for B is not answered from A's record for B."""
    project = Project(tmp_path)
    project.cached("step", {"a": 1}, Counter({"value": 1}))

    def boom() -> dict:
        raise RuntimeError("cancelled")

    with pytest.raises(RuntimeError):
        project.cached("step", {"a": 2}, boom)
    compute = Counter({"value": 2})
    assert project.cached("step", {"a": 2}, compute)["value"] == 2 and compute.calls == 1


def test_paths_inside_are_recorded_relative(tmp_path: Path) -> None:
    """Inside the project: relative POSIX paths; outside: absolute, as given."""
    project = Project(tmp_path / "p")
    assert project.relative(project.parent_xml) == "models/parent/model.xml"
    assert project.relative(tmp_path / "p" / "x" / ".." / "overlays" / "a.jpg") == "overlays/a.jpg"
    outside = tmp_path / "photos" / "a.jpg"
    assert project.relative(outside) == str(outside)
    assert project.relative("rel/x.jpg") == str(Path.cwd() / "rel" / "x.jpg")  # outside, given relative: made absolute
    assert project.model_xml("optimized") == project.optimized_xml


def test_the_dataset_copy_wins_over_the_recorded_folder(tmp_path: Path) -> None:
    """An archive imported with its dataset carries it in dataset/: readers look there first."""
    project = Project(tmp_path / "p")
    assert project.dataset_root(str(tmp_path / "photos")) == tmp_path / "photos"
    project.dataset_copy.mkdir()
    assert project.dataset_root(str(tmp_path / "photos")) == project.dataset_copy


def test_record_reads_a_step_result_or_none(tmp_path: Path) -> None:
    project = Project(tmp_path / "p")
    assert project.record("benchmark") is None
    project.cached("benchmark", {"a": 1}, lambda: {"fps": 3.0})
    assert project.record("benchmark") == {"fps": 3.0}
    project.step_record("benchmark").write_text("{not json")
    assert project.record("benchmark") is None  # a broken record is as good as none: the step runs again


def test_claim_removes_what_a_killed_run_left(tmp_path: Path) -> None:
    """A staging folder of save_ir and a temporary file of atomic_path are removed; results are kept."""
    project = Project(tmp_path / "run")
    staging = project.root / "models" / "parent" / ".save-abc123"
    staging.mkdir(parents=True)
    (staging / "model.xml").write_text("<net/>")
    tmp = project.predictions("parent") / ".a.png.x1y2z3w4.tmp"
    tmp.parent.mkdir(parents=True)
    tmp.write_bytes(b"")
    kept = project.predictions("parent") / "a.png"
    kept.write_bytes(b"png")
    project.claim()
    try:
        assert not staging.exists() and not tmp.exists() and kept.read_bytes() == b"png"
    finally:
        project.release()


def test_a_claimed_project_is_refused_to_a_second_run(tmp_path: Path) -> None:
    first, second = Project(tmp_path), Project(tmp_path)
    first.claim()
    try:
        with pytest.raises(SegwbError, match="another segwb run"):
            second.claim()
    finally:
        first.release()
    second.claim()  # free again
    second.release()


def test_a_relative_dataset_path_is_the_projects_never_the_working_folders(tmp_path: Path) -> None:
    project = Project(tmp_path / "run")
    assert project.dataset_root("(dataset not included in the archive)").parent == project.root
    assert project.dataset_root(str(tmp_path / "photos")) == tmp_path / "photos"


def test_links_out_of_the_run_folders_are_refused_others_are_left_alone(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    project = Project(tmp_path / "run")
    (project.root / "notes").symlink_to(elsewhere)  # not a folder segwb writes: the user's business
    (project.root / ".venv.tmp").write_text("not ours")  # outside the run folders: never swept
    project.claim()
    project.release()
    assert (project.root / ".venv.tmp").is_file()
    (project.root / "overlays").symlink_to(elsewhere)
    with pytest.raises(SegwbError, match="overlays is a symbolic link to outside the project"):
        project.claim()


def test_overlay_of_a_hostile_key_stays_inside(tmp_path: Path) -> None:
    with pytest.raises(SegwbError, match="outside"):
        Project(tmp_path / "run").overlay("../../victim")
