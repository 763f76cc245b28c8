"""User-facing errors: one line that names the file and the problem."""

from __future__ import annotations

import unicodedata
from pathlib import Path


class SegwbError(Exception):
    """An error the user can act on; the CLI prints it on one line and exits with code 2."""

    def __init__(self, message: str, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.reason = message  # without the path, for lists of what was dropped
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
    if text.endswith(":") and len(useful) > 1:  # OpenVINO's "FrontEnd API failed with GeneralFailure:" + the cause
        text = f"{text} {useful[1]}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


OPENVINO_PREFIXES = ("Exception from src/", "Check '")  # how OpenVINO's C++ errors begin (as a plain RuntimeError)


def describe(exc: BaseException) -> tuple[str, bool]:
    """One line for any failure, and whether it was expected (bad input, the file system, a model OpenVINO refuses)
    rather than a defect of segwb. The CLI and the dashboard both say failures through this; a newline or an escape
    sequence in a file name is shown escaped, so the line stays one line."""
    text, expected = _describe(exc)
    return control_free(text), expected


def _describe(exc: BaseException) -> tuple[str, bool]:
    if isinstance(exc, SegwbError):
        return str(exc), True
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text (byte {exc.start}: {exc.object[exc.start:exc.start + 1]!r})", True
    if isinstance(exc, OSError):
        where = exc.filename if exc.filename is not None else ""
        text = exc.strerror or first_line(exc)
        return (f"{where}: {text}" if where else text), True
    if isinstance(exc, MemoryError):
        return "out of memory (try fewer or smaller images, or --max-megapixels)", True
    if type(exc).__module__.startswith(("yaml", "json")) or type(exc).__name__ in ("JSONDecodeError", "YAMLError"):
        return f"unreadable {type(exc).__module__.split('.')[0].upper()}: {first_line(exc)}", True
    if isinstance(exc, RuntimeError) and str(exc).startswith(OPENVINO_PREFIXES):
        return f"OpenVINO: {first_line(exc)}", True
    return f"internal error ({type(exc).__name__}: {first_line(exc)}); run with --debug for the traceback", False


CONTROL = ("Cc", "Cf", "Cs", "Co")  # control, format (bidi overrides, zero-width), surrogate, private-use


def control_free(text: object, limit: int | None = None) -> str:
    """``text`` as one line of plain text: control and format characters (newlines, escape sequences, bidi
    overrides) shown as ``\\xNN``/``\\uNNNN`` escapes; cut at ``limit`` characters when given."""
    text = str(text)
    if any(unicodedata.category(ch) in CONTROL for ch in text):
        text = "".join(ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch) in CONTROL else ch
                       for ch in text)
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"
