"""Atomic writes and content hashes: results on disk survive a crash or a cancel."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_UMASK = os.umask(0)
os.umask(_UMASK)


def _temporary_beside(dest: Path) -> tuple[int, Path]:
    """A new hidden file in ``dest``'s folder (made if missing), opened: its descriptor and path."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; results should be as readable as any other file
    return fd, Path(tmp)


@contextmanager
def atomic_path(dest: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``dest``; rename it over ``dest`` only if the block succeeds."""
    dest = Path(dest)
    fd, tmp_path = _temporary_beside(dest)
    os.close(fd)
    try:
        yield tmp_path
        os.replace(tmp_path, dest)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_bytes(dest: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``dest`` atomically."""
    with atomic_path(dest) as tmp:
        tmp.write_bytes(data)
    return Path(dest)


def write_text(dest: str | Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``dest`` atomically."""
    return write_bytes(dest, text.encode("utf-8"))


def write_json(dest: str | Path, obj: Any) -> Path:
    """Write ``obj`` as indented JSON atomically."""
    return write_text(dest, _dumps(obj) + "\n")


def _dumps(obj: Any) -> str:
    """The JSON text of results: indented, NaN refused."""
    return json.dumps(obj, indent=2, sort_keys=False, allow_nan=False)


class JsonListWriter:
    """A JSON list written part by part, the same bytes :func:`write_json` gives the whole list, so that a long run
    holds none of it: the parts go to a temporary file beside ``dest``, renamed over it by :meth:`close`."""

    def __init__(self, dest: str | Path) -> None:
        self.dest = Path(dest)
        fd, self._tmp = _temporary_beside(self.dest)
        self._file, self.count = os.fdopen(fd, "w", encoding="utf-8"), 0
        self._file.write("[")

    def add(self, items: list[Any]) -> None:
        """Append ``items`` to the list."""
        if items:  # json.dumps(items, indent=2) is "[" + "\n  item,\n  item" + "\n]": the middle is the part
            self._file.write(("," if self.count else "") + _dumps(items)[1:-2])
            self.count += len(items)

    def close(self) -> Path:
        """Finish the list and put it in place."""
        self._file.write("\n]\n" if self.count else "]\n")
        self._file.close()
        os.replace(self._tmp, self.dest)
        return self.dest

    def discard(self) -> None:
        """Remove what was written; ``dest`` is left as it was."""
        self._file.close()
        self._tmp.unlink(missing_ok=True)


def read_json(path: str | Path) -> Any:
    """Read a JSON file written by :func:`write_json`."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def file_digest(path: str | Path, algorithm: str = "sha256") -> str:
    """Hex digest of a file's content, read in chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def files_digest(paths: Iterable[str | Path], root: str | Path | None = None) -> str:
    """One sha256 over several files' relative names and contents (order-independent)."""
    h = hashlib.sha256()
    entries = sorted((str(Path(p).relative_to(root)) if root else str(p), Path(p)) for p in paths)
    for name, path in entries:
        h.update(name.encode())
        h.update(file_digest(path).encode())
    return h.hexdigest()
