"""What a reader left out or changed: one record and one warning per reason, never silence."""

from __future__ import annotations

import logging

import pytest

from segwb.io.drops import Drops


def test_records_group_by_reason_with_counts_and_examples(caplog: pytest.LogCaptureFixture) -> None:
    drops = Drops("data/val.json")
    for n in range(12):
        drops.add("image", "not a readable image", f"{n}.jpg")
    drops.change("annotation", "invalid bbox replaced by the mask's", "id 3")
    with caplog.at_level(logging.WARNING, logger="segwb"):
        records = drops.records()
    assert records == [
        {"action": "dropped", "what": "image", "reason": "not a readable image", "count": 12,
         "examples": [f"{n}.jpg" for n in range(10)]},
        {"action": "changed", "what": "annotation", "reason": "invalid bbox replaced by the mask's", "count": 1,
         "examples": ["id 3"]},
    ]
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == ("data/val.json: dropped 12 images (not a readable image): 0.jpg, 1.jpg, 2.jpg, 3.jpg, 4.jpg, "
                        "5.jpg, 6.jpg, 7.jpg, 8.jpg, 9.jpg and 2 more")
    assert lines[1].startswith("data/val.json: changed 1 annotation (invalid bbox")


def test_names_are_one_line_and_bounded() -> None:
    drops = Drops("val.json")
    drops.add("image", "not found", "\x1b[31mred" + "x" * 500)
    name = drops.records()[0]["examples"][0]
    assert name.startswith("\\x1b[31mred") and len(name) == 200 and name.endswith("…")
