"""Output keys and project joins: a name from a user's file never becomes a path outside the project."""

from __future__ import annotations

from pathlib import Path

import pytest

from segwb.core.paths import MAX_KEY_BYTES, Keys, OutsideProject, control_free, inside, is_within, name_problem, overlapping


@pytest.mark.parametrize(("name", "key"), [
    ("photo.jpg", "photo"),
    ("sub/photo.jpg", "sub__photo"),
    ("/somewhere/photo.jpg", "somewhere__photo"),
    ("../../x/photo.jpg", "x__photo"),
    ("C:\\Users\\me\\p.jpg", "Users__me__p"),
    ("<img src=x onerror=alert(1)>.jpg", "_img_src_x_onerror_alert_1_"),
    ("\x01\x1b[31mred.jpg", "_31mred"),
    (".hidden.jpg", "hidden"),
    ("..", "image"),
    ("", "image"),
    ("café/Ünïcode.png", "café__Ünïcode"),
])
def test_keys(name: str, key: str) -> None:
    assert Keys().new(name) == key


def test_keys_are_unique_whatever_the_case() -> None:
    """Names that would share a file, also on case-insensitive file systems, get distinct keys."""
    allocator = Keys()
    keys = [allocator.new(n) for n in ("a.jpg", "a.png", "A.jpg", "a/b.jpg", "a__b.jpg", "a?.jpg", "a!.jpg")]
    assert keys == ["a", "a.png", "A.jpg", "a__b", "a__b.jpg", "a_", "a_.jpg"]
    assert len({k.casefold() for k in keys}) == len(keys)


def test_long_names_are_cut_by_bytes_with_a_hash(tmp_path: Path) -> None:
    """Also for scripts of 3 bytes per character: every key is a file name this file system takes."""
    allocator = Keys()
    for name in ("x" * 300, "行" * 300):
        one, two = allocator.new(name + "1.jpg"), allocator.new(name + "2.jpg")
        assert one != two and len(one.encode()) <= MAX_KEY_BYTES and len(two.encode()) <= MAX_KEY_BYTES
        (tmp_path / f".{one}.png.abcdefgh.tmp").write_bytes(b"")  # the longest name segwb makes of a key


def test_windows_device_names_are_not_keys() -> None:
    assert Keys().new("CON.jpg") == "_CON" and Keys().new("nul.png") == "_nul"


def test_many_keys_are_fast() -> None:
    """The allocator keeps its case-folded set: 20,000 names are not 20,000 set rebuilds."""
    allocator = Keys()
    assert len({allocator.new(f"img{n % 5000}.jpg") for n in range(20_000)}) == 20_000


def test_inside_refuses_what_leaves_the_root(tmp_path: Path) -> None:
    assert inside(tmp_path, "overlays", "a.jpg") == tmp_path / "overlays" / "a.jpg"
    for bad in ("../x.jpg", "/etc/passwd", "a/../../x"):
        with pytest.raises(OutsideProject, match="outside"):
            inside(tmp_path, bad)


def test_inside_follows_symbolic_links(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "root" / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(OutsideProject):
        inside(tmp_path / "root", "link", "a.jpg")


def test_overlapping(tmp_path: Path) -> None:
    assert overlapping(tmp_path, tmp_path / "a") and overlapping(tmp_path / "a", tmp_path)
    assert not overlapping(tmp_path / "a", tmp_path / "b")
    assert is_within(tmp_path / "a" / ".." / "a", tmp_path / "a")


def test_collisions_past_the_suffix_are_numbered() -> None:
    allocator = Keys()
    assert [allocator.new(n) for n in ("a?.jpg", "a!.jpg", "a*.jpg")] == ["a_", "a_.jpg", "a_-2"]


@pytest.mark.parametrize(("name", "problem"), [
    ("a/b.jpg", None), ("/etc/passwd", "is an absolute path"), ("C:/x", "is an absolute path"),
    ("a/../b", "climbs out with '..'"), ("a\\b", "has a backslash"), ("a//b", "has an empty or '.' component"),
    ("a\u202eb", "has control characters"), (5, "is int, not a path"), ("", "is empty"),
])
def test_name_problem(name: object, problem: str | None) -> None:
    assert name_problem(name) == problem


def test_control_free() -> None:
    assert control_free("a\nb\x1b") == "a\\nb\\x1b" and control_free("abcdef", 4) == "abc…"


def test_a_link_loop_is_outside(tmp_path: Path) -> None:
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    assert not is_within(tmp_path / "loop", tmp_path)
