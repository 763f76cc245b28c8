"""Project export and import: one ``.tar.gz`` with the models, settings, results and a description.

An archive has a single top folder, named after the project::

    <name>/description.txt   the project, its best throughput (latency, batch, streams) and the tool versions
    <name>/archive.json      manifest: format, dataset, and every other file with its size and sha256
    <name>/models/ steps/ predictions/ overlays/ explorer/ report.json report.html ...   the project's files
    <name>/dataset/          optional: the images and annotations the report used, at their dataset paths

Import checks every member before extracting anything, extracts into a hidden folder beside the destination,
verifies the checksums, points the paths recorded in the JSON files at the new folder and renames it into
place: a rejected or failed import leaves nothing behind, and the imported project shows its results (its
step records still match, so nothing is recomputed).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import platform
import re
import shutil
import tarfile
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path, PurePath, PureWindowsPath
from typing import Any, BinaryIO

from . import __version__
from .errors import SegwbError
from .models import first_line
from .storage import atomic_path, file_digest, read_json, write_json

log = logging.getLogger("segwb")

FORMAT = "segwb-project"
FORMAT_VERSION = 1
MANIFEST = "archive.json"
DESCRIPTION = "description.txt"
DATASET = "dataset"
# Never archived from the project folder: earlier exports and deployments, and what an export generates.
EXCLUDED = frozenset({"export", "deploy", DATASET, MANIFEST, DESCRIPTION})
ROLES = ("parent", "optimized")

MAX_MEMBER_BYTES = 2 << 30
MAX_TOTAL_BYTES = 8 << 30
MAX_MEMBERS = 200_000
MAX_MANIFEST_BYTES = 64 << 20  # read into memory: far more than a manifest of MAX_MEMBERS files needs

Source = Path | bytes  # a file to archive, or generated content


# --- export --------------------------------------------------------------------------------------

def export_project(root: str | Path, out: str | Path | None = None, include_dataset: bool = False,
                   split: str | None = None) -> Path:
    """Write the project ``root`` as ``out`` (default ``<root>/export/<name>.tar.gz``) atomically; return it.

    ``include_dataset`` adds the images and annotations the report used (``split``: the VOC or COCO split the
    run was given, if any); they must still be the ones the report was made from.
    """
    root = Path(root)
    if not (root / "models" / "parent" / "model.xml").is_file():
        raise SegwbError("not a segwb project: no models/parent/model.xml", root)
    report = _read_optional(root / "report.json")
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
                    "created": _now(), "project": name, "task": (report or {}).get("task"),
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
    """
    from .datasets import open_dataset

    if report is None:
        raise SegwbError("no report.json: nothing says which dataset the project used", root)
    if report["dataset"]["layout"] == "embedded":
        log.info("export: the embedded photos ship with segwb; no dataset copied")
        return []
    dataset = open_dataset(report["dataset"]["path"], split)
    used = (_record(root, "predict-parent") or {}).get("inputs", {}).get("dataset")
    if used and dataset.digest != used:
        raise SegwbError("the images or annotations are not the ones the report was made from (changed since, or "
                         "another split: pass the run's split)", dataset.root)
    base = Path(dataset.root)
    files = {p for s in dataset.samples for p in (s.path, s.annotation) if p is not None}
    if dataset.annotation_file is not None:
        files.add(dataset.annotation_file)
    entries: list[tuple[str, Source]] = [(f"{DATASET}/{p.relative_to(base).as_posix()}", p) for p in sorted(files)]
    if dataset.layout == "voc":
        ids = "".join(f"{s.key}\n" for s in dataset.samples)
        entries.append((f"{DATASET}/ImageSets/Segmentation/{split or 'val'}.txt", ids.encode()))
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


# --- description.txt -----------------------------------------------------------------------------

