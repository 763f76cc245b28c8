"""What a reader of user files left out or changed, by reason: every dataset layout and the COCO reader report
through one :class:`Drops`, so a partly bad dataset goes on and the report says what was dropped and why."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..core.paths import control_free

log = logging.getLogger("segwb")
NAME_LIMIT = 200  # characters of a name kept in the record: a file name from a JSON can be any length


class Drops:
    """Items dropped (or kept but changed) while reading ``source``, grouped by kind and reason."""

    EXAMPLES = 10

    def __init__(self, source: Path | str) -> None:
        self.source = source
        self._names: dict[tuple[str, str, str], list[str]] = {}

    def add(self, what: str, reason: str, name: str) -> None:
        """One ``what`` ("image", "annotation", "line", "file") named ``name`` dropped for ``reason``."""
        self._names.setdefault(("dropped", what, reason), []).append(control_free(name, NAME_LIMIT))

    def change(self, what: str, reason: str, name: str) -> None:
        """One ``what`` kept, but with a value replaced (``reason`` says which and by what)."""
        self._names.setdefault(("changed", what, reason), []).append(control_free(name, NAME_LIMIT))

    def records(self) -> list[dict[str, Any]]:
        """As a report records them (action, what, reason, count, the first names); logged once as warnings."""
        out = []
        for (action, what, reason), names in self._names.items():
            more = f" and {len(names) - self.EXAMPLES} more" if len(names) > self.EXAMPLES else ""
            log.warning("%s: %s %d %s%s (%s): %s%s", self.source, action, len(names), what,
                        "s" if len(names) > 1 else "", reason, ", ".join(names[:self.EXAMPLES]), more)
            out.append({"action": action, "what": what, "reason": reason, "count": len(names),
                        "examples": names[:self.EXAMPLES]})
        return out
