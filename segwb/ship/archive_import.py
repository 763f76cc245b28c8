"""Project import: every member of an archive is checked from its header before anything is extracted (no
absolute names, ``..``, control characters, links, devices, duplicates, oversized members or archives, files not in
the manifest); it is extracted into a hidden folder beside the destination, the checksums are verified, the
project's records are checked (every path they hold stays inside the project, every value segwb reads has its
type), and the folder is renamed into place. A rejected or failed import leaves nothing behind and never touches
an existing project; the imported project shows its results, and its step records still match, so a re-run
recomputes nothing.

What an imported project records, and what import rewrites:

* ``report.json``'s ``dataset.path`` is the one path a project records outside itself (the user's dataset folder).
  An archive can name any folder there (``/etc``), so it is never kept: an archive carrying its dataset gets
  ``"dataset"`` (:data:`~segwb.core.project.DATASET_COPY`, the copy inside the project, which
  :meth:`~segwb.core.project.Project.dataset_root` reads first anyway); one without gets
  :data:`~segwb.ship.archive_format.NOT_INCLUDED`, a relative name that is no folder. With the marker the
  project stays usable: the dashboard and the report show every result and draw the overlays on grey (the photos
  are not there), ``segwb export`` works, ``segwb export --with-dataset`` says in one line that the dataset was
  not included, and a run given ``--dataset`` records the new folder. The original folder is still named in the
  archive's ``description.txt`` and ``archive.json``, which are kept as the archive had them (never read back).
* ``predictions/images.json`` of the embedded photos records their full paths on the exporting machine; those are
  replaced by the photos' names (segwb finds the embedded photos by name on this machine).
* ``report.html`` is made again from the checked ``report.json``: the archive's page is whatever its maker wrote.

Everything else must already be relative and inside the project (or, for an image's ``file``, inside its dataset
copy): an absolute or climbing path is refused with one line naming the member and the field, like a value of the
wrong type.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import os
import shutil
import tarfile
import tempfile
import types
import typing
import unicodedata
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any, NoReturn

from jinja2 import TemplateError

from ..core.errors import SegwbError, first_line
from ..core.paths import OutsideProject, inside
from ..core.project import DATASET_COPY
from ..core.storage import file_digest, write_json
from ..io.datasets import LAYOUTS, embedded, folder
from ..report import schema
from ..report.html import write_report_html
from ..report.summary import summary
from ..tasks import REGISTRY as TASKS
from .archive_format import (
    DESCRIPTION,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    NOT_INCLUDED,
    control_free,
    kind,
    name_problem,
)

log = logging.getLogger("segwb")

MAX_MEMBER_BYTES = 2 << 30
MAX_TOTAL_BYTES = 8 << 30
MAX_MEMBERS = 200_000
MAX_MANIFEST_BYTES = 64 << 20  # read into memory: far more than a manifest of MAX_MEMBERS files needs
MAX_RECORD_BYTES = 256 << 20  # a JSON record (report, step, image table, detections) read into memory to be checked
MAX_RATIO = 200  # unpacked / packed bytes of the whole archive: more is a gzip bomb, not a project ...
RATIO_FLOOR = 64 << 20  # ... once it unpacks to more than this (a small project of JSON records may pack tighter)
MAX_READ = MAX_MANIFEST_BYTES  # one read from the unpacked stream (the manifest is the largest): a header claiming more is refused
PARENT_XML = "models/parent/model.xml"
KNOWN_LAYOUTS = (folder.LAYOUT, *(m.LAYOUT for m in LAYOUTS), embedded.LAYOUT)


def import_project(archive: str | Path, dest: str | Path, *, max_member_bytes: int = MAX_MEMBER_BYTES,
                   max_total_bytes: int = MAX_TOTAL_BYTES, max_members: int = MAX_MEMBERS) -> Path:
    """Re-create the project of ``archive`` as ``dest`` (a new or empty folder) and return ``dest``.

    Rejected before anything is extracted: absolute names, ``..``, control characters, links, devices and other
    non-regular members, duplicate names, a name that is both a file and a folder, more than one top folder,
    members over ``max_member_bytes``, more than ``max_total_bytes`` or ``max_members`` in all, an archive that
    unpacks to over :data:`MAX_RATIO` times its size, and a manifest that does not list exactly the archived files.
    After extraction (into a hidden folder beside ``dest``) every checksum must match and the records must pass
    the checks of this module's description; only then is the folder renamed to ``dest``.
    """
    archive, dest = Path(archive), Path(dest)
    if not archive.is_file():
        raise SegwbError("no such archive file", archive)
    if dest.is_symlink():
        raise SegwbError("is a symbolic link: import into a new folder", dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise SegwbError("already exists and is not empty: import into a new folder", dest)
    staging: Path | None = None
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".import", dir=dest.parent))
        with _reading(archive), gzip.open(archive, "rb") as unpacked, \
                tarfile.open(fileobj=_Bounded(unpacked, archive), mode="r:") as tar:  # type: ignore[call-overload]
            top, members = _checked_members(archive, tar, max_member_bytes, max_total_bytes, max_members)
            manifest = _manifest(archive, tar, top, members)
            with _writing(dest):
                tar.extractall(staging, members=members, filter="data")
        project = staging / top
        for entry in manifest["files"]:
            if file_digest(project / entry["path"]) != entry["sha256"]:
                raise SegwbError(f"member '{top}/{entry['path']}' does not match its sha256 in {MANIFEST} "
                                 "(corrupted or altered)", archive)
        _Records(archive, project, top, manifest["dataset"]["included"]).check()
        if dest.exists():
            dest.rmdir()  # empty (checked above); a folder that filled up meanwhile makes this fail, not merge
        os.rename(project, dest)  # fails, never merges, if dest appeared meanwhile (a folder with files, a file)
    except OSError as exc:
        raise SegwbError(f"cannot import into this folder ({first_line(exc)})", dest) from None
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    log.info("imported %s into %s", archive, dest)
    return dest


@contextmanager
def _reading(archive: Path) -> Iterator[None]:
    """Errors of a truncated or foreign file become one line naming the archive."""
    try:
        yield
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise SegwbError(f"not a readable .tar.gz archive ({first_line(exc)})", archive) from None


@contextmanager
def _writing(dest: Path) -> Iterator[None]:
    """File-system errors while extracting (no space, no permission) name the destination, not the archive."""
    try:
        yield
    except OSError as exc:
        if isinstance(exc, gzip.BadGzipFile):
            raise
        raise SegwbError(f"cannot import into this folder ({first_line(exc)})", dest) from None


class _Bounded:
    """The unpacked stream as tarfile reads it, refusing any one read over :data:`MAX_READ` bytes: tarfile reads a
    long-name or pax header whole, so a header claiming gigabytes would otherwise be held in memory."""

    def __init__(self, raw: gzip.GzipFile, archive: Path) -> None:
        self.raw, self.archive = raw, archive

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0 or size > MAX_READ:
            raise SegwbError(f"a header or member needs a read of {size} bytes, over the limit of {MAX_READ}",
                             self.archive)
        return self.raw.read(size)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self.raw.seek(offset, whence)

    def tell(self) -> int:
        return self.raw.tell()


def _checked_members(archive: Path, tar: tarfile.TarFile, max_member_bytes: int, max_total_bytes: int,
                     max_members: int) -> tuple[str, list[tarfile.TarInfo]]:
    """Every member, checked from its header alone; members are read one by one, so limits stop a huge archive early."""
    members: list[tarfile.TarInfo] = []
    names: set[str] = set()  # as written, and in Unicode normal form C (one name on macOS)
    files: set[str] = set()
    folders: set[str] = set()  # folder members and every folder a member is in
    packed = archive.stat().st_size
    top, total = None, 0
    for member in tar:
        name = member.name
        if len(members) == max_members:
            raise SegwbError(f"more than {max_members} members; refused", archive)
        _check_name(archive, name)
        if not (member.isdir() or member.type in (tarfile.REGTYPE, tarfile.AREGTYPE)):
            raise SegwbError(f"member '{name}' is {_kind(member)}: only regular files and folders are allowed", archive)
        first = name.split("/")[0]
        if top is None:
            top = first
        elif first != top:
            raise SegwbError(f"member '{name}' is outside the top folder '{top}': an archive holds one project",
                             archive)
        normal = unicodedata.normalize("NFC", name)
        if name in names or normal in names:
            raise SegwbError(f"member '{name}' appears twice", archive)
        parents = {"/".join(name.split("/")[:i]) for i in range(1, name.count("/") + 1)}
        if (member.isdir() and name in files) or (not member.isdir() and name in folders) or parents & files:
            raise SegwbError(f"member '{name}' is both a file and a folder", archive)
        if member.size > max_member_bytes:
            raise SegwbError(f"member '{name}' is {member.size} bytes, over the limit of {max_member_bytes}", archive)
        total += member.size
        if total > max_total_bytes:
            raise SegwbError(f"members up to '{name}' hold {total} bytes, over the limit of {max_total_bytes}", archive)
        if total > RATIO_FLOOR and total > MAX_RATIO * packed:
            raise SegwbError(f"members up to '{name}' unpack to {total} bytes, over {MAX_RATIO} times the "
                             f"archive's {packed}: refusing a possible gzip bomb", archive)
        names |= {name, normal}
        (folders if member.isdir() else files).add(name)
        folders |= parents
        members.append(member)
    if top is None:
        raise SegwbError("empty archive", archive)
    return top, members


def _check_name(archive: Path, name: str) -> None:
    problem = name_problem(name)
    if problem is None:
        return
    shown = name if problem == "is an absolute path" or "'..'" in problem else repr(name)[1:-1]
    if problem == "is an absolute path":
        raise SegwbError(f"member '{shown}' has an absolute path; refused", archive)
    if "'..'" in problem:
        raise SegwbError(f"member '{shown}' has a '..' component; refused", archive)
    raise SegwbError(f"member '{shown}' has an unsafe name ({problem}); refused", archive)


def _kind(member: tarfile.TarInfo) -> str:
    if member.issym():
        return f"a symbolic link to '{member.linkname}'"
    if member.islnk():
        return f"a hard link to '{member.linkname}'"
    if member.ischr() or member.isblk():
        return "a device"
    if member.isfifo():
        return "a FIFO"
    return f"of tar type {member.type!r}"


def _manifest(archive: Path, tar: tarfile.TarFile, top: str, members: list[tarfile.TarInfo]) -> dict[str, Any]:
    """``archive.json``, checked against the members: the same files with the same sizes, nothing more."""
    files = {m.name.removeprefix(f"{top}/"): m for m in members if m.isfile()}
    member = files.pop(MANIFEST, None)
    if member is None:
        raise SegwbError(f"no {top}/{MANIFEST}: not a segwb project archive", archive)
    if member.size > MAX_MANIFEST_BYTES:
        raise SegwbError(f"member '{member.name}' is {member.size} bytes, over the limit of {MAX_MANIFEST_BYTES}",
                         archive)
    reader = tar.extractfile(member)
    assert reader is not None  # a regular file
    try:
        manifest = _json(reader.read())
        if not isinstance(manifest, dict):
            raise TypeError(f"it is {kind(manifest)}, not an object")
        if manifest.get("format") != FORMAT:
            raise ValueError(f"format is {manifest.get('format')!r}, not {FORMAT!r}")
        if manifest.get("version") != FORMAT_VERSION:
            raise ValueError(f"version {manifest.get('version')!r} is not supported "
                             f"(this segwb reads {FORMAT_VERSION})")
        if not isinstance(manifest["files"], list) or not all(isinstance(e, dict) for e in manifest["files"]):
            raise TypeError("files is not a list of objects")
        listed = {e["path"]: e for e in manifest["files"]}
        if len(listed) != len(manifest["files"]):
            raise ValueError("a file is listed twice")
        if not all(isinstance(p, str) and isinstance(e["size"], int) and isinstance(e["sha256"], str)
                   for p, e in listed.items()):
            raise TypeError("a file entry lacks a path, an integer size or a sha256")
        if not isinstance(manifest["dataset"], dict) or not isinstance(manifest["dataset"].get("included"), bool):
            raise TypeError("dataset.included is not true or false")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise SegwbError(f"member '{member.name}' is not a valid manifest ({first_line(exc)})", archive) from None
    unlisted, missing = sorted(files.keys() - listed.keys()), sorted(listed.keys() - files.keys())
    if unlisted:
        raise SegwbError(f"member '{top}/{unlisted[0]}' is not listed in {MANIFEST}", archive)
    if missing:
        raise SegwbError(f"'{top}/{missing[0]}', listed in {MANIFEST}, is missing from the archive", archive)
    for rel, m in files.items():
        if m.size != listed[rel]["size"]:
            raise SegwbError(f"member '{m.name}' is {m.size} bytes; {MANIFEST} says {listed[rel]['size']}", archive)
    if PARENT_XML not in files:
        raise SegwbError(f"no {top}/{PARENT_XML}: not a segwb project archive", archive)
    copied = any(rel.startswith(f"{DATASET_COPY}/") for rel in files)
    if copied != manifest["dataset"]["included"]:
        raise SegwbError(f"member '{member.name}': dataset.included is {str(manifest['dataset']['included']).lower()}"
                         f", but the archive {'holds' if copied else 'holds no'} {top}/{DATASET_COPY}/", archive)
    return manifest


def _json(data: bytes) -> Any:
    """JSON as segwb writes it: UTF-8, no NaN or infinities, no key twice in one object."""
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        found = dict(items)
        if len(found) != len(items):
            raise ValueError(f"key {next(k for i, (k, _) in enumerate(items) if k in dict(items[:i]))!r} appears twice")
        return found

    def constant(name: str) -> None:
        raise ValueError(f"{name} is not a number JSON allows")

    return json.loads(data.decode("utf-8"), object_pairs_hook=pairs, parse_constant=constant)


_SCALARS = {str: ((str,), "text"), int: ((int,), "an integer"), float: ((int, float), "a number"),
            bool: ((bool,), "true or false"), type(None): ((type(None),), "null"), dict: ((dict,), "an object")}


class _Bad(Exception):
    """A record's field is refused: which field, and why."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field or 'the record'} {problem}")