def best_throughput(root: Path, performance: dict[str, Any] | None) -> dict[str, Any] | None:
    """The INT8 model's highest throughput, the better of the tutorial's benchmark (batch 1, streams chosen by
    the THROUGHPUT hint) and the explorer's fastest cell; None when neither measured it."""
    candidates = []
    if performance:
        run = performance["optimized"]
        candidates.append({"fps": run["fps"], "latency_ms": run["latency_ms"]["median"],
                           "batch": (performance.get("input_shape") or [1])[0],
                           "streams": run["properties"].get("NUM_STREAMS", "?"),
                           "precision": run.get("inference_precision") or performance.get("optimized_precision"),
                           "source": "the tutorial's benchmark (THROUGHPUT hint)"})
    xml, cache = root / "models" / "optimized" / "model.xml", root / "explorer"
    if xml.is_file() and cache.is_dir():
        from . import explorer

        results = explorer.load_results(xml, cache)
        if results:
            cell = explorer.sweet_spot(results, float("inf"))
            assert cell is not None  # no threshold: some cell always qualifies
            candidates.append({"fps": cell["throughput"], "latency_ms": cell["latency_ms"]["median"],
                               "batch": cell["batch"], "streams": cell.get("streams_used") or cell["streams"],
                               "precision": cell["properties"].get("INFERENCE_PRECISION_HINT")
                               or cell.get("precision_requested") or "default",
                               "source": f"the inference-configuration explorer ({len(results)} configurations)"})
    return max(candidates, key=lambda c: c["fps"], default=None)


def describe(root: Path, report: dict[str, Any] | None, dataset_included: bool) -> str:
    """``description.txt``: what the project is, its best throughput with latency, batch and streams, the parent
    baseline, the accuracy summary and the versions of the tools that produced the results."""
    report = report or {}
    performance = report.get("performance") or (_record(root, "benchmark") or {}).get("result")
    ds = report.get("dataset")
    lines = [f"segwb project: {root.resolve().name}",
             f"Task: {report.get('task', 'not recorded (no report yet)')} segmentation",
             f"Model: {report.get('model_choice', 'models/parent/model.xml')}"]
    if ds:
        where = ("the embedded photos ship with segwb" if ds["layout"] == "embedded" else
                 "included under dataset/" if dataset_included else "not included in this archive")
        lines.append(f"Dataset: {ds['path']} ({ds['layout']}, {ds['images']} images, "
                     f"{'annotated' if ds['annotated'] else 'not annotated'}); {where}")
    if optimized := report.get("optimized"):
        lines.append(f"Optimization: {optimized.get('method', 'Default')}, {optimized.get('preset', '?')} preset, "
                     f"{optimized.get('subset_size', '?')} calibration images")
        if aa := optimized.get("accuracy_aware"):
            lines.append(f"  {aa['metric']} against the {aa['reference']}: parent {aa['parent_metric']:.2f}, result "
                         f"{aa['final_metric']:.2f} (drop {aa['drop']:.2f}, max {aa['max_drop']:g} {aa['drop_type']}, "
                         f"{'within' if aa['within_drop'] else 'NOT within'}); {len(aa['reverted_operations'])} "
                         "operations reverted to floating point")
    best = best_throughput(root, performance)
    if best is None:
        lines.append("Best throughput: not measured yet")
    else:
        lines += [f"Best throughput: {best['fps']:.2f} FPS at a median latency of {best['latency_ms']:.3f} ms",
                  (f"  batch {best['batch']}, streams {best['streams']}, {best['precision']} inference precision, "
                   f"INT8 model, measured by {best['source']}")]
    if performance and best:
        parent = performance["parent"]
        lines.append(f"Parent model (f32): {parent['fps']:.2f} FPS at a median latency of "
                     f"{parent['latency_ms']['median']:.3f} ms; best throughput / parent: "
                     f"{best['fps'] / parent['fps']:.2f}x on {performance.get('device', 'CPU')}")
    if "comparison" in report:
        lines.append(_accuracy_line(report))
    nncf = ((_record(root, "quantize") or {}).get("inputs") or {}).get("nncf", "not recorded")
    versions = (f"Tool versions: segwb {report.get('segwb_version', __version__)}, OpenVINO "
                f"{(performance or {}).get('openvino_version', 'not recorded')}, NNCF {nncf}, "
                f"Python {platform.python_version()}")
    lines += ["", versions, f"Exported: {_now()} with segwb {__version__}"]
    return "\n".join(lines) + "\n"


def _accuracy_line(report: dict[str, Any]) -> str:
    comp = report["comparison"]
    if report["task"] == "semantic":
        return (f"Accuracy (parent as reference): mean Optimized Model Average Result "
                f"{_fmt(comp.get('mean_average_result'), '.4f')}, pixel agreement "
                f"{_fmt(comp.get('mean_pixel_agreement'), '.2%')}")
    return (f"Accuracy (parent as reference): {comp['matches']} of {comp['parent_detections']} parent detections "
            f"matched, F1 {_fmt(comp.get('f1'), '.4f')}")


