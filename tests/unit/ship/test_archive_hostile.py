"""Hostile project archives and export destinations (segwb.ship.archive_*): every archive here is built in code from
one tiny valid export, with the manifest made to match, so the one thing wrong is the thing tested. Each refusal is
one line naming the archive, the member and the field; nothing outside the test's folder changes, no staging folder
is left, and an existing project at the destination stays byte-identical."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tutorial_runs import coco_root, instance_tutorial, tiny_yolo

from segwb.core.errors import SegwbError
from segwb.core.storage import file_digest, read_json
from segwb.ship import archive_export, archive_import
from segwb.ship.archive_export import export_project
from segwb.ship.archive_format import MANIFEST, NOT_INCLUDED
from segwb.ship.archive_import import import_project

TOP = "project"


@dataclasses.dataclass(frozen=True)
class Origin:
    """A finished instance run on a tiny COCO dataset, and its exports without and with the dataset."""

    project: Path
    coco: Path
    plain: Path
    full: Path


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Origin:
    base = tmp_path_factory.mktemp("origin")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEGWB_CACHE", str(base / "cache"))
        coco = coco_root(base)
        instance_tutorial(tiny_yolo(base), coco, base / TOP)
    return Origin(base / TOP, coco, export_project(base / TOP, base / "plain.tar.gz"),
                  export_project(base / TOP, base / "full.tar.gz", include_dataset=True))


# --- building archives ------------------------------------------------------------------------------

Member = tuple[tarfile.TarInfo, bytes]


def _members(archive: Path) -> list[Member]:
    with tarfile.open(archive) as tar:
        return [(info, tar.extractfile(info).read() if info.isfile() else b"")  # type: ignore[union-attr]
                for info in tar.getmembers()]


def _file(name: str, data: bytes = b"x", kind: bytes = tarfile.REGTYPE, link: str = "") -> Member:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, link, len(data) if kind == tarfile.REGTYPE else 0
    return info, data


def _write(path: Path, members: list[Member], fmt: int = tarfile.PAX_FORMAT) -> Path:
    with tarfile.open(path, "w:gz", format=fmt) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return path


Edit = Callable[[bytes], "bytes | None"]


def _rebuilt(good: Path, out: Path, edits: dict[str, Edit] | None = None, extra: list[tuple[str, bytes]] = (),
             manifest: Callable[[dict], None] | None = None) -> Path:
    """``good`` with ``edits`` (relative name -> new content, None drops it) and ``extra`` files applied, and its
    manifest listing exactly the result (``manifest`` may change it further)."""
    edits = edits or {}
    files: list[tuple[str, bytes]] = []
    listing: dict = {}
    for info, data in _members(good):
        rel = info.name.removeprefix(f"{TOP}/")
        if rel == MANIFEST:
            listing = json.loads(data)
            continue
        changed = edits[rel](data) if rel in edits else data
        if changed is not None:
            files.append((rel, changed))
    files += list(extra)
    listing["files"] = [{"path": rel, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                        for rel, data in files]
    if manifest is not None:
        manifest(listing)
    return _write(out, [_file(f"{TOP}/{rel}", data) for rel, data in files]
                  + [_file(f"{TOP}/{MANIFEST}", json.dumps(listing).encode())])


def _json(change: Callable[[Any], Any]) -> Edit:
    """An edit of a JSON member: ``change`` mutates the value (or returns a replacement)."""
    def edit(data: bytes) -> bytes:
        value = json.loads(data)
        replaced = change(value)
        return json.dumps(value if replaced is None else replaced).encode()
    return edit


def _set(path: str, new: Any) -> Edit:
    """Set ``a.b[0].c`` (dots and [i]) of a JSON member to ``new``."""
    keys = [int(k) if k.isdigit() else k for k in re.findall(r"[^.\[\]]+", path)]

    def change(value: Any) -> None:
        for key in keys[:-1]:
            value = value[key]
        value[keys[-1]] = new
    return _json(change)


# --- the test's world: a workspace with an existing project, and everything around it -------------------

def _snapshot(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): (file_digest(p) if p.is_file() else "folder")
            for p in sorted(root.rglob("*"))}


@dataclasses.dataclass
class World:
    tmp: Path
    work: Path
    existing: Path
    existing_files: dict[str, str]
    around: list[str]  # what is beside the test's folder

    def unchanged(self) -> None:
        assert _snapshot(self.existing) == self.existing_files
        assert sorted(p.name for p in self.tmp.parent.iterdir()) == self.around


@pytest.fixture
def world(origin: Origin, tmp_path: Path) -> Iterator[World]:
    work = tmp_path / "work"
    existing = import_project(origin.plain, work / "existing")
    state = World(tmp_path, work, existing, _snapshot(existing), sorted(p.name for p in tmp_path.parent.iterdir()))
    yield state
    state.unchanged()


def _refused(world: World, archive: Path, *fragments: str, **limits: int) -> str:
    """Importing ``archive`` is refused in one line naming it and ``fragments``; nothing is left behind, and the
    existing project is refused as a destination and unchanged."""
    dest, present = world.work / "new", sorted(p.name for p in world.work.iterdir())
    with pytest.raises(SegwbError) as caught:
        import_project(archive, dest, **limits)
    message = str(caught.value)
    assert message.startswith(f"{archive}: ") and "\n" not in message, message
    for fragment in fragments:
        assert fragment in message, message
    assert sorted(p.name for p in world.work.iterdir()) == present  # no destination, no staging folder
    with pytest.raises(SegwbError, match="already exists and is not empty"):
        import_project(archive, world.existing, **limits)
    world.unchanged()
    return message


# --- members ----------------------------------------------------------------------------------------------

ABSOLUTE = f"/tmp/segwb-hostile-{uuid.uuid4().hex}.txt"

MEMBER_CASES: dict[str, tuple[list[Member], str]] = {
    "absolute": ([_file(ABSOLUTE)], f"member '{ABSOLUTE}' has an absolute path"),
    "climbing into a sibling": ([_file(f"{TOP}/../existing/report.json", b"{}")], "has a '..' component"),
    "climbing first": ([_file("../existing/report.json", b"{}")], "member '../existing/report.json' has a '..'"),
    "symbolic link": ([_file(f"{TOP}/overlays/x.jpg", kind=tarfile.SYMTYPE, link="../../existing/report.json")],
                      "is a symbolic link to '../../existing/report.json'"),
    "hard link": ([_file(f"{TOP}/h", kind=tarfile.LNKTYPE, link=f"{TOP}/report.json")], "is a hard link"),
    "device": ([_file(f"{TOP}/dev", kind=tarfile.BLKTYPE)], "member 'project/dev' is a device"),
    "fifo": ([_file(f"{TOP}/pipe", kind=tarfile.FIFOTYPE)], "member 'project/pipe' is a FIFO"),
    "duplicate": ([_file(f"{TOP}/report.json", b'{"task": "x"}')], "member 'project/report.json' appears twice"),
    "duplicate once normalized": ([_file(f"{TOP}/caf\u00e9.txt"), _file(f"{TOP}/cafe\u0301.txt")], "appears twice"),
    "terminal escape": ([_file(f"{TOP}/a\x1b[31m.txt")], "has an unsafe name (has control characters)"),
    "newline": ([_file(f"{TOP}/a\nb.txt")], "member 'project/a\\nb.txt' has an unsafe name"),
    "bidi override": ([_file(f"{TOP}/gpj.\u202eexe")], "has control characters"),
    "file and folder": ([_file(f"{TOP}/report.json/x")], "member 'project/report.json/x' is both a file and a folder"),
    "backslash": ([_file(f"{TOP}/..\\..\\x")], "has a backslash"),
    "windows drive": ([_file("C:/x")], "member 'C:/x' has an absolute path"),
}


@pytest.mark.parametrize("case", list(MEMBER_CASES))
def test_unsafe_members_are_refused(case: str, origin: Origin, world: World) -> None:
    hostile, fragment = MEMBER_CASES[case]
    archive = _write(world.tmp / "bad.tar.gz", _members(origin.plain) + hostile)
    _refused(world, archive, fragment)
    assert not Path(ABSOLUTE).exists()


def test_gzip_bomb_is_refused_from_the_headers(world: World, origin: Origin) -> None:
    """130 MiB of zeros pack into some 130 KiB: over 200 times the archive, refused before it is unpacked."""
    info = tarfile.TarInfo(f"{TOP}/zeros.bin")
    info.size = 130 << 20
    with tarfile.open(world.tmp / "bomb.tar.gz", "w:gz") as tar:
        for member, data in _members(origin.plain):
            tar.addfile(member, io.BytesIO(data))
        tar.addfile(info, io.BytesIO(bytes(info.size)))
    _refused(world, world.tmp / "bomb.tar.gz", "members up to 'project/zeros.bin' unpack to", "over 200 times the "
             "archive's", "refusing a possible gzip bomb")


def test_too_many_or_too_large_members(world: World, origin: Origin) -> None:
    _refused(world, origin.plain, "more than 5 members", max_members=5)
    _refused(world, origin.plain, "over the limit of 100", max_member_bytes=100)
    _refused(world, origin.plain, "over the limit of 5000", max_total_bytes=5000)


def test_a_huge_header_is_not_read_into_memory(world: World, origin: Origin, monkeypatch: pytest.MonkeyPatch) -> None:
    """tarfile reads a long name whole: a header claiming more than one read may hold is refused (the limit is
    lowered here; a 5000-character name stands for gigabytes)."""
    monkeypatch.setattr(archive_import, "MAX_READ", 4096)
    archive = _write(world.tmp / "long.tar.gz", _members(origin.plain) + [_file(f"{TOP}/{'n' * 5000}")],
                     fmt=tarfile.GNU_FORMAT)
    _refused(world, archive, "a header or member needs a read of 5120 bytes, over the limit of 4096")


def test_truncated_or_foreign_archives(world: World, origin: Origin) -> None:
    data = origin.plain.read_bytes()
    (world.tmp / "half.tar.gz").write_bytes(data[: len(data) // 2])
    _refused(world, world.tmp / "half.tar.gz", "not a readable .tar.gz archive")
    (world.tmp / "zip.tar.gz").write_bytes(b"PK\x03\x04" + bytes(100))
    _refused(world, world.tmp / "zip.tar.gz", "not a readable .tar.gz archive")


def test_manifest_that_lies_about_the_dataset(world: World, origin: Origin) -> None:
    archive = _rebuilt(origin.plain, world.tmp / "lie.tar.gz", manifest=lambda m: m["dataset"].update(included=True))
    _refused(world, archive, "member 'project/archive.json': dataset.included is true, but the archive holds no "
                             "project/dataset/")
    archive = _rebuilt(origin.plain, world.tmp / "dup.tar.gz", manifest=lambda m: m["files"].append(m["files"][0]))
    _refused(world, archive, "is not a valid manifest (a file is listed twice)")
    archive = _rebuilt(origin.plain, world.tmp / "nomodel.tar.gz", {"models/parent/model.xml": lambda d: None})
    _refused(world, archive, "no project/models/parent/model.xml: not a segwb project archive")


# --- records: paths that would point outside the project, and values of the wrong type -------------------

R, IMAGES, COMPARE = "report.json", "predictions/images.json", "steps/compare.json"
NAN = "NaN"

RECORD_CASES: dict[str, tuple[dict[str, Edit], str]] = {
    "model path absolute": ({R: _set("parent.path", "/etc/passwd")},
                            "member 'project/report.json': parent.path '/etc/passwd' is an absolute path; refused"),
    "model path climbing": ({R: _set("optimized.path", "../../existing/models/optimized/model.xml")},
                            "optimized.path '../../existing/models/optimized/model.xml' climbs out with '..'"),
    "model path on a drive": ({R: _set("parent.path", "C:\\models\\x.xml")},
                              "parent.path 'C:\\\\models\\\\x.xml' is an absolute path"),
    "overlay absolute": ({R: _set("comparison.basic.0.overlay", "/etc/passwd")},
                         "comparison.basic[0].overlay '/etc/passwd' is an absolute path"),
    "overlay climbing": ({R: _set("comparison.basic.1.overlay", "overlays/../../existing/overlays/a.jpg")},
                         "comparison.basic[1].overlay 'overlays/../../existing/overlays/a.jpg' climbs out with '..'"),
    "overlay as a script": ({R: _set("comparison.basic.0.overlay", "javascript:alert(1)")},
                            "comparison.basic[0].overlay 'javascript:alert(1)' is not in overlays/"),
    "overlay with an escape": ({R: _set("comparison.basic.0.overlay", "overlays/\x1b[2Ja.jpg")},
                               "comparison.basic[0].overlay 'overlays/\\x1b[2Ja.jpg' has control characters"),
    "predictions file climbing": ({R: _set("predictions.parent", "../existing/predictions/parent.json")},
                                  "predictions.parent '../existing/predictions/parent.json' climbs out"),
    "image key climbing": ({IMAGES: _set("0.key", "../../../existing/overlays/a")},
                           "member 'project/predictions/images.json': [0].key '../../../existing/overlays/a' climbs"),
    "image file absolute": ({IMAGES: _set("1.file", "/etc/passwd")}, "[1].file '/etc/passwd' is an absolute path"),
    "image file climbing": ({IMAGES: _set("2.file", "../../etc/passwd")}, "[2].file '../../etc/passwd' climbs out"),
    "step record overlay": ({COMPARE: _set("result.comparison.basic.0.overlay", "/etc/passwd")},
                            ("member 'project/steps/compare.json': result.comparison.basic[0].overlay '/etc/passwd' "
                             "is an absolute path")),
    "markup for a number": ({R: _set("performance.parent.fps", "<script>alert(1)</script>")},
                            "member 'project/report.json': performance.parent.fps is text, not a number"),
    "text for a count": ({R: _set("dataset.images", "3")}, "dataset.images is text, not an integer"),
    "true for a number": ({R: _set("performance.speedup", True)}, "performance.speedup is true or false, not a number"),
    "unknown task": ({R: _set("task", "<b>instance</b>")}, "task '<b>instance</b>' is not one segwb knows"),
    "unknown layout": ({R: _set("dataset.layout", "<img src=x>")}, "dataset.layout '<img src=x>' is not one of"),
    "row value": ({R: _set("comparison.basic.0.agreement", "high")}, "comparison.basic[0].agreement is text, not a number"),
    "row name": ({R: _set("comparison.advanced.0.image", ["a.jpg"])}, "comparison.advanced[0].image is a list, not text"),
    "rows not a list": ({R: _set("comparison.basic", {"a": 1})}, "comparison.basic is an object, not a list of rows"),
    "labels": ({R: _set("parent.card.labels", [1, 2])}, "parent.card.labels is not a list of text"),
    "report a list": ({R: _json(lambda r: [r])}, "member 'project/report.json': the record is a list, not an object"),
    "report NaN": ({R: lambda d: d.replace(b'"speedup": ', b'"speedup": NaN, "was": ')},
                   "not readable JSON (NaN is not a number JSON allows)"),
    "report key twice": ({R: lambda d: b'{"task": "semantic", ' + d[1:]}, "not readable JSON (key 'task' appears twice)"),
    "report not UTF-8": ({R: lambda d: d.replace(b'"task"', b'"t\xffask"')}, "not readable JSON"),
    "report without performance": ({R: _json(lambda r: r.pop("performance") and None)},
                                   "not a report segwb can show (KeyError: 'performance')"),
    "step result a list": ({"steps/benchmark.json": _set("result", [])},
                           "member 'project/steps/benchmark.json': result is a list, not an object"),
    "step field type": ({"steps/quantize.json": _set("result.subset_size", "all")},
                        "result.subset_size is text, not an integer"),
    "step record a string": ({"steps/import.json": _json(lambda r: "x")}, "it is text, not an object"),
    "image size": ({IMAGES: _set("0.height", "48")}, "[0].height is text, not an integer"),
    "image table an object": ({IMAGES: _json(lambda t: {"images": t})}, "it is an object, not a list of images"),
    "detection score": ({"predictions/parent.json": _set("0.score", "high")},
                        "member 'project/predictions/parent.json': [0].score is text, not a number"),
    "detection of no image": ({"predictions/optimized.json": _set("0.image_id", 999)},
                              "[0].image_id 999 is not an image of predictions/images.json"),
    "detection mask": ({"predictions/parent.json": _set("0.segmentation.size", [48])}, "[0].segmentation is not a mask"),
    "description with escapes": ({"description.txt": lambda d: d + b"\x1b]0;owned\x07\x1b[2J"},
                                 "member 'project/description.txt': holds control characters"),
    "page without report": ({R: lambda d: None}, "member 'project/report.html': a report page without report.json"),
    "embedded with a path": ({R: _json(lambda r: r["dataset"].update(layout="embedded", path="/etc"))},
                             "dataset.path '/etc' is not 'embedded'"),
}


@pytest.mark.parametrize("case", list(RECORD_CASES))
def test_records_pointing_outside_or_of_the_wrong_type_are_refused(case: str, origin: Origin, world: World) -> None:
    edits, fragment = RECORD_CASES[case]
    _refused(world, _rebuilt(origin.plain, world.tmp / "bad.tar.gz", edits), fragment)


def test_the_dataset_copy_must_hold_the_images(origin: Origin, world: World) -> None:
    """With the dataset: an image's file is inside the copy, not beside it."""
    archive = _rebuilt(origin.full, world.tmp / "bad.tar.gz", {IMAGES: _set("0.file", "../report.json")})
    _refused(world, archive, "[0].file '../report.json' climbs out with '..'")


