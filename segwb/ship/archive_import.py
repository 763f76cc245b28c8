"""Project import: every member of an archive is checked from its header before anything is extracted (no
absolute names, ``..``, links, devices, oversized members or archives, files not in the manifest); it is extracted
into a hidden folder beside the destination, the checksums are verified, and the folder is renamed into place.
A rejected or failed import leaves nothing behind; the imported project shows its results, and its step records
still match, so a re-run recomputes nothing."""

from __future__ import annotations

import json
import logging
import os
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PureWindowsPath
from typing import Any

from ..core.errors import SegwbError, first_line
from ..core.storage import file_digest
from .archive_format import FORMAT, FORMAT_VERSION, MANIFEST

log = logging.getLogger("segwb")

MAX_MEMBER_BYTES = 2 << 30
MAX_TOTAL_BYTES = 8 << 30
MAX_MEMBERS = 200_000
MAX_MANIFEST_BYTES = 64 << 20  # read into memory: far more than a manifest of MAX_MEMBERS files needs


def import_project(archive: str | Path, dest: str | Path, *, max_member_bytes: int = MAX_MEMBER_BYTES,
                   max_total_bytes: int = MAX_TOTAL_BYTES, max_members: int = MAX_MEMBERS) -> Path:
    """Re-create the project of ``archive`` as ``dest`` (a new or empty folder) and return ``dest``.

    Rejected before anything is extracted: absolute names, ``..``, links, devices and other non-regular
    members, more than one top folder, members over ``max_member_bytes``, more than ``max_total_bytes`` or
    ``max_members`` in all, and a manifest that does not list exactly the archived files. After extraction
    (into a hidden folder beside ``dest``) every checksum must match.
    """
    archive, dest = Path(archive), Path(dest)
    if not archive.is_file():
        raise SegwbError("no such archive file", archive)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise SegwbError("already exists and is not empty: import into a new folder", dest)
    staging: Path | None = None
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".import", dir=dest.parent))
        with _reading(archive), tarfile.open(archive, "r:gz") as tar:
            top, members = _checked_members(archive, tar, max_member_bytes, max_total_bytes, max_members)
            manifest = _manifest(archive, tar, top, members)
            tar.extractall(staging, members=members, filter="data")
        project = staging / top
        for entry in manifest["files"]:
            if file_digest(project / entry["path"]) != entry["sha256"]:
                raise SegwbError(f"member '{top}/{entry['path']}' does not match its sha256 in {MANIFEST} "
                                 "(corrupted or altered)", archive)
        if dest.exists():
            dest.rmdir()  # empty (checked above); a folder that filled up meanwhile makes this fail, not merge
        os.rename(project, dest)
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


def _checked_members(archive: Path, tar: tarfile.TarFile, max_member_bytes: int, max_total_bytes: int,
                     max_members: int) -> tuple[str, list[tarfile.TarInfo]]:
    """Every member, checked from its header alone; members are read one by one, so limits stop a huge archive early."""
    members: list[tarfile.TarInfo] = []
    names: set[str] = set()
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
        if name in names:
            raise SegwbError(f"member '{name}' appears twice", archive)
        if member.size > max_member_bytes:
            raise SegwbError(f"member '{name}' is {member.size} bytes, over the limit of {max_member_bytes}", archive)
        total += member.size
        if total > max_total_bytes:
            raise SegwbError(f"members up to '{name}' hold {total} bytes, over the limit of {max_total_bytes}", archive)
        names.add(name)
        members.append(member)
    if top is None:
        raise SegwbError("empty archive", archive)
    return top, members


def _check_name(archive: Path, name: str) -> None:
    if name.startswith("/") or PureWindowsPath(name).drive or PureWindowsPath(name).is_absolute():
        raise SegwbError(f"member '{name}' has an absolute path; refused", archive)
    parts = name.split("/")
    if ".." in parts:
        raise SegwbError(f"member '{name}' has a '..' component; refused", archive)
    if "\\" in name or "\x00" in name or any(p in ("", ".") for p in parts):
        raise SegwbError(f"member {name!r} has an unsafe name (empty or '.' component, backslash or NUL); refused",
                         archive)


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
        manifest = json.loads(reader.read())
        if manifest.get("format") != FORMAT:
            raise ValueError(f"format is {manifest.get('format')!r}, not {FORMAT!r}")
        if manifest.get("version") != FORMAT_VERSION:
            raise ValueError(f"version {manifest.get('version')!r} is not supported "
                             f"(this segwb reads {FORMAT_VERSION})")
        listed = {e["path"]: e for e in manifest["files"]}
        if not all(isinstance(e["size"], int) and isinstance(e["sha256"], str) for e in listed.values()):
            raise TypeError("a file entry lacks an integer size or a sha256")
        if not isinstance(manifest["dataset"].get("included"), bool):
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
    return manifest
