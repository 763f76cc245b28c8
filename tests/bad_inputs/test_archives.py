"""Project archives: ``segwb import`` of archives with climbing, absolute, linked or special members, altered or
truncated ones, foreign files and bombs; ``segwb export`` of a project whose report names /etc as its dataset, of a
folder that is no project, and to places it cannot write. A refused import leaves nothing behind."""

from __future__ import annotations

import copy
import gzip
import io
import json
import tarfile
import zipfile
from pathlib import Path

import hostile_inputs as hi
import pytest
from bad_inputs_conftest import Baseline, Scratch, assert_went_on, watching_reads


@pytest.fixture
def members(baseline_archive: Path) -> list:
    return hi.tar_members(baseline_archive)


def _top(members: list) -> str:
    return members[0][0].name.split("/")[0]


def _extra(name: str, kind: bytes = tarfile.REGTYPE, content: bytes | None = b"owned\n", link: str = "") -> tuple:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.mode = 0o644
    return info, (content if kind == tarfile.REGTYPE else None)


def _import(scratch: Scratch, archive: Path, *names, **kwargs):
    dest = scratch.root / "imported"
    result = scratch.refused(["import", str(archive), "--out", str(dest)], *names, allowed=[], early=True, **kwargs)
    assert not dest.exists(), "a refused import left its destination folder"
    return result


def _with(scratch: Scratch, members: list, extra: tuple, name: str = "evil.tar.gz") -> Path:
    return hi.write_tar(scratch.data / name, [*members, extra])


def test_member_climbing_out_is_refused(scratch: Scratch, members: list) -> None:
    archive = _with(scratch, members, _extra(f"{_top(members)}/../../victim/photo.jpg"))
    _import(scratch, archive, "evil.tar.gz")


def test_member_with_absolute_name_is_refused(scratch: Scratch, members: list) -> None:
    archive = _with(scratch, members, _extra(str(scratch.victim / "photo.jpg")))
    _import(scratch, archive, "evil.tar.gz")


def test_symlink_member_is_refused(scratch: Scratch, members: list) -> None:
    archive = _with(scratch, members, _extra(f"{_top(members)}/overlays/link.jpg", tarfile.SYMTYPE,
                                             link=str(scratch.victim / "photo.jpg")))
    _import(scratch, archive, "evil.tar.gz")


def test_hardlink_member_is_refused(scratch: Scratch, members: list) -> None:
    archive = _with(scratch, members, _extra(f"{_top(members)}/passwd", tarfile.LNKTYPE, link="/etc/passwd"))
    _import(scratch, archive, "evil.tar.gz")


@pytest.mark.parametrize("kind", [tarfile.FIFOTYPE, tarfile.CHRTYPE], ids=["fifo", "device"])
def test_special_member_is_refused(kind: bytes, scratch: Scratch, members: list) -> None:
    archive = _with(scratch, members, _extra(f"{_top(members)}/special", kind))
    _import(scratch, archive, "evil.tar.gz")


def test_second_top_folder_is_refused(scratch: Scratch, members: list) -> None:
    archive = _with(scratch, members, _extra("other/readme.txt"))
    _import(scratch, archive, "evil.tar.gz")


def test_altered_member_is_refused(scratch: Scratch, members: list) -> None:
    """The same size, one byte changed: the manifest's sha256 no longer matches."""
    changed = []
    for info, content in members:
        if content and info.name.endswith("models/parent/model.bin"):
            content = bytes([content[0] ^ 0xFF]) + content[1:]
        changed.append((copy.copy(info), content))
    _import(scratch, hi.write_tar(scratch.data / "altered.tar.gz", changed), "altered.tar.gz")


def test_member_header_claiming_3_gib_is_refused(scratch: Scratch, members: list) -> None:
    info = tarfile.TarInfo(f"{_top(members)}/models/parent/huge.bin")
    info.size = 3 << 30
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for m, content in members:
            tar.addfile(m, io.BytesIO(content) if content is not None else None)
        raw.write(info.tobuf())  # the header alone: the data is not there
    (scratch.data / "huge.tar.gz").write_bytes(gzip.compress(raw.getvalue()))
    _import(scratch, scratch.data / "huge.tar.gz", "huge.tar.gz")


