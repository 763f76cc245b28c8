"""The project archive's format, shared by export and import: one ``.tar.gz`` with a single top folder, named
after the project::

    <name>/description.txt   the project, its best throughput (latency, batch, streams) and the tool versions
    <name>/archive.json      manifest: format, dataset, and every other file with its size and sha256
    <name>/models/ steps/ predictions/ overlays/ explorer/ report.json report.html ...   the project's files
    <name>/dataset/          optional: the images and annotations the report used, at their dataset paths

A project records the paths inside it relative to its folder, so an archive is the project's files as they are.
The one path a project records outside itself, ``report.json``'s ``dataset.path`` (the user's dataset folder), is
rewritten on import (see :mod:`segwb.ship.archive_import`): to :data:`DATASET_COPY` when the archive carries the
dataset, else to :data:`NOT_INCLUDED`.

Every member name, and every path a project records, obeys :func:`name_problem`: export refuses to write a name
that import would refuse.
"""

from __future__ import annotations

from ..core.paths import control_free, name_problem
from ..core.project import DATASET_COPY

FORMAT = "segwb-project"
FORMAT_VERSION = 1
MANIFEST = "archive.json"
DESCRIPTION = "description.txt"
# ``dataset.path`` of a project imported from an archive without its dataset: not a folder anywhere (relative, so
# never read as an absolute place; a name no dataset folder has), and said as such wherever a report shows it.
NOT_INCLUDED = "(dataset not included in the archive)"

__all__ = [
    "DATASET_COPY",
    "DESCRIPTION",
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST",
    "NOT_INCLUDED",
    "control_free",
    "name_problem",
]


def kind(value: object) -> str:
    """What a JSON value is, in words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
