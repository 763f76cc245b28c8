"""The card's preprocessing fields pad_position and interpolation: defaults that keep older cards' behaviour, values
checked in one line, and a round trip through model-card.yml."""

from __future__ import annotations

from pathlib import Path

import pytest

from segwb.core.errors import ModelError
from segwb.io.model_card import build_card, write_card
from segwb.tasks import card_vocabulary, load_card

VOCAB = card_vocabulary()
BASE = dict(task="semantic", layout="NHWC", color_order="RGB", mean=0, scale=1, input_size=[64, 64],
            adapter="class_map")

# model-card.yml as segwb wrote it in projects before these fields existed
OLD_CARD = """task: semantic
layout: NHWC
color_order: RGB
mean: [0.0, 0.0, 0.0]
scale: [1.0, 1.0, 1.0]
resize: {resize}
pad_value: 114.0
input_size: [64, 64]
adapter: class_map
output_layout: null
output: null
threshold: 0.5
nms_iou: 0.7
labels: []
"""


@pytest.mark.parametrize(("mode", "position"), [("fit_pad", "top_left"), ("letterbox", "center"),
                                                 ("stretch", "top_left")])
def test_old_cards_load_with_their_placement(tmp_path: Path, mode: str, position: str) -> None:
    path = tmp_path / "model-card.yml"
    path.write_text(OLD_CARD.format(resize=mode))
    card = load_card(path)
    assert (card.resize, card.placement, card.interpolation, card.pad_value) == (mode, position, "linear", 114)
    assert card.pad_position is None  # unset stays unset: the mode's own placement, also after a change of mode


def test_fields_given_win_and_round_trip(tmp_path: Path) -> None:
    card = build_card({**BASE, "resize": "letterbox", "pad_position": "TOP_LEFT", "interpolation": "Pillow_Lanczos"},
                      {}, VOCAB)
    assert (card.pad_position, card.interpolation, card.pad_value) == ("top_left", "pillow_lanczos", 114)
    write_card(card, tmp_path / "model-card.yml")
    assert load_card(tmp_path / "model-card.yml") == card


@pytest.mark.parametrize(("field", "value", "message"), [
    ("pad_position", "bottom", "'pad_position' must be one of top_left, center, got 'bottom'"),
    ("interpolation", "bilinear", "'interpolation' must be one of linear, nearest, cubic, area, pillow_bilinear, "),
    ("interpolation", 3, "'interpolation' must be one of"),
])
def test_bad_values_are_one_line(field: str, value: object, message: str) -> None:
    with pytest.raises(ModelError, match=message) as caught:
        build_card({**BASE, "resize": "fit_pad", field: value}, {}, VOCAB)
    assert "\n" not in str(caught.value)