def _check_type(value: Any, hint: Any, field: str) -> None:
    """``value`` (JSON) has the type ``hint`` describes: a :mod:`segwb.report.schema` record (only the fields that
    are present are checked: earlier versions wrote fewer), ``list[...]``, ``dict[str, ...]``, a union, a scalar."""
    origin = typing.get_origin(hint)
    if hint is Any:
        return
    if origin in (typing.Union, types.UnionType):
        errors = []
        for option in typing.get_args(hint):
            try:
                return _check_type(value, option, field)
            except _Bad as exc:
                errors.append(exc)
        raise errors[0]
    if typing.is_typeddict(hint):
        if not isinstance(value, dict):
            raise _Bad(field, f"is {kind(value)}, not an object")
        for key, sub in typing.get_type_hints(hint).items():
            if key in value:
                _check_type(value[key], sub, f"{field}.{key}" if field else key)
        return
    if origin is list or hint is list:
        if not isinstance(value, list):
            raise _Bad(field, f"is {kind(value)}, not a list")
        (item,) = typing.get_args(hint) or (Any,)
        for i, element in enumerate(value):
            _check_type(element, item, f"{field}[{i}]")
        return
    if origin is dict or hint is dict:
        if not isinstance(value, dict):
            raise _Bad(field, f"is {kind(value)}, not an object")
        _, item = typing.get_args(hint) or (str, Any)
        for key, element in value.items():
            _check_type(element, item, f"{field}.{key}")
        return
    expected = _SCALARS.get(hint)
    if expected is None:
        return
    if not isinstance(value, expected[0]) or (hint is not bool and isinstance(value, bool)):
        raise _Bad(field, f"is {kind(value)}, not {expected[1]}")
    if isinstance(value, float) and not math.isfinite(value):
        raise _Bad(field, "is not a finite number")


