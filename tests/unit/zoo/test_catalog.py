"""The zoo catalog: entries by name, and a tutorial's model with its fallbacks when the first cannot be fetched."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from segwb.core.errors import DownloadError, ModelError
from segwb.zoo import catalog


def _offline(cancel: object = None) -> Path:
    raise DownloadError("cannot reach the host")


def _here(path: Path):
    return lambda cancel=None: path


def test_unknown_name_lists_the_zoo() -> None:
    with pytest.raises(ModelError, match="neither a model file nor a zoo model; zoo models: deeplabv3, "):
        catalog.entry("nope")


def test_first_available_model_and_why(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    entries = catalog.ENTRIES
    monkeypatch.setitem(entries, "deeplabv3", dataclasses.replace(entries["deeplabv3"], obtain=_here(tmp_path / "d.xml")))
    name, path, card, note = catalog.obtain_first(("deeplabv3", "selfie-segmentation"))
    assert (name, path, note) == ("deeplabv3", tmp_path / "d.xml", "model: deeplabv3 (the tutorial's model)")
    assert card["adapter"] == "class_map" and card is not entries["deeplabv3"].card  # a copy: callers may change it

    monkeypatch.setitem(entries, "deeplabv3", dataclasses.replace(entries["deeplabv3"], obtain=_offline))
    monkeypatch.setitem(entries, "selfie-segmentation",
                        dataclasses.replace(entries["selfie-segmentation"], obtain=_here(tmp_path / "s.tflite")))
    name, _, _, note = catalog.obtain_first(("deeplabv3", "selfie-segmentation"))
    assert name == "selfie-segmentation"
    assert note == "model: selfie-segmentation, because the tutorial's deeplabv3 could not be fetched (cannot reach the host)"


def test_none_available_says_how_to_point_at_a_model(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("deeplabv3", "selfie-segmentation"):
        monkeypatch.setitem(catalog.ENTRIES, name, dataclasses.replace(catalog.ENTRIES[name], obtain=_offline))
    with pytest.raises(DownloadError, match=r"deeplabv3 could not be fetched \(cannot reach the host\); nor its fallback "
                                            r"selfie-segmentation \(cannot reach the host\); point at a model with --model PATH"):
        catalog.obtain_first(("deeplabv3", "selfie-segmentation"))