def _no_walk(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Record every folder export opens as a dataset."""
    opened: list[Path] = []
    real = archive_export.open_dataset

    def spy(source: Any, split: Any = None) -> Any:
        opened.append(Path(source))
        return real(source, split)
    monkeypatch.setattr(archive_export, "open_dataset", spy)
    return opened


def test_an_edited_dataset_path_is_never_kept(origin: Origin, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the dataset, ``/etc`` becomes the marker: the project opens, exports, and refuses to export a dataset
    in one line without walking anything; with the dataset, the path becomes the copy, which is all export reads."""
    opened = _no_walk(monkeypatch)
    archive = _rebuilt(origin.plain, world.tmp / "etc.tar.gz", {R: _set("dataset.path", "/etc")})
    dest = import_project(archive, world.work / "plain")
    report = read_json(dest / "report.json")
    assert report["dataset"]["path"] == NOT_INCLUDED
    assert "/etc" not in (dest / "report.html").read_text()
    again = export_project(dest, world.tmp / "again.tar.gz")
    assert read_json(import_project(again, world.work / "again") / "report.json")["dataset"]["path"] == NOT_INCLUDED
    with pytest.raises(SegwbError) as caught:
        export_project(dest, world.tmp / "with.tar.gz", include_dataset=True)
    assert str(caught.value).startswith(f"{dest / 'report.json'}: the project was imported from an archive without "
                                        "its dataset") and "\n" not in str(caught.value)
    assert opened == [] and not (world.tmp / "with.tar.gz").exists()

    archive = _rebuilt(origin.full, world.tmp / "etc-full.tar.gz", {R: _set("dataset.path", "/etc")})
    dest = import_project(archive, world.work / "full")
    assert read_json(dest / "report.json")["dataset"]["path"] == "dataset"
    exported = export_project(dest, world.tmp / "full-again.tar.gz", include_dataset=True)
    assert opened == [dest / "dataset"]
    with tarfile.open(exported) as tar:
        assert any(n.endswith("/dataset/images/a.jpg") for n in tar.getnames())


def test_the_archived_page_is_replaced(origin: Origin, world: World) -> None:
    """report.html is made again from the checked report: the archive's own page is not kept."""
    archive = _rebuilt(origin.plain, world.tmp / "page.tar.gz",
                       {"report.html": lambda d: b"<script>fetch('file:///etc/passwd')</script>"})
    dest = import_project(archive, world.work / "paged")
    page = (dest / "report.html").read_text()
    assert "file:///etc/passwd" not in page and "a.jpg" in page


def test_embedded_photos_are_found_by_name(origin: Origin, world: World) -> None:
    """The embedded photos' table records full paths of the exporting machine: they become the photos' names."""
    names = ["astronaut.png", "camera.png", "coffee.png"]

    def table(images: list) -> None:
        for image, name in zip(images, names):
            image.update(name=name, file=f"/home/someone/site-packages/skimage/data/{name}")
    archive = _rebuilt(origin.plain, world.tmp / "embedded.tar.gz",
                       {R: _json(lambda r: r["dataset"].update(layout="embedded", path="embedded")), IMAGES: _json(table)})
    dest = import_project(archive, world.work / "embedded")
    assert [(i["name"], i["file"]) for i in read_json(dest / IMAGES)] == list(zip(names, names))
    archive = _rebuilt(origin.plain, world.tmp / "embedded-bad.tar.gz",
                       {R: _json(lambda r: r["dataset"].update(layout="embedded", path="embedded"))})
    _refused(world, archive, "[0].name 'a.jpg' is not one of the embedded photos")


# --- destinations ------------------------------------------------------------------------------------------

def test_import_destinations_that_are_not_new_folders(origin: Origin, world: World) -> None:
    target = world.tmp / "target"
    target.mkdir()
    link = world.work / "link"
    link.symlink_to(target, target_is_directory=True)
    with pytest.raises(SegwbError, match=f"^{re.escape(str(link))}: is a symbolic link: import into a new folder"):
        import_project(origin.plain, link)
    assert list(target.iterdir()) == []
    file = world.work / "file"
    file.write_text("mine")
    with pytest.raises(SegwbError, match="already exists and is not empty"):
        import_project(origin.plain, file)
    assert file.read_text() == "mine"
    link.unlink()
    file.unlink()


def _project_copy(origin: Origin, tmp: Path) -> tuple[Path, Path]:
    """The origin project and its dataset copied under ``tmp``, report.json naming the copy."""
    project, coco = Path(shutil.copytree(origin.project, tmp / "mine")), Path(shutil.copytree(origin.coco, tmp / "coco"))
    report = read_json(project / R)
    report["dataset"]["path"] = str(coco)
    (project / R).write_text(json.dumps(report))
    return project, coco


def _export_refused(call: Callable[[], Any], named: Path, fragment: str) -> None:
    with pytest.raises(SegwbError) as caught:
        call()
    message = str(caught.value)
    assert message.startswith(f"{named}: ") and fragment in message and "\n" not in message, message


def test_export_destinations(origin: Origin, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    project, _ = _project_copy(origin, world.tmp)
    report = (project / R).read_bytes()
    folder = world.tmp / "folder"
    folder.mkdir()
    _export_refused(lambda: export_project(project, folder), folder, "is a folder: give the archive's file name")
    missing = world.tmp / "no" / "such" / "x.tar.gz"
    _export_refused(lambda: export_project(project, missing), missing, "no such folder")
    assert not (world.tmp / "no").exists()
    _export_refused(lambda: export_project(project, project / R), project / R, "is inside the project")
    assert (project / R).read_bytes() == report
    _export_refused(lambda: export_project(project, project / "overlays" / "x.tar.gz"), project / "overlays" / "x.tar.gz",
                    "is inside the project")
    mine = world.tmp / "notes.tar.gz"
    mine.write_bytes(b"my notes, not an archive")
    _export_refused(lambda: export_project(project, mine), mine, "already exists and is not a project archive")
    assert mine.read_bytes() == b"my notes, not an archive"
    earlier = export_project(project, world.tmp / "earlier.tar.gz")
    assert export_project(project, earlier) == earlier  # an earlier export is replaced
    below = world.tmp / "notes.txt"
    below.write_text("mine")
    _export_refused(lambda: export_project(project, below / "x.tar.gz"), below / "x.tar.gz", "no such folder")

    locked = world.tmp / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root writes anyway: the file system refuses instead
            def refuse(*args: Any, **kwargs: Any) -> Any:
                raise PermissionError(13, "Permission denied", str(locked / ".x.tar.gz.tmp"))
            monkeypatch.setattr(archive_export.tarfile, "open", refuse)
        _export_refused(lambda: export_project(project, locked / "x.tar.gz"), locked / "x.tar.gz",
                        "cannot write the archive here (")
    finally:
        locked.chmod(0o700)
    assert list(locked.iterdir()) == []


def test_export_reads_nothing_outside_the_dataset(origin: Origin, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    opened = _no_walk(monkeypatch)
    project, coco = _project_copy(origin, world.tmp)
    secret = world.tmp / "secret.jpg"
    secret.write_bytes(b"not yours")
    (coco / "images" / "d.jpg").symlink_to(secret)
    _export_refused(lambda: export_project(project, world.tmp / "a.tar.gz", include_dataset=True), coco / "images" / "d.jpg",
                    "is a symbolic link out of the dataset folder")
    (coco / "images" / "d.jpg").unlink()

    (project / "dataset").symlink_to(coco, target_is_directory=True)
    _export_refused(lambda: export_project(project, world.tmp / "a.tar.gz", include_dataset=True), project / "dataset",
                    "is a symbolic link: a project's dataset copy must be its own folder")
    (project / "dataset").unlink()

    def recorded(path: str) -> None:
        report = read_json(project / R)
        report["dataset"]["path"] = path
        (project / R).write_text(json.dumps(report))

    recorded(str(world.tmp))
    _export_refused(lambda: export_project(project, world.tmp / "a.tar.gz", include_dataset=True), world.tmp,
                    "the dataset folder and the project")
    elsewhere = world.tmp / "etc"
    (elsewhere / "images").mkdir(parents=True)
    (elsewhere / "passwd").write_text("root:x:0:0")
    recorded(str(elsewhere))
    _export_refused(lambda: export_project(project, world.tmp / "a.tar.gz", include_dataset=True), elsewhere,
                    "does not hold the report's image 'images/a.jpg'")
    recorded(str(coco))
    _export_refused(lambda: export_project(project, world.tmp / "a.tar.gz", include_dataset=True, split="../../etc"),
                    project / R, "the split '../../etc' is not a plain name")
    assert opened == [] and not (world.tmp / "a.tar.gz").exists()
    export_project(project, world.tmp / "a.tar.gz", include_dataset=True)
    assert opened == [coco]


def test_export_refuses_names_and_values_import_would_refuse(origin: Origin, world: World) -> None:
    project, _ = _project_copy(origin, world.tmp)
    odd = project / "overlays" / "a\x1b[31m.jpg"
    odd.write_bytes(b"x")
    _export_refused(lambda: export_project(project, world.tmp / "a.tar.gz"), odd, "its name has control characters")
    odd.unlink()
    report = read_json(project / R)
    report["performance"]["optimized"]["fps"] = "fast"
    (project / R).write_text(json.dumps(report))
    _export_refused(lambda: export_project(project, world.tmp / "a.tar.gz"), project / R,
                    "holds a value description.txt cannot show (ValueError")
    report["performance"]["optimized"]["fps"] = 10.0
    report["model_choice"] = "model: x\n\x1b[2Jsegwb project: forged"
    (project / R).write_text(json.dumps(report))
    lines = (import_project(export_project(project, world.tmp / "a.tar.gz"), world.work / "odd") / "description.txt") \
        .read_text().splitlines()
    assert "Model: x\\n\\x1b[2Jsegwb project: forged" in lines
