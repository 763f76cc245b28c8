"""segwb.inference.feed.InputFeed: inputs made ahead in order, kept for the next model within a budget, cancellable."""

from __future__ import annotations

import threading
from pathlib import Path
from unittest import mock

import numpy as np
import pytest

from segwb.core.errors import DatasetError
from segwb.inference import feed as feed_module
from segwb.inference.feed import InputFeed
from segwb.inference.preprocess import to_tensor
from segwb.io.images import load_image
from segwb.io.model_card import ModelCard

CARD = ModelCard(task="semantic", layout="NCHW", color_order="RGB", mean=(0, 0, 0), scale=(255, 255, 255),
                 resize="fit_pad", pad_value=0, input_size=(16, 24), adapter="class_map")


def _paths(photo_folder: Path) -> list[Path]:
    return sorted(p for p in photo_folder.rglob("*") if p.is_file())


def test_stream_gives_every_input_in_order_as_to_tensor_makes_it(photo_folder: Path) -> None:
    paths = _paths(photo_folder)
    got = list(InputFeed(paths, CARD).stream(np.float32))
    assert [index for index, _, _ in got] == list(range(len(paths)))
    for (index, tensor, geometry), path in zip(got, paths, strict=True):
        expected, expected_geometry = to_tensor(load_image(path), CARD, np.float32)
        np.testing.assert_array_equal(tensor, expected)
        assert geometry == expected_geometry


def test_second_stream_reuses_kept_inputs_within_the_budget(photo_folder: Path) -> None:
    """16x24x3 f32 inputs are 4608 bytes: a budget of two keeps the first two; the second model preprocesses
    only the other two, and a model with another input type preprocesses all four."""
    paths = _paths(photo_folder)
    feed = InputFeed(paths, CARD, keep_bytes=2 * 16 * 24 * 3 * 4)
    first = list(feed.stream(np.float32))
    with mock.patch.object(feed_module, "to_tensor", wraps=to_tensor) as made:
        second = list(feed.stream(np.float32))
        assert made.call_count == len(paths) - 2
        assert second[0][1] is first[0][1] and second[1][1] is first[1][1]
        list(feed.stream(np.uint8))
        assert made.call_count == 2 * len(paths) - 2


def test_cancel_stops_the_stream(photo_folder: Path) -> None:
    cancel = threading.Event()
    taken = []
    for index, _, _ in InputFeed(_paths(photo_folder), CARD).stream(np.float32, cancel):
        taken.append(index)
        cancel.set()
    assert taken == [0]


def test_unreadable_image_raises_its_error_naming_the_file(photo_folder: Path) -> None:
    bad = photo_folder / "sub" / "broken.jpg"
    bad.write_bytes(b"not a jpeg")
    with pytest.raises(DatasetError, match="broken.jpg"):
        list(InputFeed(_paths(photo_folder), CARD).stream(np.float32))
