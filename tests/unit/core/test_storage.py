"""segwb.core.storage: atomic writes keep the old content on failure; JSON round trips, NaN refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from segwb.core.storage import JsonListWriter, atomic_path, read_json, write_json, write_text


def test_atomic_path_keeps_old_content_when_block_raises(tmp_path: Path) -> None:
    """A failing write leaves the previous file untouched and no .tmp file behind."""
    dest = tmp_path / "result.json"
    dest.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(dest) as tmp:
            tmp.write_text("half-written")
            raise RuntimeError("crash mid-write")
    assert dest.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.json"]


def test_atomic_path_replaces_on_success(tmp_path: Path) -> None:
    """On success the new content replaces the old, parents are created, and no temp file remains."""
    dest = tmp_path / "a" / "b.txt"
    write_text(dest, "one")
    write_text(dest, "two")
    assert dest.read_text() == "two"
    assert [p.name for p in dest.parent.iterdir()] == ["b.txt"]


def test_write_json_round_trip(tmp_path: Path) -> None:
    """write_json / read_json keep nested dicts, lists, None, floats and unicode."""
    obj = {"name": "café", "iou": [0.5, 2 / 3], "nested": {"none": None, "n": 3}, "ok": True}
    path = write_json(tmp_path / "x.json", obj)
    assert read_json(path) == obj


def test_write_json_refuses_nan(tmp_path: Path) -> None:
    """NaN is not JSON: refused rather than written as an invalid token, and nothing is left behind."""
    with pytest.raises(ValueError):
        write_json(tmp_path / "x.json", {"iou": float("nan")})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("parts", [[], [[]], [[{"a": 1}]], [[{"a": 1}, {"b": [1.5, "x\"y"]}], [], [{"c": {"d": None}}]]])
def test_json_list_writer_writes_what_write_json_writes(tmp_path, parts):
    writer = JsonListWriter(tmp_path / "parts.json")
    for part in parts:
        writer.add(part)
    assert not (tmp_path / "parts.json").exists()  # nothing in place before close
    writer.close()
    write_json(tmp_path / "whole.json", [item for part in parts for item in part])
    assert (tmp_path / "parts.json").read_bytes() == (tmp_path / "whole.json").read_bytes()
    assert writer.count == sum(map(len, parts))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["parts.json", "whole.json"]


def test_json_list_writer_discard_leaves_the_old_file(tmp_path):
    write_json(tmp_path / "p.json", [{"old": True}])
    writer = JsonListWriter(tmp_path / "p.json")
    writer.add([{"new": True}])
    writer.discard()
    assert read_json(tmp_path / "p.json") == [{"old": True}]
    assert [p.name for p in tmp_path.iterdir()] == ["p.json"]
