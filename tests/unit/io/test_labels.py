"""Class labels: one rule to compare names, label files, and the COCO-80 set."""

from __future__ import annotations

from pathlib import Path

import pytest

from segwb.core.errors import ModelError
from segwb.io.labels import (
    COCO80,
    COCO80_IDS,
    VOC_LABELS,
    is_coco80,
    normalise,
    read_labels,
)


def test_names_compare_by_letters_and_digits() -> None:
    assert normalise("Potted Plant") == normalise("potted_plant") == normalise("pottedplant") == "pottedplant"
    assert normalise("TV/Monitor") == normalise("tvmonitor") and normalise("cell-phone 2") == "cellphone2"


def test_label_files(tmp_path: Path) -> None:
    path = tmp_path / "labels.txt"
    path.write_text(" background\ncat \n\n")
    assert read_labels(path) == ["background", "cat"]
    with pytest.raises(ModelError, match="cannot read labels"):
        read_labels(tmp_path / "missing.txt")


def test_known_label_sets() -> None:
    assert len(VOC_LABELS) == 21 and len(COCO80) == len(COCO80_IDS) == 80 and COCO80_IDS[-1] == 90
    assert is_coco80(tuple(n.upper() for n in COCO80)) and not is_coco80(VOC_LABELS)


def test_voc_and_coco_names_of_the_same_classes_match() -> None:
    from segwb.io.labels import normalise

    assert [normalise(n) for n in ("aeroplane", "Motorbike", "sofa", "tv/monitor")] == \
        [normalise(n) for n in ("airplane", "motorcycle", "couch", "TV")]
    assert normalise("car") != normalise("bus")
