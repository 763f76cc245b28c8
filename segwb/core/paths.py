"""Names from users' files and project paths: the one place where a name that came from a file becomes a path.

A dataset names its images (a COCO ``file_name``, a folder's sub-paths, a VOC id); those names may be absolute,
climb with ``..``, hold separators, control characters or markup, or be longer than a file system allows. Every
output file is named by a key from :class:`Keys` instead, and every project path is joined by :func:`inside`,
which refuses anything that would resolve outside its root. :func:`name_problem` is the rule for relative paths a
project or an archive records; :func:`control_free` makes any text one printable line.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath

from .errors import CONTROL, SegwbError, control_free  # noqa: F401 - control_free re-exported for names

# Bytes of UTF-8. A key becomes "<key>.png" and, while written, ".<key>.png.<8 random>.tmp": 20 bytes more, so 200
# keeps every name under the 255-byte limit of common file systems (ext4, NTFS, APFS) for any script.
MAX_KEY_BYTES = 200
_UNSAFE = re.compile(r"[^\w.\-]+")  # keeps Unicode letters and digits, '.', '-', '_'
_SEPARATOR = "__"  # stands for a folder separator in a key: "sub/a.jpg" -> "sub__a"
_RESERVED = {"con", "prn", "aux", "nul", *(f"{d}{n}" for d in ("com", "lpt") for n in range(1, 10))}  # Windows


class OutsideProject(SegwbError):
    """A path would resolve outside the folder it must stay in."""


def name_parts(name: str) -> list[str]:
    """The folder parts of a name as a dataset wrote it (POSIX or Windows separators; drive, root, ``.`` and ``..``
    dropped)."""
    parts = PureWindowsPath(name).parts if "\\" in name else PurePosixPath(name).parts
    return [p for p in parts if p not in ("", ".", "..", "/", "\\") and not p.endswith((":", ":\\"))]


class Keys:
    """Output-file keys for the images of one dataset: safe as a file name, unique (also ignoring case, as macOS and
    Windows file systems do), in order of arrival."""

    def __init__(self) -> None:
        self._folded: set[str] = set()

    def new(self, name: str) -> str:
        """A key for ``name``: folder parts joined by ``__``, the suffix dropped (kept when two images differ only by
        it), characters other than letters, digits, ``.``, ``-``, ``_`` as ``_``, control characters and a leading
        dot removed, at most :data:`MAX_KEY_BYTES` (cut with a hash of the whole); ``-2``, ``-3``... when taken."""
        parts = name_parts(unicodedata.normalize("NFC", name)) or ["image"]
        stem = PurePosixPath(parts[-1])
        parts[-1] = stem.stem if stem.suffix else stem.name
        candidates = [_clean(_SEPARATOR.join(parts)), _clean(_SEPARATOR.join(parts[:-1] + [stem.name]))]
        key = next((c for c in candidates if c.casefold() not in self._folded), None)
        n = 2
        while key is None:
            if (attempt := f"{candidates[0]}-{n}").casefold() not in self._folded:
                key = attempt
            n += 1
        self._folded.add(key.casefold())
        return key


def _clean(text: str) -> str:
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")  # control and format characters
    text = _UNSAFE.sub("_", text).lstrip(".-") or "image"
    if text.split(".")[0].casefold() in _RESERVED:
        text = f"_{text}"
    if len(text.encode()) > MAX_KEY_BYTES:
        digest = hashlib.sha256(text.encode()).hexdigest()[:10]
        cut = text.encode()[: MAX_KEY_BYTES - 11].decode("utf-8", errors="ignore")  # never half a character
        text = f"{cut}-{digest}"
    return text


def inside(root: str | Path, *parts: str | PurePath) -> Path:
    """``root / parts``, refused (:class:`OutsideProject`) if it would resolve outside ``root``."""
    root = Path(root)
    path = root.joinpath(*parts)
    if not is_within(path, root):
        raise OutsideProject(f"refused: {PurePath(*parts)} would be outside {root}")
    return path


def is_within(path: str | Path, root: str | Path) -> bool:
    """Whether ``path`` (symbolic links followed; a link loop counts as outside) is ``root`` or inside it."""
    try:
        Path(path).resolve().relative_to(Path(root).resolve())
    except (ValueError, OSError, RuntimeError):  # RuntimeError: a symbolic link loop (Python < 3.13)
        return False
    return True


def overlapping(a: str | Path, b: str | Path) -> bool:
    """Whether one folder is, or contains, the other."""
    return is_within(a, b) or is_within(b, a)


def name_problem(name: object) -> str | None:
    """Why ``name`` is not a safe relative POSIX path inside a folder, or None when it is.

    Refused: anything but non-empty text, absolute paths (POSIX or Windows, drives included), ``..``, empty and ``.``
    components, backslashes, and control or format characters (which also hide what a name really is).
    """
    if not isinstance(name, str):
        return f"is {type(name).__name__}, not a path"
    if not name:
        return "is empty"
    if any(unicodedata.category(ch) in CONTROL for ch in name):
        return "has control characters"
    if name.startswith("/") or PureWindowsPath(name).drive or PureWindowsPath(name).is_absolute():
        return "is an absolute path"
    parts = name.split("/")
    if ".." in parts:
        return "climbs out with '..'"
    if "\\" in name:
        return "has a backslash"
    if any(p in ("", ".") for p in parts) or PurePosixPath(name).as_posix() != name:
        return "has an empty or '.' component"
    return None
