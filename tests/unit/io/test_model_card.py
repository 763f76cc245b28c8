"""segwb.io.model_card: finding the card next to a model, validating fields, merging, asking for what is missing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from segwb.core.errors import ModelError
from segwb.io.model_card import (
    ModelCard,
    build_card,
    find_card_file,
    gather_fields,
    read_card_file,
    write_card,
)
from segwb.tasks import card_vocabulary, load_card

# What the graph of a typical u8 NHWC class-map model lets segwb infer.
INFERRED: dict[str, Any] = {"task": "semantic", "layout": "NHWC", "input_size": [64, 64], "adapter": "class_map",
                            "mean": 0, "scale": 1}

VOCAB = card_vocabulary()


def _model(folder: Path, stem: str = "net") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    xml = folder / f"{stem}.xml"
    xml.write_text("<net/>")
    return xml


def test_card_named_after_model_stem(tmp_path: Path) -> None:
    """<stem>.yml next to <stem>.xml is found and read."""
    xml = _model(tmp_path)
    (tmp_path / "net.yml").write_text("color_order: BGR\nresize: letterbox\n")
    assert find_card_file(xml) == tmp_path / "net.yml"
    assert gather_fields(xml, None, {}) == {"color_order": "BGR", "resize": "letterbox"}


def test_generic_model_card_yml(tmp_path: Path) -> None:
    """model-card.yml is found when there is no <stem>.yml; <stem>.yml wins when both exist."""
    xml = _model(tmp_path)
    (tmp_path / "model-card.yml").write_text("color_order: RGB\n")
    assert find_card_file(xml) == tmp_path / "model-card.yml"
    (tmp_path / "net.yml").write_text("color_order: BGR\n")
    assert find_card_file(xml) == tmp_path / "net.yml"


def test_no_card_file(tmp_path: Path) -> None:
    """Nothing next to the model: no card file, no fields."""
    xml = _model(tmp_path)
    assert find_card_file(xml) is None
    assert gather_fields(xml, None, {}) == {}


def test_unknown_field_is_refused_by_name(tmp_path: Path) -> None:
    """A typo ("colour_order") is an error naming the unknown field, not silently ignored."""
    card = tmp_path / "net.yml"
    card.write_text("colour_order: RGB\nresize: stretch\n")
    with pytest.raises(ModelError, match="unknown model card field.*colour_order") as info:
        read_card_file(card)
    assert "color_order" in str(info.value)  # the known fields are listed as a hint


def test_non_mapping_yaml_is_refused(tmp_path: Path) -> None:
    """A YAML list is not a card."""
    card = tmp_path / "net.yml"
    card.write_text("- RGB\n- stretch\n")
    with pytest.raises(ModelError, match="mapping"):
        read_card_file(card)


def test_labels_file_is_read_relative_to_card(tmp_path: Path) -> None:
    """labels_file: names.txt loads one label per line (trailing blank lines dropped) into labels."""
    (tmp_path / "names.txt").write_text("background\nperson\n\n")
    card = tmp_path / "net.yml"
    card.write_text("labels_file: names.txt\n")
    assert read_card_file(card) == {"labels": ["background", "person"]}


def test_labels_txt_next_to_model_is_the_lowest_priority(tmp_path: Path) -> None:
    """labels.txt beside the model is used, but the card's labels replace it."""
    xml = _model(tmp_path)
    (tmp_path / "labels.txt").write_text("a\nb\n")
    assert gather_fields(xml, None, {})["labels"] == ["a", "b"]
    (tmp_path / "net.yml").write_text("labels: [x, y, z]\n")
    assert gather_fields(xml, None, {})["labels"] == ["x", "y", "z"]


def test_overrides_beat_the_file_and_none_is_no_override(tmp_path: Path) -> None:
    """CLI overrides win over the card file; an override of None (flag not given) keeps the file's value."""
    xml = _model(tmp_path)
    (tmp_path / "net.yml").write_text("color_order: BGR\nresize: letterbox\n")
    fields = gather_fields(xml, None, {"color_order": "RGB", "resize": None})
    assert fields == {"color_order": "RGB", "resize": "letterbox"}


def test_explicit_card_path_is_used(tmp_path: Path) -> None:
    """--model-card elsewhere is read instead of looking next to the model."""
    xml = _model(tmp_path / "m")
    (tmp_path / "m" / "net.yml").write_text("color_order: BGR\n")
    other = tmp_path / "other.yml"
    other.write_text("color_order: RGB\n")
    assert gather_fields(xml, other, {})["color_order"] == "RGB"