class _Records:
    """The records segwb reads back from a project, checked (and where this module's description says so,
    rewritten) in the extracted, not yet published, folder."""

    def __init__(self, archive: Path, project: Path, top: str, included: bool) -> None:
        self.archive, self.project, self.top, self.included = archive, project, top, included
        self.layout: str | None = None
        self.task = None

    def fail(self, rel: str, message: str) -> NoReturn:
        raise SegwbError(f"member '{self.top}/{rel}': {message}", self.archive)

    def load(self, rel: str) -> Any:
        path = self.project / rel
        if path.stat().st_size > MAX_RECORD_BYTES:
            self.fail(rel, f"over {MAX_RECORD_BYTES} bytes, too large a record to read")
        try:
            return _json(path.read_bytes())
        except ValueError as exc:  # also UnicodeDecodeError
            self.fail(rel, f"not readable JSON ({first_line(exc)})")

    def path(self, rel: str, field: str, value: Any, root: str = "") -> None:
        """``value`` is a relative path that stays inside the project (or its folder ``root``)."""
        problem = name_problem(value)
        if problem is not None:
            self.fail(rel, f"{field} {_shown(value)} {problem}; refused")
        try:
            inside(self.project / root if root else self.project, value)
        except OutsideProject:
            self.fail(rel, f"{field} {_shown(value)} is outside the project; refused")

    def check(self) -> None:
        self.description(DESCRIPTION)
        report = self.report("report.json") if (self.project / "report.json").is_file() else None
        images = self.image_table("predictions/images.json") if (self.project / "predictions" / "images.json").is_file() \
            else None
        if report is not None and images is None:  # an earlier version's semantic report: images from its rows
            for i, row in enumerate(report["comparison"]["basic"]):
                self.path("report.json", f"comparison.basic[{i}].image", row["image"])
        steps = self.project / "steps"
        for record in sorted(steps.iterdir()) if steps.is_dir() else []:
            if record.suffix == ".json" and record.is_file():
                self.step(f"steps/{record.name}", record.stem)
        for role in ("parent", "optimized"):
            if (self.project / "predictions" / f"{role}.json").is_file():
                self.detections(f"predictions/{role}.json", images)
        if report is not None:
            self.page(report)
        elif (self.project / "report.html").exists():
            self.fail("report.html", "a report page without report.json; refused")

    def page(self, report: dict[str, Any]) -> None:
        """``report.html`` made again from the checked ``report.json``: the archive's page is whatever its maker
        wrote (markup, scripts, links to anywhere); this one says what the report says, escaped."""
        try:
            write_report_html(report, self.project / "report.html")
        except (KeyError, TypeError, ValueError, AttributeError, IndexError, TemplateError) as exc:
            self.fail("report.json", f"not a report segwb can show ({type(exc).__name__}: {first_line(exc)})")

    def description(self, rel: str) -> None:
        """``description.txt`` is plain text (``segwb import`` prints it): no terminal escapes or other controls."""
        path = self.project / rel
        if not path.is_file():
            return
        if path.stat().st_size > MAX_RECORD_BYTES:
            self.fail(rel, f"over {MAX_RECORD_BYTES} bytes, too large a description")
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            self.fail(rel, f"not UTF-8 text (byte {exc.start})")
        if control_free(text.replace("\n", "").replace("\t", "")) != text.replace("\n", "").replace("\t", ""):
            self.fail(rel, "holds control characters (e.g. terminal escapes); refused")

    def report(self, rel: str) -> dict[str, Any]:
        report = self.load(rel)
        try:
            _check_type(report, schema.Report, "")
        except _Bad as exc:
            self.fail(rel, str(exc))
        if self.task_of(rel, report.get("task")) is None:
            self.fail(rel, "task is missing")
        dataset = report.get("dataset")
        if dataset is None or "path" not in dataset or "layout" not in dataset:
            self.fail(rel, "dataset.path or dataset.layout is missing")
        if dataset["layout"] not in KNOWN_LAYOUTS:
            self.fail(rel, f"dataset.layout {_shown(dataset['layout'])} is not one of {', '.join(KNOWN_LAYOUTS)}")
        self.layout = dataset["layout"]
        for role in ("parent", "optimized"):
            if "path" in (report.get(role) or {}):
                self.path(rel, f"{role}.path", report[role]["path"])
        labels = ((report.get("parent") or {}).get("card") or {}).get("labels")
        if labels is not None and not (isinstance(labels, list) and all(isinstance(n, str) for n in labels)):
            self.fail(rel, "parent.card.labels is not a list of text")
        for name, recorded in (report.get("predictions") or {}).items():
            self.path(rel, f"predictions.{name}", recorded)
        if "comparison" not in report:
            self.fail(rel, "comparison is missing")
        self.comparison(rel, report["comparison"], "comparison")
        try:
            summary(report)  # what the dashboard, the report page and description.txt say of it
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            self.fail(rel, f"not a report segwb can show ({type(exc).__name__}: {first_line(exc)})")
        self.dataset_path(rel, report)
        return report

    def task_of(self, rel: str, name: Any) -> Any:
        if name is None:
            return None
        if name not in TASKS:
            self.fail(rel, f"task {_shown(name)} is not one segwb knows ({', '.join(TASKS)})")
        self.task = TASKS[name]
        return self.task

    def comparison(self, rel: str, comparison: dict[str, Any], field: str) -> None:
        """The task's table rows: a list per mode, each row's columns of the types the tables show."""
        tables = self.task.tables if self.task is not None else {}
        for mode in tables or ("basic",):
            rows = comparison.get(mode)
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                self.fail(rel, f"{field}.{mode} is {kind(rows)}, not a list of rows")
            for i, row in enumerate(rows):
                where = f"{field}.{mode}[{i}]"
                if not isinstance(row.get("image"), str):
                    self.fail(rel, f"{where}.image is {kind(row.get('image'))}, not text")
                for column in tables[mode].columns if tables else ():
                    value = row.get(column.key)
                    if column.numeric and value is not None and (not isinstance(value, (int, float))
                                                                 or isinstance(value, bool) or not math.isfinite(value)):
                        self.fail(rel, f"{where}.{column.key} is {kind(value)}, not a number")
                    if not column.numeric and column.key in row and not isinstance(value, str):
                        self.fail(rel, f"{where}.{column.key} is {kind(value)}, not text")
                if "overlay" in row:
                    self.path(rel, f"{where}.overlay", row["overlay"])
                    if not row["overlay"].startswith("overlays/"):
                        self.fail(rel, f"{where}.overlay {_shown(row['overlay'])} is not in overlays/")

    def dataset_path(self, rel: str, report: dict[str, Any]) -> None:
        """Rewrite ``dataset.path``: the module's description says why and to what."""
        dataset = report["dataset"]
        if dataset["layout"] == embedded.LAYOUT:
            if self.included:
                self.fail(rel, f"dataset.layout is {embedded.LAYOUT!r}, yet the archive holds a {DATASET_COPY}/ copy")
            if dataset["path"] != embedded.NAME:
                self.fail(rel, f"dataset.path {_shown(dataset['path'])} is not {embedded.NAME!r}, as the embedded "
                               "photos' path always is")
            return
        replacement = DATASET_COPY if self.included else NOT_INCLUDED
        if dataset["path"] != replacement:
            dataset["path"] = replacement
            write_json(self.project / rel, report)

    def image_table(self, rel: str) -> list[dict[str, Any]]:
        table = self.load(rel)
        if not isinstance(table, list) or not all(isinstance(i, dict) for i in table):
            self.fail(rel, f"it is {kind(table)}, not a list of images")
        rewritten = False
        names = {p["name"] for p in embedded.manifest()["photos"]} if self.layout == embedded.LAYOUT else set()
        for n, image in enumerate(table):
            where = f"[{n}]"
            for field, hint in (("name", str), ("key", str), ("height", int), ("width", int)):
                if not isinstance(image.get(field), hint) or isinstance(image.get(field), bool):
                    self.fail(rel, f"{where}.{field} is {kind(image.get(field))}, not {_SCALARS[hint][1]}")
            if image.get("image_id") is not None and (not isinstance(image["image_id"], int)
                                                      or isinstance(image["image_id"], bool)):
                self.fail(rel, f"{where}.image_id is {kind(image['image_id'])}, not an integer")
            if image["height"] < 0 or image["width"] < 0:
                self.fail(rel, f"{where} has a negative size")
            key = image["key"]
            self.path(rel, f"{where}.key", key)
            self.path(rel, f"{where}.key", f"{key}.jpg", "overlays")
            for role in ("parent", "optimized"):
                self.path(rel, f"{where}.key", f"{key}.png", f"predictions/{role}")
            field = "file" if image.get("file") else "path"
            file = image.get(field)
            if self.layout == embedded.LAYOUT:
                if image["name"] not in names:
                    self.fail(rel, f"{where}.name {_shown(image['name'])} is not one of the embedded photos")
                if isinstance(file, str) and PurePosixPath(file).is_absolute():  # where they were on the exporter's machine
                    image.pop("path", None)
                    image["file"], rewritten = image["name"], True
                    continue
            self.path(rel, f"{where}.{field}", file, DATASET_COPY)
        if rewritten:
            write_json(self.project / rel, table)
        return table

    def step(self, rel: str, step: str) -> None:
        record = self.load(rel)
        if not isinstance(record, dict):
            self.fail(rel, f"it is {kind(record)}, not an object")
        for field, hint in (("key", str), ("inputs", dict), ("result", dict)):
            if not isinstance(record.get(field), hint):
                self.fail(rel, f"{field} is {kind(record.get(field))}, not {_SCALARS[hint][1]}")
        result = record["result"]
        hint = {"benchmark": schema.PerformanceRecord, "quantize": schema.QuantizeRecord}.get(step)
        try:
            if hint is not None:
                _check_type(result, hint, "result")
            if step == "compare":
                _check_type(result.get("ground_truth"), dict[str, Any] | None, "result.ground_truth")
        except _Bad as exc:
            self.fail(rel, str(exc))
        if step == "compare":
            if not isinstance(result.get("comparison"), dict):
                self.fail(rel, f"result.comparison is {kind(result.get('comparison'))}, not an object")
            self.comparison(rel, result["comparison"], "result.comparison")

    def detections(self, rel: str, images: list[dict[str, Any]] | None) -> None:
        """An instance task's saved detections (COCO results), as the viewer reads them."""
        found = self.load(rel)
        if not isinstance(found, list) or not all(isinstance(d, dict) for d in found):
            self.fail(rel, f"it is {kind(found)}, not a list of detections")
        ids = {i.get("image_id") for i in images} if images is not None else None
        number = (int, float)
        for n, d in enumerate(found):
            mask = d.get("segmentation")
            size = mask.get("size") if isinstance(mask, dict) else None
            checks = [("image_id", d.get("image_id"), int), ("class_id", d.get("class_id"), int),
                      ("score", d.get("score"), number)]
            for field, value, wanted in checks:
                if not isinstance(value, wanted) or isinstance(value, bool) or not math.isfinite(value):
                    self.fail(rel, f"[{n}].{field} is {kind(value)}, not {'a number' if field == 'score' else 'an integer'}")
            bbox = d.get("bbox")
            if not (isinstance(bbox, list) and len(bbox) == 4 and all(isinstance(v, number) and not isinstance(v, bool)
                                                                      and math.isfinite(v) for v in bbox)):
                self.fail(rel, f"[{n}].bbox is not a list of 4 numbers")
            if not (isinstance(size, list) and len(size) == 2 and all(isinstance(v, int) and not isinstance(v, bool)
                                                                      and v >= 0 for v in size)
                    and isinstance(mask.get("counts"), str)):
                self.fail(rel, f"[{n}].segmentation is not a mask (size: 2 integers, counts: text)")
            if ids is not None and d["image_id"] not in ids:
                self.fail(rel, f"[{n}].image_id {d['image_id']} is not an image of predictions/images.json")


def _shown(value: Any) -> str:
    """A value in a message: quoted, control characters escaped, long values cut."""
    text = repr(value) if isinstance(value, str) else kind(value)
    return text if len(text) <= 80 else text[:79] + "…"
