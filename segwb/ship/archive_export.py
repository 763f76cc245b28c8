"""Project export: the project's files, optionally its dataset, ``description.txt`` and the manifest, written as one
``.tar.gz`` atomically (see :mod:`segwb.ship.archive_format`)."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import tarfile
import time
import zlib
from pathlib import Path
from typing import Any, BinaryIO

from .. import __version__
from ..core.errors import SegwbError, first_line
from ..core.paths import OutsideProject, inside, is_within, overlapping
from ..core.project import DATASET_COPY
from ..core.storage import atomic_path, read_json
from ..io.datasets import embedded, open_dataset
from .archive_format import (
    DESCRIPTION,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    NOT_INCLUDED,
    name_problem,
)
from .description import describe, now, read_optional

log = logging.getLogger("segwb")

# Never archived from the project folder: earlier exports and deployments, and what an export generates.
EXCLUDED = frozenset({"export", "deploy", DATASET_COPY, MANIFEST, DESCRIPTION})

Source = Path | bytes  # a file to archive, or generated content


def export_project(root: str | Path, out: str | Path | None = None, include_dataset: bool = False,
                   split: str | None = None) -> Path:
    """Write the project ``root`` as ``out`` (default ``<root>/export/<name>.tar.gz``) atomically; return it.

    ``include_dataset`` adds the images and annotations the report used (``split``: the VOC or COCO split the
    run was given, if any); they must still be the ones the report was made from (see :func:`dataset_entries`).
    ``out`` must be a file name in an existing folder, outside the project except in its ``export/`` folder; any
    failure to write it is one line naming it, and leaves no partial archive.
    """
    root = Path(root)
    if not (root / "models" / "parent" / "model.xml").is_file():
        raise SegwbError("not a segwb project: no models/parent/model.xml", root)
    report = read_optional(root / "report.json")
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", root.resolve().name).strip(".") or "project"
    out = _destination(root, Path(out) if out else None, name)
    dataset = dataset_entries(root, report, split) if include_dataset else []
    description = describe(root, report, bool(dataset))
    own = [(rel, path) for rel, path in project_files(root) if path.resolve() != out.resolve()]  # an earlier export
    entries: list[tuple[str, Source]] = [(DESCRIPTION, description.encode()), *own, *dataset]
    for rel, source in entries:
        if (problem := name_problem(rel)) is not None:  # import would refuse it: say so now, naming the file
            raise SegwbError(f"cannot be archived: its name {problem}", source if isinstance(source, Path) else rel)
    ds = (report or {}).get("dataset") or {}
    try:
        with atomic_path(out) as tmp, tarfile.open(tmp, "w:gz") as tar:
            files = [_add(tar, name, rel, source) for rel, source in entries]
            manifest = {"format": FORMAT, "version": FORMAT_VERSION, "segwb_version": __version__,
                        "created": now(), "project": name, "task": (report or {}).get("task"),
                        "dataset": {"included": bool(dataset), "path": ds.get("path"), "layout": ds.get("layout")},
                        "files": files}
            _add(tar, name, MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode())
    except OSError as exc:  # no permission, no space, a folder in the way: the archive's place is the problem
        raise SegwbError(f"cannot write the archive here ({exc.strerror or first_line(exc)})", out) from None
    log.info("exported %s: %d files%s", out, len(files), " with the dataset" if dataset else "")
    return out


def _destination(root: Path, out: Path | None, name: str) -> Path:
    """Where the archive goes: the default under ``<root>/export/``, or ``out``, which must be a file name in an
    existing folder and must not replace a file of the project (inside it, only ``export/`` may hold archives)."""
    if out is None:
        return root / "export" / f"{name}.tar.gz"
    if out.is_dir():
        raise SegwbError("is a folder: give the archive's file name (e.g. project.tar.gz)", out)
    if not out.parent.is_dir():
        raise SegwbError(f"cannot write the archive: no such folder {out.parent}", out)
    if is_within(out, root) and not is_within(out, root / "export"):
        raise SegwbError("is inside the project: write the archive outside it, or under its export/ folder", out)
    if out.exists() and not _written_by_export(out):
        raise SegwbError("already exists and is not a project archive: it is not replaced (name a new file)", out)
    return out


def _written_by_export(path: Path) -> bool:
    """Whether ``path`` is an earlier export (which a new one may replace): a .tar.gz whose first member is a
    ``description.txt``, as :func:`export_project` writes them; only that first header is read."""
    try:
        with tarfile.open(path, "r|gz") as tar:
            first = tar.next()
    except (tarfile.TarError, OSError, EOFError, zlib.error):
        return False
    return first is not None and first.isfile() and first.name.count("/") == 1 and first.name.endswith(f"/{DESCRIPTION}")


def project_files(root: Path) -> list[tuple[str, Path]]:
    """Every regular file of the project by its relative name, without hidden files (unfinished atomic
    writes) and the folders in :data:`EXCLUDED`; symbolic links are skipped, as an archive must hold none."""
    found = []
    for folder, dirs, names in os.walk(root):
        here = Path(folder)
        top = here == root
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not (top and d in EXCLUDED)
                         and not _skipped_link(here / d))
        for file in sorted(names):
            path = here / file
            if file.startswith(".") or (top and file in EXCLUDED) or _skipped_link(path) or not path.is_file():
                continue
            found.append((path.relative_to(root).as_posix(), path))
    return found


def _skipped_link(path: Path) -> bool:
    if path.is_symlink():
        log.warning("export: skipping the symbolic link %s", path)
        return True
    return False


def dataset_entries(root: Path, report: dict[str, Any] | None, split: str | None = None) -> list[tuple[str, Source]]:
    """``dataset/...`` entries: the images, masks and annotation file the report used, at their dataset paths.

    The embedded photos ship with segwb and are not copied. A VOC copy gets an image-set list of exactly the
    images used, so opening the copy gives the same images (and the same dataset digest, so cached steps match).
    A project imported with its dataset exports its own copy.

    Nothing outside the dataset folder is read: before the folder is walked, the recorded path must be a folder
    that neither holds nor is inside the project, the report's images (``predictions/images.json``) must be in it,
    and no symbolic link in it may lead out of it; each refusal is one line.
    """
    source = root / "report.json"
    if report is None:
        raise SegwbError("no report.json: nothing says which dataset the project used", root)
    ds = report.get("dataset")
    if not (isinstance(ds, dict) and isinstance(ds.get("path"), str) and isinstance(ds.get("layout"), str)):
        raise SegwbError("dataset.path and dataset.layout are not both text: nothing says which dataset the project "
                         "used", source)
    if ds["layout"] == embedded.LAYOUT:
        log.info("export: the embedded photos ship with segwb; no dataset copied")
        return []
    if split is not None and (name_problem(split) is not None or "/" in split):
        raise SegwbError(f"the split {split!r} is not a plain name (e.g. val)", source)
    base = _dataset_folder(root, ds["path"])
    _check_recorded_images(root, base, ds["path"])
    _check_links(base)
    dataset = open_dataset(base, split)
    inputs = (read_optional(root / "steps" / "predict-parent.json") or {}).get("inputs")
    used = inputs.get("dataset") if isinstance(inputs, dict) else None
    if used and dataset.digest != used:
        raise SegwbError("the images or annotations are not the ones the report was made from (changed since, or "
                         "another split: pass the run's split)", dataset.root)
    base = Path(dataset.root)
    files = dataset.files
    for path in files:
        if not is_within(path, base) or not path.is_relative_to(base):
            raise SegwbError(f"is outside the dataset folder {base}: not archived", path)
    entries: list[tuple[str, Source]] = [(f"{DATASET_COPY}/{p.relative_to(base).as_posix()}", p) for p in files]
    if dataset.layout == "voc":
        ids = "".join(f"{s.key}\n" for s in dataset.samples)
        entries.append((f"{DATASET_COPY}/ImageSets/Segmentation/{split or 'val'}.txt", ids.encode()))
    return entries


def _dataset_folder(root: Path, recorded: str) -> Path:
    """The dataset folder :meth:`Project.dataset_root` reads, checked before anything in it is read: the project's
    own copy (a real folder, not a link), else the recorded folder, which must exist and not overlap the project."""
    copy = root / DATASET_COPY
    if copy.is_symlink() or (copy.exists() and not is_within(copy, root)):
        raise SegwbError("is a symbolic link: a project's dataset copy must be its own folder", copy)
    if copy.is_dir():
        return copy
    if recorded == NOT_INCLUDED:
        raise SegwbError("the project was imported from an archive without its dataset, so there is none to include: "
                         "export without the dataset, or run the project on its dataset (--dataset) first",
                         root / "report.json")
    folder = Path(recorded)
    if not folder.is_dir():
        raise SegwbError("no such dataset folder (dataset.path of report.json)", folder)
    if overlapping(folder, root):
        raise SegwbError(f"the dataset folder and the project {root} hold one another: refused", folder)
    return folder


def _check_recorded_images(root: Path, base: Path, recorded: str) -> None:
    """Every image of the report's image table is a file in ``base``: a folder that does not hold them (an edited
    ``dataset.path``) is refused before it is walked."""
    table_path = root / "predictions" / "images.json"
    if not table_path.is_file():
        return  # an earlier version's report: the digest check after opening is the only one
    try:
        table = read_json(table_path)
    except (OSError, ValueError) as exc:
        raise SegwbError(f"not readable JSON ({first_line(exc)})", table_path) from None
    if not isinstance(table, list) or not all(isinstance(i, dict) for i in table):
        raise SegwbError("not a list of images", table_path)
    for image in table:
        file = image.get("file") or image.get("path")
        if not isinstance(file, str):
            raise SegwbError(f"an image's file is {file!r}, not a path", table_path)
        if Path(file).is_absolute():  # an earlier version's full path into the recorded folder
            if not Path(file).is_relative_to(recorded):
                raise SegwbError(f"the image {file!r} is outside the dataset folder {recorded}", table_path)
            file = Path(file).relative_to(recorded).as_posix()
        if name_problem(file) is not None:
            raise SegwbError(f"the image {file!r} is not a path inside the dataset folder", table_path)
        try:
            found = inside(base, file).is_file()
        except OutsideProject:
            found = False
        if not found:
            raise SegwbError(f"does not hold the report's image {file!r} (predictions/images.json): not the dataset "
                             "the report was made from", base)


def _check_links(base: Path) -> None:
    """No symbolic link in ``base`` (outside hidden entries, which datasets skip) leads out of it; links are not
    followed while looking."""
    pending = [base]
    while pending:
        try:
            with os.scandir(pending.pop()) as entries:
                found = [e for e in entries if not e.name.startswith(".")]
        except OSError as exc:
            raise SegwbError(f"cannot read the dataset folder ({first_line(exc)})", exc.filename or base) from None
        for entry in found:
            if entry.is_symlink():
                if not is_within(entry.path, base):
                    raise SegwbError(f"is a symbolic link out of the dataset folder {base}: refused", entry.path)
            elif entry.is_dir(follow_symlinks=False):
                pending.append(Path(entry.path))


class _HashingReader:
    """A file read by tarfile, hashed on the way, so the manifest describes exactly the bytes archived; a read
    error names the file (a write error, the archive's)."""

    def __init__(self, file: BinaryIO, path: Path) -> None:
        self.file, self.path, self.sha = file, path, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        try:
            data = self.file.read(size)
        except OSError as exc:
            raise SegwbError(f"cannot be read ({first_line(exc)})", self.path) from None
        self.sha.update(data)
        return data


def _add(tar: tarfile.TarFile, top: str, rel: str, source: Source) -> dict[str, Any]:
    """Add ``source`` as ``<top>/<rel>``: a plain file owned by nobody in particular; return its manifest entry."""
    info = tarfile.TarInfo(f"{top}/{rel}")
    info.mode = 0o644
    if isinstance(source, bytes):
        info.size, info.mtime = len(source), int(time.time())
        tar.addfile(info, io.BytesIO(source))
        return {"path": rel, "size": info.size, "sha256": hashlib.sha256(source).hexdigest()}
    try:
        fd = os.open(source, os.O_RDONLY)
    except OSError as exc:
        raise SegwbError(f"cannot be read ({first_line(exc)})", source) from None
    with os.fdopen(fd, "rb") as f:
        stat = os.fstat(fd)
        info.size, info.mtime = stat.st_size, int(stat.st_mtime)
        reader = _HashingReader(f, source)
        try:
            tar.addfile(info, reader)  # type: ignore[arg-type]  # tarfile only calls read()
        except OSError as exc:
            if exc.errno is not None:
                raise  # writing the archive failed: the caller names it
            # tarfile's "unexpected end of data": the file shrank while being archived
            raise SegwbError(f"could not be archived ({first_line(exc)}); if a step was writing it, export again",
                             source) from None
    return {"path": rel, "size": info.size, "sha256": reader.sha.hexdigest()}
