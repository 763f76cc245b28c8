"""The project archive's format, shared by export and import: one ``.tar.gz`` with a single top folder, named
after the project::

    <name>/description.txt   the project, its best throughput (latency, batch, streams) and the tool versions
    <name>/archive.json      manifest: format, dataset, and every other file with its size and sha256
    <name>/models/ steps/ predictions/ overlays/ explorer/ report.json report.html ...   the project's files
    <name>/dataset/          optional: the images and annotations the report used, at their dataset paths

A project records the paths inside it relative to its folder, so an archive is the project's files as they are.
"""

from __future__ import annotations

FORMAT = "segwb-project"
FORMAT_VERSION = 1
MANIFEST = "archive.json"
DESCRIPTION = "description.txt"
