"""Model files that are not models, or not models segwb can feed: each refused on one line naming the file."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import hostile_inputs as hi
import pytest
from bad_inputs_conftest import (
    Scratch,
    assert_clean_failure,
    assert_went_on,
    instance_argv,
    semantic_argv,
)

Case = Callable[[Scratch], tuple[Path, list]]


def empty_xml(s: Scratch):
    p = s.models / "model.xml"
    p.write_bytes(b"")
    return p, ["model.xml"]


def xml_without_bin(s: Scratch):
    xml = hi.write_semantic(s.models)
    xml.with_suffix(".bin").unlink()
    return xml, [("tiny_class_map.bin", "tiny_class_map.xml")]


def truncated_bin(s: Scratch):
    xml = hi.write_semantic(s.models)
    weights = xml.with_suffix(".bin")
    weights.write_bytes(weights.read_bytes()[:100])
    return xml, [("tiny_class_map.bin", "tiny_class_map.xml")]


def onnx_random_bytes(s: Scratch):
    p = s.models / "model.onnx"
    p.write_bytes(os.urandom(4096))
    return p, ["model.onnx"]


def txt_as_model(s: Scratch):
    p = s.models / "model.txt"
    p.write_text("this is not a model\n")
    return p, ["model.txt"]


def directory(s: Scratch):
    folder = s.models / "some_folder"
    folder.mkdir()
    (folder / "readme.md").write_text("no model in here\n")
    return folder, ["some_folder"]


def nonexistent(s: Scratch):
    return s.models / "missing.xml", ["missing.xml"]


def bin_given(s: Scratch):
    return hi.write_semantic(s.models).with_suffix(".bin"), ["tiny_class_map.bin"]


def xml_not_xml(s: Scratch):
    p = s.models / "garbage.xml"
    p.write_bytes(b"\x00\x01 not <xml at all & \xff\xfe")
    return p, ["garbage.xml"]


def xml_html_root(s: Scratch):
    p = s.models / "page.xml"
    p.write_text("<html><body>an HTML page saved as .xml</body></html>")
    return p, ["page.xml"]


def xml_bad_offset(s: Scratch):
    """An IR whose weight offsets are not numbers."""
    xml = hi.write_semantic(s.models)
    text = xml.read_text()
    assert 'offset="' in text
    xml.write_text(text.replace('offset="', 'offset="abc', 1))
    return xml, ["tiny_class_map.xml"]


def xml_negative_size(s: Scratch):
    """An IR whose constant claims a negative byte size."""
    xml = hi.write_semantic(s.models)
    text = xml.read_text()
    assert ' size="' in text
    xml.write_text(text.replace(' size="', ' size="-', 1))
    return xml, [("tiny_class_map.xml", "tiny_class_map.bin")]


def two_inputs(s: Scratch):
    return hi.write_two_inputs(s.models), ["two_inputs.xml"]


def dynamic_rank(s: Scratch):
    # With no card field giving the layout, a dynamic-rank input cannot be fed as an image: refused.
    return hi.write_dynamic_rank(s.models), ["dynamic_rank.xml"]


def a_device(s: Scratch):
    # /dev/zero read as a model (or hashed as one) never ends: refused as what it is.
    link = s.models / "zero.xml"
    link.symlink_to("/dev/zero")
    return link, ["zero.xml"]


CASES = [empty_xml, xml_without_bin, truncated_bin, onnx_random_bytes, txt_as_model, directory, nonexistent, bin_given,
         xml_not_xml, xml_html_root, xml_bad_offset, xml_negative_size, two_inputs, dynamic_rank, a_device]


@pytest.mark.parametrize("case", CASES, ids=[c.__name__ for c in CASES])
def test_bad_model_file_is_refused(case: Case, scratch: Scratch, photos: Path) -> None:
    model, names = case(scratch)
    scratch.refused(semantic_argv(scratch.project, model, photos), *names, early=True)


@pytest.mark.parametrize("task", ["semantic", "instance"])
def test_unnamed_outputs_work_or_fail_cleanly(task: str, scratch: Scratch, photos: Path) -> None:
    """IR outputs without tensor names (some exporters leave them unnamed): either the run works, or one clean line."""
    if task == "semantic":
        model = hi.write_unnamed_semantic(scratch.models)
        argv = semantic_argv(scratch.project, model, photos)
    else:
        model = hi.write_unnamed_yolo(scratch.models)
        argv = instance_argv(scratch.project, model, hi.coco_root(scratch.data))
    result = scratch.run(argv)
    if result.code == 0:
        assert_went_on(result)
        assert (scratch.project / "report.json").is_file()
    else:
        assert_clean_failure(result.code, result.stderr, [model.name])