def _fmt(value: float | None, spec: str) -> str:
    return "N/A" if value is None else format(value, spec)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _record(root: Path, step: str) -> dict[str, Any] | None:
    return _read_optional(root / "steps" / f"{step}.json")


def _read_optional(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        return read_json(path)
    except ValueError as exc:
        raise SegwbError(f"not readable JSON ({exc})", path) from None


# --- import --------------------------------------------------------------------------------------

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
        _relocate(project, dest.resolve(), manifest["dataset"], archive)
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


# --- paths after a move --------------------------------------------------------------------------

def _relocate(project: Path, new_root: Path, dataset: dict[str, Any], archive: Path) -> None:
    """Point the paths recorded in the project's JSON files at ``new_root``, where ``project`` will be.

    Readers open them as written: the viewer reads ``report.json``'s dataset path and ``predictions/images.json``,
    the dashboard shows the model paths. Project models become ``new_root/models/<role>/model.xml``; paths into
    the dataset become ``new_root/dataset/...`` when the archive carried it. Step records hold no paths (their
    keys are content hashes) and stay as they are, so every cached step is reused. The HTML pages that print
    these paths are written again from the updated JSON.
    """
    from .performance_html import write_performance_html
    from .report_html import write_report_html

    old_dataset = dataset["path"] if dataset["included"] else None

    def report(data: dict[str, Any]) -> dict[str, Any]:
        for role in ROLES:
            if role in data:
                data[role]["path"] = str(new_root / "models" / role / "model.xml")
        if old_dataset:
            data["dataset"]["path"] = str(new_root / DATASET)
            truth = data.get("ground_truth") or {}
            if truth.get("annotation_file"):
                truth["annotation_file"] = _into_dataset(truth["annotation_file"], old_dataset, new_root)
        return data

    def comparison(data: dict[str, Any]) -> dict[str, Any]:
        for side in ("a", "b"):
            data[side]["model"] = _project_model(data[side]["model"], new_root)
        return data

    def rewrite(path: Path, change: Callable[[Any], Any]) -> Any:
        """Apply ``change`` to the JSON file ``path`` if it exists; return what was written (None: no file)."""
        if not path.is_file():
            return None
        try:
            data = change(read_json(path))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            member = path.relative_to(project.parent).as_posix()
            raise SegwbError(f"member '{member}' is not a readable segwb record ({type(exc).__name__}: "
                             f"{first_line(exc)})", archive) from None
        write_json(path, data)
        return data

    written = rewrite(project / "report.json", report)
    if written is not None:
        try:
            write_report_html(written, project / "report.html")
        except (KeyError, TypeError, ValueError) as exc:  # a report from another segwb version, or crafted
            raise SegwbError(f"report.json cannot be rendered ({type(exc).__name__}: {first_line(exc)})", archive) from None
    if old_dataset:
        rewrite(project / "predictions" / "images.json",
                 lambda images: [{**i, "path": _into_dataset(i["path"], old_dataset, new_root)} for i in images])
    for cell in sorted((project / "explorer").glob("*.json")):
        rewrite(cell, lambda record: {**record, "model": _project_model(record["model"], new_root)})
    written = rewrite(project / "performance-comparison.json", comparison)
    if written is not None and (project / "performance-comparison.html").is_file():
        write_performance_html(written, project / "performance-comparison.html")


def _into_dataset(value: str, old_dataset: str, new_root: Path) -> str:
    """A path under the old dataset folder, moved under ``new_root/dataset``; any other path unchanged."""
    try:
        rel = PurePath(value).relative_to(old_dataset)
    except ValueError:
        return value
    return str(new_root / DATASET / rel)


def _project_model(value: str, new_root: Path) -> str:
    """A path ending in ``models/<role>/model.xml`` (a project's model), moved under ``new_root``."""
    tail = PurePath(value).parts[-3:]
    if len(tail) == 3 and tail[0] == "models" and tail[1] in ROLES and tail[2] == "model.xml":
        return str(new_root.joinpath(*tail))
    return value
