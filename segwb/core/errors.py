"""User-facing errors: one line that names the file and the problem."""

from __future__ import annotations

from pathlib import Path


class SegwbError(Exception):
    """An error the user can act on; the CLI prints it on one line and exits with code 2."""

    def __init__(self, message: str, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        super().__init__(f"{path}: {message}" if path is not None else message)


class ModelError(SegwbError):
    """The model file, its format or its description (model card) is unusable."""


class DatasetError(SegwbError):
    """The dataset folder, an image or an annotation is unusable."""


class DownloadError(SegwbError):
    """A zoo file could not be fetched or failed its checksum."""


class Cancelled(SegwbError):
    """The user cancelled a long step; nothing half-written was left behind."""


def first_line(exc: BaseException, limit: int = 200) -> str:
    """The most informative single line of an exception message (OpenVINO's are long)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    useful = [ln for ln in lines if not ln.startswith(("Check ", "Exception from src", "Traceback", "File "))]
    text = (useful or lines or [type(exc).__name__])[0]
    return text if len(text) <= limit else text[: limit - 1] + "…"
