"""The embedded photos: a few pictures that ship inside scikit-image and matplotlib, listed with their licences in
``embedded-photos.json`` (the repository's ``data/`` folder, installed as ``segwb.data``)."""

from __future__ import annotations

import importlib.util
import json
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from ...core.errors import DatasetError
from .base import Dataset, Sample

NAME = LAYOUT = "embedded"
MANIFEST = "embedded-photos.json"


def manifest_path() -> str:
    """Where the installed manifest is (for messages)."""
    return str(files("segwb.data").joinpath(MANIFEST))


def manifest() -> dict:
    """The list of embedded photos: name, package, resource inside it, licence."""
    return json.loads(files("segwb.data").joinpath(MANIFEST).read_text(encoding="utf-8"))


def open_embedded() -> Dataset:
    """The photos of the manifest, read from the packages that ship them."""
    samples = []
    for photo in manifest()["photos"]:
        spec = importlib.util.find_spec(photo["package"])
        if spec is None or spec.origin is None:
            raise DatasetError(f"embedded photo {photo['name']} needs the package {photo['package']}, which is not "
                               "installed", manifest_path())
        path = Path(spec.origin).parent / photo["resource"]
        if not path.is_file():
            raise DatasetError(f"embedded photo {photo['name']} not found in package {photo['package']} at {path}",
                               manifest_path())
        samples.append(Sample(photo["name"], Path(photo["name"]).stem, path))
    return Dataset(NAME, LAYOUT, samples)


@lru_cache(maxsize=1)
def _photos() -> dict[str, Path]:
    try:
        return {s.name: s.path for s in open_embedded().samples}
    except DatasetError:  # a package is missing: none of them is found (the viewer then draws on grey)
        return {}


def photo(name: str) -> Path | None:
    """Where the embedded photo ``name`` is on this machine (None when it is not one of them, or not installed)."""
    return _photos().get(name)