def test_missing_color_order_is_asked_for_by_name() -> None:
    """The graph cannot tell RGB from BGR: the error names the field and the CLI flag."""
    with pytest.raises(ModelError) as info:
        build_card({"resize": "stretch"}, INFERRED, VOCAB)
    message = str(info.value)
    assert "'color_order'" in message and "--color-order" in message


def test_float_input_without_mean_and_scale_names_both() -> None:
    """A float input without normalisation: the error names 'mean' and 'scale'."""
    inferred = {k: v for k, v in INFERRED.items() if k not in ("mean", "scale")}
    with pytest.raises(ModelError) as info:
        build_card({"color_order": "RGB", "resize": "stretch"}, inferred, VOCAB)
    assert "'mean'" in str(info.value) and "'scale'" in str(info.value)


def test_only_missing_scale_is_named() -> None:
    """Only the missing one of the two is named."""
    inferred = {k: v for k, v in INFERRED.items() if k != "scale"}
    with pytest.raises(ModelError) as info:
        build_card({"color_order": "RGB", "resize": "stretch"}, inferred, VOCAB)
    assert "'scale'" in str(info.value) and "'mean'" not in str(info.value)


def test_invalid_choice_lists_the_valid_ones() -> None:
    """resize: crop is not a mode: the message names the field, the valid modes and the bad value."""
    with pytest.raises(ModelError, match=r"'resize' must be one of stretch, fit_pad, letterbox, got 'crop'"):
        build_card({"color_order": "RGB", "resize": "crop"}, INFERRED, VOCAB)


def test_choices_are_case_insensitive() -> None:
    """rgb and FIT_PAD are normalised to RGB and fit_pad."""
    card = build_card({"color_order": "rgb", "resize": "FIT_PAD"}, INFERRED, VOCAB)
    assert card.color_order == "RGB" and card.resize == "fit_pad"


def test_one_number_mean_expands_to_three() -> None:
    """mean: 127.5 means the same for each channel; three numbers are kept per channel."""
    card = build_card({"color_order": "RGB", "resize": "stretch", "mean": 127.5, "scale": [58.4, 57.1, 57.4]}, INFERRED, VOCAB)
    assert card.mean == (127.5, 127.5, 127.5)
    assert card.scale == (58.4, 57.1, 57.4)


def test_two_number_mean_is_refused() -> None:
    """Two numbers are neither one nor three."""
    with pytest.raises(ModelError, match="'mean' needs one number or three"):
        build_card({"color_order": "RGB", "resize": "stretch", "mean": [1, 2]}, INFERRED, VOCAB)


def test_defaults_pad_value_and_threshold() -> None:
    """letterbox pads with 114 (YOLO convention), other modes with 0; threshold defaults to 0.5."""
    assert build_card({"color_order": "RGB", "resize": "letterbox"}, INFERRED, VOCAB).pad_value == 114.0
    card = build_card({"color_order": "RGB", "resize": "fit_pad"}, INFERRED, VOCAB)
    assert card.pad_value == 0.0 and card.threshold == 0.5


def test_given_fields_beat_inferred_ones() -> None:
    """A card's input_size replaces the graph's (e.g. a dynamic-shape model run at a chosen size)."""
    card = build_card({"color_order": "RGB", "resize": "stretch", "input_size": [32, 48]}, INFERRED, VOCAB)
    assert card.input_size == (32, 48)


def test_scores_adapter_needs_output_layout() -> None:
    """A score output whose layout is unknown: asked for as 'output_layout' / --output-layout."""
    with pytest.raises(ModelError, match="'output_layout'.*--output-layout"):
        build_card({"color_order": "RGB", "resize": "stretch", "adapter": "scores"}, INFERRED, VOCAB)


def test_write_and_load_round_trip(tmp_path: Path) -> None:
    """write_card then load_card gives back an equal card (tuples, None and labels included)."""
    card = ModelCard(task="semantic", layout="NCHW", color_order="BGR", mean=(123.675, 116.28, 103.53),
                     scale=(58.395, 57.12, 57.375), resize="letterbox", pad_value=114.0, input_size=(512, 256),
                     adapter="scores", output_layout="NCHW", output="logits", threshold=0.4,
                     labels=("background", "person", "yes", "null", "1"))
    path = tmp_path / "model-card.yml"
    write_card(card, path)
    assert load_card(path) == card


def test_round_trip_class_map_card_without_optional_fields(tmp_path: Path) -> None:
    """A class-map card with output_layout/output None and no labels survives the round trip."""
    card = build_card({"color_order": "RGB", "resize": "fit_pad"}, INFERRED, VOCAB)
    assert card.output_layout is None and card.labels == () and card.num_classes is None
    path = tmp_path / "net.yml"
    write_card(card, path)
    assert load_card(path) == card
