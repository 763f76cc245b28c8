"""YAML files of users (model cards, Ultralytics' ``data.yaml`` and ``metadata.yaml``): read as one mapping, with
every failure one line naming the file."""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml

from ..core.errors import SegwbError, first_line

MAX_YAML_BYTES = 1 << 20


class UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key given twice in one mapping (the last would win without a word)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # "<<: *anchor": merged keys may be overridden, by design
                continue
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                continue  # refused by SafeLoader's own mapping construction below, as before
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"field {key!r} is given twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


def read_mapping(path: Path, error: type[SegwbError], what: str = "", shape: str = "",
                 allow_empty: bool = False, unique_keys: bool = False) -> dict[Any, Any]:
    """The YAML mapping in ``path``; otherwise ``error`` naming it, its message starting with ``what`` (e.g. "model
    card") and, for a file that is no mapping, ending with ``shape`` (what the mapping should hold)."""
    prefix = f"{what} " if what else ""
    try:
        if path.stat().st_size > MAX_YAML_BYTES:
            raise error(f"{prefix}is over {MAX_YAML_BYTES // 1024} KB", path)
        loader = UniqueKeyLoader if unique_keys else yaml.SafeLoader
        data = yaml.load(path.read_text(encoding="utf-8-sig"), Loader=loader)  # noqa: S506 - a safe loader
    except UnicodeDecodeError as exc:
        raise error(f"{prefix}is not UTF-8 text (byte {exc.start})", path) from exc
    except (OSError, yaml.YAMLError) as exc:
        raise error(f"{prefix}is not readable YAML ({first_line(exc)})", path) from exc
    if data is None and allow_empty:
        return {}
    if not isinstance(data, dict):
        raise error(f"{prefix}must be a YAML mapping{shape}", path)
    return data


def indexed_names(value: Any) -> Any:
    """Ultralytics' ``names``: a mapping 0..N-1 -> name as a list; anything else as it is (for its reader to check)."""
    if isinstance(value, dict) and all(isinstance(k, int) and not isinstance(k, bool) for k in value) \
            and sorted(value) == list(range(len(value))):
        return [value[i] for i in range(len(value))]
    return value
