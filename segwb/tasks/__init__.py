"""Tasks: what segwb does differently per kind of segmentation, behind one interface (:class:`~.base.Task`), and
the registry below. Adding a task is one sub-package and one line in :data:`REGISTRY`; nothing else in segwb
compares task names. Built on :mod:`segwb.inference`, :mod:`segwb.io` and :mod:`segwb.core`.
"""

from __future__ import annotations

from pathlib import Path

from ..core.errors import ModelError
from ..io import model_card
from ..io.model_card import ModelCard
from .base import Task
from .instance.task import InstanceTask
from .semantic.task import SemanticTask

REGISTRY: dict[str, Task] = {task.name: task for task in (SemanticTask(), InstanceTask())}
DEFAULT = next(iter(REGISTRY))  # the task a run is of when none is named (the first tutorial)


def get(name: str) -> Task:
    """The task called ``name``; an unknown name is a one-line error listing the known ones."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ModelError(f"unknown task {name!r}; segwb knows {', '.join(REGISTRY)}") from None


def names() -> tuple[str, ...]:
    return tuple(REGISTRY)


def card_vocabulary() -> dict[str, tuple[str, ...]]:
    """Every task with its model-card adapters, which a card is built against."""
    return {name: task.adapters for name, task in REGISTRY.items()}


def load_card(path: Path) -> ModelCard:
    """A card that segwb wrote next to an imported IR."""
    return model_card.load_card(path, card_vocabulary())


def of_card(card: ModelCard) -> Task:
    """The task a card describes."""
    return get(card.task)
