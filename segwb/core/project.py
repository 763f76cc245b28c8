"""A project folder per run, and step caching keyed by model hash + dataset hash + settings.

Paths that a project records in ``report.json`` are relative to its folder when they point inside it (the models,
the overlays), absolute otherwise (the user's dataset), so a project can be moved, archived and imported without
rewriting them. The image table records each photo relative to the dataset folder, and explorer cells their model
relative to the cache. Output files are named by keys (:class:`segwb.core.paths.Keys`) and joined with
:func:`segwb.core.paths.inside`, which refuses a path that would leave the project.

A run takes the project (:meth:`Project.claim`): an advisory lock, so that two runs do not write one project, and
a sweep of what a killed run left in segwb's own folders.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import SegwbError
from .paths import inside, is_within
from .storage import read_json, write_json

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; runs on one project are then not guarded against each other
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("segwb")
DATASET_COPY = "dataset"  # a project archived with its dataset carries it here
LOCK = ".segwb.lock"
# What a killed run leaves: storage.atomic_path's ".<name>.<random>.tmp" files (mkstemp's 8 random characters),
# model_file.save_ir's ".save-*" folders; only in the folders a run writes, which the lock guards.
LEFTOVER_FILE = re.compile(r"\..+\.[A-Za-z0-9_]{8}\.tmp")
LEFTOVER_DIR = ".save-"
RUN_FOLDERS = ("models", "predictions", "overlays", "steps")
RUN_FILES = ("report.json", "report.html")  # what a run writes at the project's top


class Project:
    """The files of one run: models, steps, predictions, overlays, report."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def claim(self) -> None:
        """Take the project for this run (another run on it is refused in one line), then remove what a killed run
        left in segwb's own folders (:data:`RUN_FOLDERS`): staging folders and temporary files, never results (results
        are renamed into place). A symbolic link there that leads outside the project is refused: a run would write
        through it. The dataset copy and any other file of the folder are left alone."""
        self.check_links()
        if fcntl is not None:
            try:
                fd = os.open(self.root / LOCK, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
            except OSError as exc:
                raise SegwbError(f"cannot create the project's lock file ({exc.strerror or exc})", self.root / LOCK) from exc
            handle = os.fdopen(fd, "r+")  # held for the run's lifetime (release() closes it)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                raise SegwbError("another segwb run is using this project folder; wait for it or choose another --out",
                                 self.root) from None
            except OSError as exc:  # a file system without locks (some network mounts): run, unguarded, and say so
                log.warning("%s: cannot lock the project (%s); do not start a second run on it", self.root,
                            exc.strerror or exc)
            self._lock = handle
        removed = self.sweep_leftovers()
        if removed:
            log.info("%s: removed %d leftovers of an interrupted run", self.root, removed)

    def _run_folders(self) -> list[Path]:
        return [self.root / name for name in RUN_FOLDERS if (self.root / name).exists() or (self.root / name).is_symlink()]

    def check_links(self) -> None:
        """Refuse symbolic links in segwb's own folders (or being one) that resolve outside the project."""
        for top in self._run_folders():
            inner = [] if top.is_symlink() else [Path(h) / n for h, dirs, files in os.walk(top) for n in dirs + files]
            for path in (top, *inner):
                if path.is_symlink() and not is_within(path, self.root):
                    raise SegwbError(f"{path.relative_to(self.root)} is a symbolic link to outside the project: "
                                     "segwb would write through it; remove it or choose another --out", self.root)

    def release(self) -> None:
        """Let other runs use the project again (:meth:`claim`)."""
        handle = self.__dict__.pop("_lock", None)
        if handle is not None:
            handle.close()

    def discard_if_empty(self) -> None:
        """Remove the project folder if a failed first run left nothing in it but its lock and empty folders."""
        files = [p for p in self.root.rglob("*") if p.is_file() and p.name != LOCK]
        if not files:
            shutil.rmtree(self.root, ignore_errors=True)

    def sweep_leftovers(self) -> int:
        """Delete staging folders and temporary files in segwb's own folders; returns how many."""
        removed = 0
        for top in self._run_folders():
            for here, dirs, files in os.walk(top):
                for d in [d for d in dirs if d.startswith(LEFTOVER_DIR)]:
                    shutil.rmtree(Path(here) / d, ignore_errors=True)
                    dirs.remove(d)
                    removed += 1
                for f in files:
                    if LEFTOVER_FILE.fullmatch(f):
                        (Path(here) / f).unlink(missing_ok=True)
                        removed += 1
        for name in RUN_FILES:
            for f in self.root.glob(f".{name}.*.tmp"):
                if LEFTOVER_FILE.fullmatch(f.name) and f.is_file() and not f.is_symlink():
                    f.unlink()
                    removed += 1
        return removed

    def model_xml(self, role: str) -> Path:
        """The IR of ``role`` ("parent" or "optimized")."""
        return self.root / "models" / role / "model.xml"

    @property
    def parent_xml(self) -> Path:
        return self.model_xml("parent")

    @property
    def optimized_xml(self) -> Path:
        return self.model_xml("optimized")

    def predictions(self, role: str) -> Path:
        """Class maps of ``role`` ("parent" or "optimized")."""
        return self.root / "predictions" / role

    @property
    def images_json(self) -> Path:
        """The image table of the report: name, key, file, size (and COCO id) of every image, written with it."""
        return self.root / "predictions" / "images.json"

    @property
    def overlays(self) -> Path:
        return self.root / "overlays"

    def overlay(self, key: str) -> Path:
        """The overlay picture of the image with ``key``: a JPEG, as photos with tinted masks compress 4x
        better and encode 5x faster than as PNG (96 deeplabv3 overlays: 0.19 s and 14.5 MB against 1.07 s
        and 58.7 MB; chroma kept at full resolution, so one-pixel disagreements stay crisp)."""
        return inside(self.overlays, f"{key}.jpg")

    @property
    def report_json(self) -> Path:
        return self.root / "report.json"

    @property
    def report_html(self) -> Path:
        return self.root / "report.html"

    @property
    def dataset_copy(self) -> Path:
        return self.root / DATASET_COPY

    def step_record(self, step: str) -> Path:
        return self.root / "steps" / f"{step}.json"

    def relative(self, path: str | Path) -> str:
        """How the project records ``path``: relative to its folder (POSIX) when inside it, else absolute."""
        path = Path(path).resolve()
        try:
            return path.relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(path)

    def dataset_root(self, recorded: str) -> Path:
        """Where the dataset a report names is now: the project's own copy (an archive imported with its dataset),
        else the recorded folder: absolute as runs record it, or relative to the project (an imported archive's
        ``dataset``, or its marker for a dataset not included, which names no folder), never the working folder's."""
        if self.dataset_copy.is_dir():
            return self.dataset_copy
        path = Path(recorded)
        return path if path.is_absolute() else self.root / path

    def cached(self, step: str, inputs: dict[str, Any], compute: Callable[[], dict[str, Any]],
               outputs: tuple[Path, ...] = ()) -> dict[str, Any]:
        """Return the stored result of ``step`` if its inputs and outputs are unchanged, else compute it.

        The record is written after the outputs, so an interrupted step is simply run again. The returned
        dict carries ``cached`` (reused or not) and ``key`` (for steps that depend on this one).
        """
        key, stored = self.lookup(step, inputs, outputs)
        if stored is not None:
            return stored
        return self.store(step, key, inputs, compute())

    def lookup(self, step: str, inputs: dict[str, Any], outputs: tuple[Path, ...] = ()) -> tuple[str, dict[str, Any] | None]:
        """The key of ``inputs`` and the stored result of ``step`` under it (with ``cached`` and ``key``), or None when
        the step must run: no record, another key, or an output missing. For steps computed together
        (:meth:`store` them once their outputs are written)."""
        key = step_key(inputs)
        record = self.step_record(step)
        if record.is_file() and all(_complete(p) for p in outputs):
            try:
                stored = read_json(record)
            except (OSError, ValueError):  # damaged by hand or by the disk (segwb writes it atomically): run it again
                stored = {}
            if isinstance(stored, dict) and stored.get("key") == key and isinstance(stored.get("result"), dict):
                return key, {**stored["result"], "cached": True, "key": key}
        return key, None

    def store(self, step: str, key: str, inputs: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
        """Record ``result`` of ``step`` under ``key`` (from :meth:`lookup`), after its outputs are written."""
        canonical = json.loads(json.dumps(inputs, sort_keys=True, default=str))
        write_json(self.step_record(step), {"step": step, "key": key, "inputs": canonical, "result": result})
        return {**result, "cached": False, "key": key}

    def record(self, step: str) -> dict[str, Any] | None:
        """The stored result of ``step``, or None when it has not run (or its record is unreadable)."""
        path = self.step_record(step)
        if not path.is_file():
            return None
        try:
            return read_json(path).get("result")
        except (OSError, ValueError):
            return None


def step_key(inputs: dict[str, Any]) -> str:
    """The cache key of a step's inputs (paths and the like count as their text)."""
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()


def _complete(path: Path) -> bool:
    """An output counts when it is there and, for a file, not empty (segwb never writes an empty result)."""
    try:
        return path.is_dir() or path.stat().st_size > 0
    except OSError:
        return False
