"""User uploads from the dashboard: size limits, safe file names, zip archives of image folders, dataset summary.

Everything lands in a staging folder first and is renamed into place only when complete, so a rejected or
interrupted upload leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ..core.errors import DatasetError, ModelError
from .datasets import open_dataset
from .images import IMAGE_SUFFIXES

MB = 1 << 20
DEFAULT_LIMIT = 200 * MB  # per upload; the dashboard can lower it with SEGWB_UPLOAD_LIMIT_MB
MAX_MEMBERS = 20_000
MAX_RATIO = 200  # uncompressed / compressed per member: more is a zip bomb, not photos
# Files a dataset archive may hold: images, VOC lists and masks, COCO annotations, YOLO data.yaml and labels; the rest is skipped.
DATASET_SUFFIXES = IMAGE_SUFFIXES + (".txt", ".json", ".yaml", ".yml")
MODEL_SUFFIXES = (".xml", ".onnx", ".tflite", ".pb")
MODEL_SIDECARS = (".bin", ".yml", ".yaml", ".txt")


class UploadError(DatasetError):
    """An uploaded file or archive was refused; nothing was written."""


STAGING_PREFIXES = (".upload-", ".zip-")  # what an upload in progress, or killed, leaves in its root


def sweep_staging(root: Path, older_than: float = 3600.0) -> int:
    """Remove upload staging folders under ``root`` left by a killed kernel (older than ``older_than`` seconds, so
    another kernel's upload in progress is left alone); returns how many."""
    removed, now = 0, time.time()
    for folder in (root, *(p for p in root.iterdir() if p.is_dir() and not p.is_symlink())) if root.is_dir() else ():
        for entry in folder.iterdir():
            if entry.name.startswith(STAGING_PREFIXES) and entry.is_dir() and not entry.is_symlink() \
                    and now - entry.stat().st_mtime > older_than:
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
    return removed


def upload_limit() -> int:
    """Bytes allowed per upload: ``$SEGWB_UPLOAD_LIMIT_MB`` or 200 MB."""
    text = os.environ.get("SEGWB_UPLOAD_LIMIT_MB")
    return int(float(text) * MB) if text else DEFAULT_LIMIT


def safe_name(name: str) -> str:
    """The last path component of ``name`` with only letters, digits, ``._-`` kept; never empty or hidden."""
    base = re.split(r"[\\/]", name)[-1]
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._") or "upload"
    return cleaned[:120]


def _check_size(name: str, size: int, limit: int) -> None:
    if size > limit:
        raise UploadError(f"upload is {size / MB:.1f} MB, over the {limit / MB:.0f} MB limit", name)
    if size == 0:
        raise UploadError("upload is empty (0 bytes)", name)


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(hashlib.sha256(p).digest())
    return h.hexdigest()[:12]


def _store(dest_root: Path, folder_name: str, names: list[str], files: list[tuple[str, bytes]]) -> Path:
    """Write the uploaded files under ``dest_root/folder_name`` through a staging folder, all or nothing."""
    dest_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".upload-", dir=dest_root))
    try:
        for name, (_, data) in zip(names, files):
            (staging / name).write_bytes(data)
        return _publish(staging, dest_root / folder_name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def check_sizes(files: list[dict[str, Any]], limit: int) -> None:
    """Refuse any FileUpload entry (``name``, ``size``) over ``limit`` bytes, before its bytes are copied."""
    for f in files:
        if f["size"] > limit:
            raise UploadError(f"upload is {f['size'] / (1 << 20):.1f} MB, over the {limit / (1 << 20):.0f} MB limit", f["name"])


def _publish(staging: Path, final: Path) -> Path:
    """Move a finished staging folder into place (an identical earlier upload is simply reused)."""
    if final.exists():
        shutil.rmtree(staging, ignore_errors=True)
        return final
    os.replace(staging, final)
    return final


def save_model_upload(files: list[tuple[str, bytes]], dest_root: Path, limit: int | None = None) -> Path:
    """Store uploaded model files (e.g. ``model.xml`` + ``model.bin`` + a card) in one folder; return the model file.

    Raises :class:`ModelError` when none of the files is a model, :class:`UploadError` when one is too large.
    """
    limit = upload_limit() if limit is None else limit
    if not files:
        raise UploadError("no file was uploaded", "model upload")
    for name, data in files:
        _check_size(name, len(data), limit)
    names = [safe_name(n) for n, _ in files]
    models = [n for n in names if Path(n).suffix.lower() in MODEL_SUFFIXES]
    if not models:
        raise ModelError(f"not a model file: segwb reads {', '.join(MODEL_SUFFIXES)} (an .xml with its .bin)",
                         ", ".join(names))
    folder = _store(dest_root, f"{Path(models[0]).stem}-{_digest(*(d for _, d in files))}", names, files)
    return folder / models[0]


def _member_path(info: zipfile.ZipInfo, archive: str) -> PurePosixPath | None:
    """The member's safe relative path, None for entries to skip; traversal and links are refused."""
    name = info.filename.replace("\\", "/")
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or re.match(r"^[A-Za-z]:", name):
        raise UploadError(f"archive member {info.filename!r} points outside the archive", archive)
    if stat.S_ISLNK(info.external_attr >> 16):
        raise UploadError(f"archive member {info.filename!r} is a symbolic link", archive)
    if info.is_dir() or any(p.startswith(".") or p == "__MACOSX" for p in path.parts):
        return None
    if path.suffix.lower() not in DATASET_SUFFIXES:
        return None
    return PurePosixPath(*[safe_name(p) for p in path.parts])


def extract_dataset_zip(archive_name: str, data: bytes, dest_root: Path, limit: int | None = None) -> Path:
    """Unpack a zip of images (a folder, a VOC or a COCO root) safely; return the dataset root folder.

    Limits: the upload size, 5x that unpacked, 20,000 members, a compression ratio of 200. Only images,
    ``.txt`` lists and ``.json`` annotations are kept. A single top folder in the archive becomes the root.
    """
    limit = upload_limit() if limit is None else limit
    name = safe_name(archive_name)
    _check_size(name, len(data), limit)
    dest_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".zip-", dir=dest_root) as tmp:
        blob = Path(tmp) / "upload.zip"
        blob.write_bytes(data)
        try:
            archive = zipfile.ZipFile(blob)
        except zipfile.BadZipFile:
            raise UploadError("not a zip archive", name) from None
        with archive:
            infos = archive.infolist()
            if len(infos) > MAX_MEMBERS:
                raise UploadError(f"archive has {len(infos)} entries, more than {MAX_MEMBERS}", name)
            wanted = [(info, rel) for info in infos if (rel := _member_path(info, name)) is not None]
            total = sum(info.file_size for info, _ in wanted)
            if total > 5 * limit:
                raise UploadError(f"archive unpacks to {total / MB:.0f} MB, over {5 * limit / MB:.0f} MB", name)
            for info, _ in wanted:
                if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
                    raise UploadError(f"archive member {info.filename!r} is compressed {info.file_size // info.compress_size}:1; "
                                      "refusing a possible zip bomb", name)
            if not any(rel.suffix.lower() in IMAGE_SUFFIXES for _, rel in wanted):
                raise UploadError(f"archive holds no images ({', '.join(IMAGE_SUFFIXES)})", name)
            staging = Path(tmp) / "content"
            for info, rel in wanted:
                out = staging.joinpath(*rel.parts)
                out.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
        final = dest_root / f"{Path(name).stem}-{_digest(data)}"
        published = _publish(staging, final)
    entries = [p for p in published.iterdir() if not p.name.startswith(".")]
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else published


