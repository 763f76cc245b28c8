"""Model-card values are typed data from a user's file: each wrong type or range is one line naming the field
and the card file; nothing downstream ever meets "abc" where a number belongs."""

from __future__ import annotations

from pathlib import Path

import pytest

from segwb.core.errors import ModelError
from segwb.io.model_card import build_card, read_card_file
from segwb.tasks import card_vocabulary

VOCAB = card_vocabulary()
GOOD = {"task": "semantic", "layout": "NCHW", "color_order": "RGB", "resize": "stretch", "mean": 0, "scale": 255,
        "input_size": [32, 32], "adapter": "class_map"}


@pytest.mark.parametrize(("field", "value", "words"), [
    ("scale", "abc", "one number or three"),
    ("scale", 0, "must not be 0"),
    ("scale", [1, 0, 1], "must not be 0"),
    ("scale", [1, 2], "one number or three"),
    ("mean", [1, 2, 3, 4], "one number or three"),
    ("mean", float("nan"), "one number or three"),
    ("mean", True, "one number or three"),
    ("pad_value", "zero", "must be a number"),
    ("pad_value", 300, "must be in [0, 255]"),
    ("threshold", "high", "must be a number"),
    ("threshold", 2, "must be in (0, 1]"),
    ("threshold", 0, "must be in (0, 1]"),
    ("nms_iou", -0.5, "must be in (0, 1]"),
    ("input_size", "big", "[height, width]"),
    ("input_size", [0, 10], "[height, width]"),
    ("input_size", [10.5, 10], "[height, width]"),
    ("input_size", [10, 10, 3], "[height, width]"),
    ("input_size", [100000, 10], "[height, width]"),
    ("labels", 5, "list of class names"),
    ("labels", "abc", "list of class names"),
    ("labels", ["a", None], "list of class names"),
    ("labels", ["a", ""], "list of class names"),
    ("labels", [["nested"]], "list of class names"),
    ("layout", 5, "must be one of NCHW, NHWC"),
    ("task", ["semantic"], "must be a word"),
    ("output", 5, "must be a tensor name"),
])
def test_a_bad_value_is_refused_by_field(field: str, value: object, words: str) -> None:
    with pytest.raises(ModelError, match=rf"'{field}'") as info:
        build_card({**GOOD, field: value}, {}, VOCAB)
    assert words in str(info.value) and "\n" not in str(info.value)


def test_good_values_are_kept() -> None:
    card = build_card({**GOOD, "scale": [1, 2, 3], "labels": ["a", 2], "threshold": 1}, {}, VOCAB)
    assert card.scale == (1.0, 2.0, 3.0) and card.labels == ("a", "2") and card.threshold == 1.0


@pytest.mark.parametrize(("content", "words"), [
    (b"scale: abc\n", "'scale'"),
    (b"labels_file: 42\n", "'labels_file' must be a file name"),
    (b"labels_file: missing.txt\n", "cannot read labels"),
    (b"task: semantic\nscale: \xff\xfe\n", "not UTF-8"),
    (b"- a\n- b\n", "YAML mapping"),
    (b"scale: [1,\n", "not readable YAML"),
    (b"colour_order: RGB\n", "unknown model card field"),
])
def test_a_bad_card_file_is_one_line_naming_it(tmp_path: Path, content: bytes, words: str) -> None:
    card = tmp_path / "net.yml"
    card.write_bytes(content)
    with pytest.raises(ModelError) as info:
        read_card_file(card)
    message = str(info.value)
    assert words in message and "\n" not in message and ("net.yml" in message or "missing.txt" in message)


@pytest.mark.parametrize(("content", "words"), [
    (b"a\n\xff\n", "not UTF-8"),
    (b"\n\n", "no class names"),
])
def test_a_bad_labels_file_is_one_line(tmp_path: Path, content: bytes, words: str) -> None:
    (tmp_path / "labels.txt").write_bytes(content)
    (tmp_path / "net.yml").write_text("labels_file: labels.txt\n")
    with pytest.raises(ModelError, match=words) as info:
        read_card_file(tmp_path / "net.yml")
    assert "labels.txt" in str(info.value)


def test_a_blank_line_in_labels_keeps_its_id_unnamed(tmp_path: Path) -> None:
    (tmp_path / "labels.txt").write_text("background\n\nperson\n")
    (tmp_path / "net.yml").write_text("labels_file: labels.txt\n")
    assert read_card_file(tmp_path / "net.yml")["labels"] == ["background", "class 1", "person"]


def test_a_field_given_twice_is_refused_merge_keys_are_not(tmp_path: Path) -> None:
    card = tmp_path / "net.yml"
    card.write_text("color_order: RGB\nscale: 255\ncolor_order: BGR\n")
    with pytest.raises(ModelError, match="field 'color_order' is given twice"):
        read_card_file(card)
    card.write_text("mean: &m [0, 0, 0]\nscale: *m\n")  # anchors are fine (a zero scale is refused for its value)
    with pytest.raises(ModelError, match="'scale' must not be 0"):
        read_card_file(card)
    card.write_text("? [a]\n: 1\n")
    with pytest.raises(ModelError, match="net.yml"):
        read_card_file(card)
