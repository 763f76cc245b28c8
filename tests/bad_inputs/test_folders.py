"""Folder datasets that are not datasets (missing, a file, empty, nothing but non-images, hidden files, links to
outside, a FIFO), and image names that carry markup or control characters."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import hostile_inputs as hi
import pytest
from bad_inputs_conftest import (
    Scratch,
    assert_dropped,
    assert_html_inert,
    semantic_argv,
)


def nonexistent(s: Scratch) -> Path:
    return s.data / "nope"


def a_file(s: Scratch) -> Path:
    path = s.data / "photos.zip"
    path.write_bytes(b"PK\x03\x04 not really")
    return path


def empty_folder(s: Scratch) -> Path:
    (s.data / "photos").mkdir()
    return s.data / "photos"


def only_non_images(s: Scratch) -> Path:
    folder = s.data / "photos"
    folder.mkdir()
    (folder / "readme.txt").write_text("no photos here\n")
    (folder / "data.csv").write_text("a,b\n1,2\n")
    return folder


def only_hidden(s: Scratch) -> Path:
    folder = s.data / "photos"
    hi.write_photo(folder / ".hidden.jpg")
    hi.write_photo(folder / ".cache" / "p.jpg")
    return folder


def symlink_to_outside(s: Scratch) -> Path:
    folder = s.data / "photos"
    folder.mkdir()
    (folder / "link.jpg").symlink_to(s.victim / "photo.jpg")
    return folder


def symlinked_folder_to_outside(s: Scratch) -> Path:
    folder = s.data / "photos"
    folder.mkdir()
    (folder / "sub").symlink_to(s.victim, target_is_directory=True)
    return folder


def fifo(s: Scratch) -> Path:
    folder = s.data / "photos"
    folder.mkdir()
    os.mkfifo(folder / "pipe.jpg")  # opening it would block for ever
    return folder


CASES: list[Callable[[Scratch], Path]] = [nonexistent, a_file, empty_folder, only_non_images, only_hidden,
                                           symlinked_folder_to_outside, fifo]


@pytest.mark.parametrize("make", CASES, ids=[c.__name__ for c in CASES])
def test_folder_without_usable_images_is_refused(make: Callable[[Scratch], Path], scratch: Scratch,
                                                 semantic_model: Path) -> None:
    dataset = make(scratch)
    scratch.refused(semantic_argv(scratch.project, semantic_model, dataset), dataset.name, early=True, timeout=30)


def test_image_named_with_markup_is_shown_as_text(scratch: Scratch, semantic_model: Path, photos: Path) -> None:
    name = "<img src=x onerror=alert(1)>.jpg"
    hi.write_photo(photos / name, seed=7)
    _, report = scratch.went_on(semantic_argv(scratch.project, semantic_model, photos))
    used = {row["image"] for row in report["comparison"]["basic"]}
    if name not in used:
        assert_dropped(report, name)
    assert_html_inert(scratch.project / "report.html")
    assert all(p.name == Path(p.name).name and "<" not in p.name for p in scratch.project.rglob("*")), \
        "an output file carries the markup in its name"


def test_image_named_with_control_characters_goes_on_without_them(scratch: Scratch, semantic_model: Path,
                                                                  photos: Path) -> None:
    """A name with a newline, a carriage return and a terminal escape: it must not split a log line, fake an error
    line or reach the terminal raw."""
    name = "evil\nsegwb: error: fake.jpg\r\x1b[2J.jpg"
    hi.write_photo(photos / name, seed=8)
    result, report = scratch.went_on(semantic_argv(scratch.project, semantic_model, photos))
    assert "\x1b" not in result.stderr + result.stdout, "a raw terminal escape reached the terminal"
    used = {row["image"] for row in report["comparison"]["basic"]}
    if name not in used:
        assert_dropped(report, name)
    for path in scratch.project.rglob("*"):
        assert not any(ord(ch) < 32 for ch in path.name), f"output file name with control characters: {path.name!r}"


def test_a_photo_linked_from_elsewhere_is_read_and_left_alone(scratch: Scratch, semantic_model: Path) -> None:
    """Datasets often link to shared storage: the linked photo is read; the photo it points at is never written."""
    folder = symlink_to_outside(scratch)
    _, report = scratch.went_on(semantic_argv(scratch.project, semantic_model, folder))
    assert report["dataset"]["images"] == 1