def test_gzip_bomb_is_refused(scratch: Scratch, members: list) -> None:
    """A member of 100 MB of zeros that packs to 100 kB."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        info = tarfile.TarInfo(f"{_top(members)}/models/parent/model.bin")
        info.size = 100 << 20
        tar.addfile(info, io.BytesIO(bytes(info.size)))
    (scratch.data / "bomb.tar.gz").write_bytes(gzip.compress(raw.getvalue(), compresslevel=1))
    _import(scratch, scratch.data / "bomb.tar.gz", "bomb.tar.gz")


def test_zip_with_climbing_names_is_refused(scratch: Scratch) -> None:
    archive = scratch.data / "project.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("../../victim/photo.jpg", b"overwritten")
        z.writestr("project/report.json", b"{}")
    _import(scratch, archive, "project.zip")


def test_text_file_is_refused(scratch: Scratch) -> None:
    archive = scratch.data / "notes.tar.gz"
    archive.write_text("not an archive\n")
    _import(scratch, archive, "notes.tar.gz")


def test_truncated_archive_is_refused(scratch: Scratch, baseline_archive: Path) -> None:
    data = baseline_archive.read_bytes()
    (scratch.data / "cut.tar.gz").write_bytes(data[: len(data) * 6 // 10])
    _import(scratch, scratch.data / "cut.tar.gz", "cut.tar.gz")


def test_missing_archive_is_refused(scratch: Scratch) -> None:
    _import(scratch, scratch.data / "missing.tar.gz", "missing.tar.gz")


def test_import_into_a_non_empty_folder_is_refused(scratch: Scratch, baseline_archive: Path) -> None:
    scratch.refused(["import", str(baseline_archive), "--out", str(scratch.victim)], "victim", allowed=[],
                    early=True)


# --- export -------------------------------------------------------------------------------------------------------------

def _dataset_etc(project: Path) -> None:
    report_path = project / "report.json"
    report = json.loads(report_path.read_text())
    report["dataset"]["path"] = "/etc"
    report_path.write_text(json.dumps(report))


def test_export_with_dataset_does_not_walk_etc(scratch: Scratch, baseline: Baseline) -> None:
    """report.json says the dataset is /etc: exporting it with its dataset must refuse without listing /etc."""
    project = baseline.copy_project(scratch.project)
    _dataset_etc(project)
    with watching_reads("/etc/") as seen:
        result = scratch.refused(["export", "--project", str(project), "--with-dataset"], ("/etc", "report.json"),
                                 early=True)
    assert not seen, f"export read /etc: {seen[:5]} ({len(seen)} accesses); {result.describe()}"
    assert not any((project / "export").glob("*.tar.gz")), "a refused export left an archive"


def test_export_with_dataset_of_an_imported_etc_project(scratch: Scratch, baseline: Baseline) -> None:
    """The same report, exported (without its dataset), imported, then exported with its dataset."""
    project = baseline.copy_project(scratch.project)
    _dataset_etc(project)
    archives, imported = scratch.root / "archives", scratch.root / "imported"
    archives.mkdir()
    archive = archives / "first.tar.gz"
    assert_went_on(scratch.run(["export", "--project", str(project), "--out", str(archive)], allowed=[archives]))
    result = scratch.run(["import", str(archive), "--out", str(imported)], allowed=[imported])
    if result.code != 0:  # refusing such a report at import is fine too, on one line naming the archive
        from bad_inputs_conftest import assert_clean_failure

        assert_clean_failure(result.code, result.stderr, ["first.tar.gz"])
        return
    with watching_reads("/etc/") as seen:
        scratch.refused(["export", "--project", str(imported), "--with-dataset"], ("dataset", "report.json"),
                        allowed=[imported], early=True)
    assert not seen, f"export read /etc: {seen[:5]}"


def test_export_of_a_folder_that_is_no_project_is_refused(scratch: Scratch) -> None:
    scratch.refused(["export", "--project", str(scratch.victim)], "victim", allowed=[], early=True)


def test_export_to_a_pseudo_file_system_is_refused(scratch: Scratch, baseline: Baseline) -> None:
    project = baseline.copy_project(scratch.project)
    scratch.refused(["export", "--project", str(project), "--out", "/proc/segwb-export.tar.gz"],
                    "/proc/segwb-export.tar.gz", early=True)


def test_deploy_to_a_pseudo_file_system_is_refused(scratch: Scratch, baseline: Baseline) -> None:
    project = baseline.copy_project(scratch.project)
    scratch.refused(["deploy", "--project", str(project), "--out", "/proc/segwb-deploy.zip"],
                    "/proc/segwb-deploy.zip", early=True)
