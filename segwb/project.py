"""A project folder per run, and step caching keyed by model hash + dataset hash + settings."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .storage import read_json, write_json


class Project:
    """The files of one run: models, steps, predictions, overlays, report."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    @property
    def parent_xml(self) -> Path:
        return self.root / "models" / "parent" / "model.xml"

    @property
    def optimized_xml(self) -> Path:
        return self.root / "models" / "optimized" / "model.xml"

    def predictions(self, role: str) -> Path:
        """Class maps of ``role`` ("parent" or "optimized")."""
        return self.root / "predictions" / role

    @property
    def overlays(self) -> Path:
        return self.root / "overlays"

    def overlay(self, key: str) -> Path:
        """The overlay picture of the image with ``key``: a JPEG, as photos with tinted masks compress 4x
        better and encode 5x faster than as PNG (96 deeplabv3 overlays: 0.19 s and 14.5 MB against 1.07 s
        and 58.7 MB; chroma kept at full resolution, so one-pixel disagreements stay crisp)."""
        return self.overlays / f"{key}.jpg"

    @property
    def report_json(self) -> Path:
        return self.root / "report.json"

    @property
    def report_html(self) -> Path:
        return self.root / "report.html"

    def step_record(self, step: str) -> Path:
        return self.root / "steps" / f"{step}.json"

    def cached(self, step: str, inputs: dict[str, Any], compute: Callable[[], dict[str, Any]],
               outputs: tuple[Path, ...] = ()) -> dict[str, Any]:
        """Return the stored result of ``step`` if its inputs and outputs are unchanged, else compute it.

        The record is written after the outputs, so an interrupted step is simply run again. The returned
        dict carries ``cached`` (reused or not) and ``key`` (for steps that depend on this one).
        """
        canonical = json.dumps(inputs, sort_keys=True, default=str)  # paths etc. become strings, in key and record alike
        key = hashlib.sha256(canonical.encode()).hexdigest()
        inputs = json.loads(canonical)
        record = self.step_record(step)
        if record.is_file() and all(p.exists() for p in outputs):
            stored = read_json(record)
            if stored.get("key") == key:
                return {**stored["result"], "cached": True, "key": key}
        result = compute()
        write_json(record, {"step": step, "key": key, "inputs": inputs, "result": result})
        return {**result, "cached": False, "key": key}
