"""Whether each zoo model is cached, can be downloaded, or is unavailable here, and why.

Each zoo entry names the files it keeps in the cache and the URL that tells whether it can be downloaded.
Reachability is probed only on request (a short HTTP HEAD), so listing the zoo never waits on the network.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from ..core.cache import cache_dir
from . import catalog as zoo
from .download import mirror_folder


@dataclass(frozen=True)
class ZooStatus:
    """One zoo model as the picker lists it."""

    name: str
    task: str
    summary: str
    licence: str
    state: str  # "cached" | "downloadable" | "unavailable"
    reason: str


def is_cached(name: str) -> bool:
    """True when the cache holds the files the model needs (no network needed to use it)."""
    root = cache_dir()
    return any(all((root / f).is_file() for f in files) for files in zoo.entry(name).cache_files)


def _in_mirror(name: str) -> Path | None:
    """The mirror folder when it holds every file the model downloads first (by the same relative names)."""
    folder = mirror_folder()
    if folder is None:
        return None
    return folder if all((folder / f).is_file() for f in zoo.entry(name).cache_files[-1]) else None


def probe(url: str, timeout: float = 3.0) -> str | None:
    """None when the host answers (any HTTP status, even 404, proves it is reachable), else why not."""
    request = urllib.request.Request(url, method="HEAD", headers={"User-Agent": "segwb"})
    try:
        with urllib.request.urlopen(request, timeout=timeout):
            return None
    except urllib.error.HTTPError as exc:
        exc.close()
        return None if exc.code < 500 else f"{urlparse(url).netloc} answered HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"cannot reach {urlparse(url).netloc} ({reason})"


def status(name: str, check_network: bool = False, timeout: float = 3.0,
           urls: dict[str, str] | None = None) -> ZooStatus:
    """The state of zoo model ``name``; with ``check_network`` an unreachable source makes it unavailable."""
    entry = zoo.entry(name)
    base = dict(name=name, task=entry.task, summary=entry.summary, licence=entry.licence)
    if is_cached(name):
        return ZooStatus(**base, state="cached", reason=f"in the cache {cache_dir()}")
    mirror = _in_mirror(name)
    if mirror is not None:
        return ZooStatus(**base, state="downloadable", reason=f"copied from the mirror folder {mirror} on first use")
    url = urls[name] if urls else entry.probe_url()
    host = urlparse(url).netloc
    if not check_network:
        return ZooStatus(**base, state="downloadable", reason=f"not cached; fetched from {host} on first use (not checked yet)")
    problem = probe(url, timeout)
    if problem:
        return ZooStatus(**base, state="unavailable", reason=f"not cached and {problem}; place its files in "
                                                             f"$SEGWB_ZOO_MIRROR or {cache_dir()}")
    return ZooStatus(**base, state="downloadable", reason=f"not cached; {host} is reachable, fetched on first use")


def zoo_status(check_network: bool = False, timeout: float = 3.0, urls: dict[str, str] | None = None) -> list[ZooStatus]:
    """Every zoo model's status, in the zoo's order."""
    return [status(name, check_network, timeout, urls) for name in zoo.ENTRIES]
