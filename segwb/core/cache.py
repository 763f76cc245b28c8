"""Where segwb caches what it can make again: downloads (the zoo) and OpenVINO's compiled blobs."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """The download cache: ``$SEGWB_CACHE`` or ``~/.cache/segwb``, created if missing."""
    root = os.environ.get("SEGWB_CACHE")
    path = Path(root).expanduser() if root else Path.home() / ".cache" / "segwb"
    path.mkdir(parents=True, exist_ok=True)
    return path


def compiled_cache_dir() -> Path:
    """OpenVINO's model cache, beside the downloads: ``$SEGWB_CACHE/compiled`` (default ~/.cache/segwb)."""
    return cache_dir() / "compiled"