@dataclass(frozen=True)
class DatasetSummary:
    """What the picker shows about a dataset."""

    path: str
    layout: str  # "embedded", "images", or the LAYOUT of one of segwb.io.datasets.LAYOUTS
    images: int
    annotated: bool
    dropped: list[dict[str, Any]]
    note: str

    def line(self) -> str:
        """One sentence for the user."""
        names = {"embedded": "embedded sample photos", "images": "image folder (no annotations)",
                 "voc": "Pascal VOC segmentation", "coco": "COCO instances", "yolo": "Ultralytics YOLO-seg",
                 "cityscapes": "Cityscapes (19 classes)", "image_masks": "images and class masks"}
        text = f"{names.get(self.layout, self.layout)}: {self.images} images"
        if self.dropped:
            text += "; " + "; ".join(f"{d['action']} {d['count']} {d['what']}{'s' * (d['count'] > 1)} ({d['reason']})"
                                     for d in self.dropped)
        return text + (f"; {self.note}" if self.note else "")


def summarize_dataset(source: str | Path, split: str | None = None) -> DatasetSummary:
    """Open a dataset with :func:`segwb.io.datasets.open_dataset` and describe its layout; errors are one line."""
    dataset = open_dataset(source, split)
    note = ""
    if dataset.coco is not None:  # COCO, or instances another layout converted (YOLO)
        file = dataset.annotation_file
        note = f"annotations {Path(file).name if file else 'found'}: COCO mask AP is reported too"
    elif dataset.labels:  # a layout with class masks (VOC)
        note = "class masks found: ground-truth mean IoU is reported too" if dataset.annotated else "no masks found"
    return DatasetSummary(str(dataset.root), dataset.layout, len(dataset), dataset.annotated, list(dataset.dropped), note)


def save_image_uploads(files: list[tuple[str, bytes]], dest_root: Path, limit: int | None = None) -> Path:
    """Store uploaded image files as one image-folder dataset; return the folder.

    A file that is not an image (by its suffix) is refused with its name, and nothing is kept.
    """
    limit = upload_limit() if limit is None else limit
    if not files:
        raise UploadError("no file was uploaded", "dataset upload")
    if sum(len(d) for _, d in files) > limit:
        raise UploadError(f"uploads total {sum(len(d) for _, d in files) / MB:.1f} MB, over the {limit / MB:.0f} MB limit",
                          ", ".join(safe_name(n) for n, _ in files))
    names = [safe_name(n) for n, _ in files]
    for name, (_, data) in zip(names, files):
        _check_size(name, len(data), limit)
        if Path(name).suffix.lower() not in IMAGE_SUFFIXES:
            raise UploadError(f"not an image or a zip archive; upload {', '.join(IMAGE_SUFFIXES)} files or a .zip", name)
    if len(set(names)) != len(names):
        raise UploadError("two uploaded files have the same name", ", ".join(names))
    return _store(dest_root, f"images-{_digest(*(d for _, d in files))}", names, files)
