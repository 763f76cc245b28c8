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
from pathlib import Path
from typing import Any, BinaryIO

from .. import __version__
from ..core.errors import SegwbError, first_line
from ..core.project import DATASET_COPY, Project
from ..core.storage import atomic_path
from ..io.datasets import embedded, open_dataset
from .archive_format import DESCRIPTION, FORMAT, FORMAT_VERSION, MANIFEST
from .description import describe, now, read_optional

log = logging.getLogger("segwb")

# Never archived from the project folder: earlier exports and deployments, and what an export generates.
EXCLUDED = frozenset({"export", "deploy", DATASET_COPY, MANIFEST, DESCRIPTION})

Source = Path | bytes  # a file to archive, or generated content


def export_project(root: str | Path, out: str | Path | None = None, include_dataset: bool = False,
                   split: str | None = None) -> Path:
    """Write the project ``root`` as ``out`` (default ``<root>/export/<name>.tar.gz``) atomically; return it.

    ``include_dataset`` adds the images and annotations the report used (``split``: the VOC or COCO split the
    run was given, if any); they must still be the ones the report was made from.
    """
    root = Path(root)
    if not (root / "models" / "parent" / "model.xml").is_file():
        raise SegwbError("not a segwb project: no models/parent/model.xml", root)
    report = read_optional(root / "report.json")
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", root.resolve().name).strip(".") or "project"
    out = Path(out) if out else root / "export" / f"{name}.tar.gz"
    dataset = dataset_entries(root, report, split) if include_dataset else []
    description = describe(root, report, bool(dataset))
    own = [(rel, path) for rel, path in project_files(root) if path.resolve() != out.resolve()]  # an earlier export
    entries: list[tuple[str, Source]] = [(DESCRIPTION, description.encode()), *own, *dataset]
    ds = (report or {}).get("dataset") or {}
    with atomic_path(out) as tmp, tarfile.open(tmp, "w:gz") as tar:
        files = [_add(tar, name, rel, source) for rel, source in entries]
        manifest = {"format": FORMAT, "version": FORMAT_VERSION, "segwb_version": __version__,
                    "created": now(), "project": name, "task": (report or {}).get("task"),
                    "dataset": {"included": bool(dataset), "path": ds.get("path"), "layout": ds.get("layout")},
                    "files": files}
        _add(tar, name, MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode())
    log.info("exported %s: %d files%s", out, len(files), " with the dataset" if dataset else "")
    return out


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
    """
    if report is None:
        raise SegwbError("no report.json: nothing says which dataset the project used", root)
    if report["dataset"]["layout"] == embedded.LAYOUT:
        log.info("export: the embedded photos ship with segwb; no dataset copied")
        return []
    dataset = open_dataset(Project(root).dataset_root(report["dataset"]["path"]), split)
    used = (read_optional(root / "steps" / "predict-parent.json") or {}).get("inputs", {}).get("dataset")
    if used and dataset.digest != used:
        raise SegwbError("the images or annotations are not the ones the report was made from (changed since, or "
                         "another split: pass the run's split)", dataset.root)
    base = Path(dataset.root)
    files = {p for s in dataset.samples for p in (s.path, s.annotation) if p is not None}
    if dataset.annotation_file is not None:
        files.add(dataset.annotation_file)
    entries: list[tuple[str, Source]] = [(f"{DATASET_COPY}/{p.relative_to(base).as_posix()}", p) for p in sorted(files)]
    if dataset.layout == "voc":
        ids = "".join(f"{s.key}\n" for s in dataset.samples)
        entries.append((f"{DATASET_COPY}/ImageSets/Segmentation/{split or 'val'}.txt", ids.encode()))
    return entries


class _HashingReader:
    """A file read by tarfile, hashed on the way, so the manifest describes exactly the bytes archived."""

    def __init__(self, file: BinaryIO) -> None:
        self.file, self.sha = file, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.file.read(size)
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
    stat = source.stat()
    info.size, info.mtime = stat.st_size, int(stat.st_mtime)
    with open(source, "rb") as f:
        reader = _HashingReader(f)
        try:
            tar.addfile(info, reader)  # type: ignore[arg-type]  # tarfile only calls read()
        except OSError as exc:  # e.g. tarfile's "unexpected end of data": the file shrank while being archived
            raise SegwbError(f"could not be archived ({first_line(exc)}); if a step was writing it, export again",
                             source) from None
    return {"path": rel, "size": info.size, "sha256": reader.sha.hexdigest()}
