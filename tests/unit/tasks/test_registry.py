"""The task registry: one Task per kind of segmentation, looked up by name, with the vocabulary model cards use."""

from __future__ import annotations

import pytest

from segwb.core.errors import ModelError
from segwb.tasks import REGISTRY, card_vocabulary, get, names
from segwb.tasks.base import MODES, Task, percent, value


def test_the_registry_holds_both_tutorials() -> None:
    assert names() == ("semantic", "instance")
    assert all(isinstance(task, Task) and task.name == name for name, task in REGISTRY.items())
    assert card_vocabulary() == {"semantic": ("class_map", "scores"), "instance": ("mask_rcnn", "torchvision_mask_rcnn", "yolact", "yolo_e2e", "yolo_raw")}


def test_an_unknown_task_is_one_line() -> None:
    with pytest.raises(ModelError, match="unknown task 'panoptic'; segwb knows semantic, instance"):
        get("panoptic")


@pytest.mark.parametrize("name", ["semantic", "instance"])
def test_each_task_is_complete(name: str) -> None:
    """Tables in both modes open sorted on one of their own columns; the tutorial model is a zoo entry."""
    from segwb.zoo.catalog import ENTRIES

    task = get(name)
    assert set(task.tables) == set(MODES)
    for table in task.tables.values():
        assert table.columns[0].key == "image" and table.sort_key in [c.key for c in table.columns]
    assert all(entry in ENTRIES and ENTRIES[entry].task == name for entry in task.zoo_defaults)
    assert task.runtime_module.startswith(f"tasks/{name}/")


def test_number_formats() -> None:
    assert (percent(None), percent(0.98792), value(None), value(0.875268), value(2, 0)) == \
        ("N/A", "98.79 %", "N/A", "0.8753", "2")
