"""The overview of a report: the distribution of the per-image result, and the per-class ground-truth results of the
parent and the optimized model side by side. Pure data (no drawing): the dashboard's bqplot charts and report.html's
pictures are both drawn from it, and clicking a bin filters the table with :func:`bin_filter`.

Bins: ``bins`` equal bins over 0..1; bin ``i`` holds ``edges[i] <= value < edges[i + 1]``, the last one also
``value == 1.0`` (``edges[-1]``). Values are floats of the report's rows, so a value exactly on an edge belongs to the
bin that starts there; a missing value (None, NaN) is in no bin and counted as ``missing``; one outside 0..1 is
counted as ``outside``.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

DEFAULT_BINS = 20


@dataclass(frozen=True)
class Measure:
    """A per-image result in 0..1 drawn from a Basic row: the value of ``numerator``, or its ratio to
    ``denominator`` (None when that is 0). ``key`` is the row key the table filters on (the column itself, or a key
    :func:`with_values` adds); ``missing`` says in words why a row has no value."""

    key: str
    title: str
    numerator: str
    denominator: str | None = None
    missing: str = "no value"

    @property
    def needs(self) -> tuple[str, ...]:
        """The Basic columns the value is computed from."""
        return (self.numerator,) if self.denominator is None else (self.numerator, self.denominator)

    def value(self, row: dict[str, Any]) -> float | None:
        """The row's value, None when it has none (N/A, NaN, or a zero denominator)."""
        top = row.get(self.numerator)
        if self.denominator is not None:
            bottom = row.get(self.denominator)
            top = None if _missing(top) or _missing(bottom) or not bottom else top / bottom
        return None if _missing(top) else float(top)


# The per-image results a report's Basic rows can hold, found by their columns (the first that fits).
MEASURES = (
    Measure("average_result", "Optimized Model Average Result", "average_result",
            missing="the Average Result is N/A"),
    Measure("matches_over_parent", "Matches / B (of the parent's detections)", "matches", "parent_detections",
            missing="B = 0: the parent detected nothing"),
)
# Per-class ground-truth results of ``ground_truth[role]``: the key and the metric's name.
PER_CLASS_KEYS = (("per_class_iou", "IoU"), ("per_class_mask_ap", "mask AP"))


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def measure_for(column_keys: Iterable[str]) -> Measure | None:
    """The per-image result of a table with the Basic columns ``column_keys``, or None when none fits."""
    keys = set(column_keys)
    return next((m for m in MEASURES if set(m.needs) <= keys), None)


def bin_edges(bins: int = DEFAULT_BINS, low: float = 0.0, high: float = 1.0) -> tuple[float, ...]:
    """``bins + 1`` equal steps from ``low`` to ``high``, each edge computed directly (no drift): 0.05 x 3 is 0.15."""
    if bins < 1 or not high > low:
        raise ValueError(f"need at least one bin over a non-empty range, got {bins} over {low}..{high}")
    return tuple(low + (high - low) * i / bins for i in range(bins)) + (high,)


def bin_index(value: float | None, edges: Sequence[float]) -> int | None:
    """The bin of ``value`` (``edges[i] <= value < edges[i + 1]``; the top edge in the last bin), None when missing
    or outside the edges."""
    if _missing(value) or value < edges[0] or value > edges[-1]:  # type: ignore[operator]
        return None
    return min(bisect_right(edges, value) - 1, len(edges) - 2)


def bin_filter(edges: Sequence[float], index: int) -> tuple[float, float]:
    """Bin ``index`` as the table's inclusive (min, max) filter: the max is the float just below the next edge
    (the top edge itself for the last bin), so the table shows exactly the images :func:`images_in_bin` names."""
    if not 0 <= index < len(edges) - 1:
        raise IndexError(f"no bin {index}: there are {len(edges) - 1}")
    high = edges[index + 1]
    return edges[index], high if index == len(edges) - 2 else math.nextafter(high, -math.inf)


def bin_label(edges: Sequence[float], index: int, digits: int = 2) -> str:
    """"[0.90, 0.95)" (the last bin closed: "[0.95, 1.00]")."""
    close = "]" if index == len(edges) - 2 else ")"
    return f"[{edges[index]:.{digits}f}, {edges[index + 1]:.{digits}f}{close}"


@dataclass(frozen=True)
class Histogram:
    """How many images fall in each bin of ``edges``, and how many have no value or one outside the edges."""

    measure: Measure
    edges: tuple[float, ...]
    counts: tuple[int, ...]
    missing: int = 0
    outside: int = 0

    @property
    def total(self) -> int:
        """The images counted in a bin."""
        return sum(self.counts)

    def label(self, index: int) -> str:
        return bin_label(self.edges, index)

    def note(self) -> str:
        """One line on what the bins leave out ("" when nothing)."""
        parts = []
        if self.missing:
            parts.append(f"{self.missing} image{'' if self.missing == 1 else 's'} without a value "
                         f"({self.measure.missing}) not in any bin")
        if self.outside:
            parts.append(f"{self.outside} outside {self.edges[0]:g}..{self.edges[-1]:g}")
        return "; ".join(parts) + ("." if parts else "")


def histogram(rows: Iterable[dict[str, Any]], measure: Measure, bins: int = DEFAULT_BINS) -> Histogram:
    """The distribution of ``measure`` over the Basic ``rows`` (one per image)."""
    edges = bin_edges(bins)
    counts = [0] * bins
    missing = outside = 0
    for row in rows:
        value = measure.value(row)
        index = bin_index(value, edges)
        if index is not None:
            counts[index] += 1
        elif value is None:
            missing += 1
        else:
            outside += 1
    return Histogram(measure, edges, tuple(counts), missing, outside)


def images_in_bin(rows: Iterable[dict[str, Any]], measure: Measure, edges: Sequence[float], index: int) -> list[str]:
    """The images of the Basic ``rows`` in bin ``index``, in row order."""
    return [row["image"] for row in rows if bin_index(measure.value(row), edges) == index]


def image_values(rows: Iterable[dict[str, Any]], measure: Measure) -> dict[str, float | None]:
    """Each image's value of ``measure``, from the Basic ``rows``."""
    return {row["image"]: measure.value(row) for row in rows}


def with_values(rows: list[dict[str, Any]], values: dict[str, float | None], key: str) -> list[dict[str, Any]]:
    """``rows`` (Basic or Advanced) with each image's value under ``key`` where they lack it, so the table's
    numeric filter on ``key`` selects whole images; changes the given rows (the table's own copies) in place."""
    for row in rows:
        if key not in row:
            row[key] = values.get(row.get("image"))
    return rows


@dataclass(frozen=True)
class ClassPair:
    """One class's ground-truth result (0..1) for the parent and the optimized model; None where undefined."""

    name: str
    parent: float | None
    optimized: float | None

    @property
    def drop(self) -> float | None:
        """Parent minus optimized (positive: INT8 lost), None unless both are defined."""
        return None if self.parent is None or self.optimized is None else self.parent - self.optimized


@dataclass(frozen=True)
class PerClass:
    """The classes of an annotated report, the most hurt by INT8 first; ``undefined`` has neither value."""

    metric: str  # "IoU", "mask AP"
    pairs: tuple[ClassPair, ...]
    undefined: tuple[str, ...] = field(default_factory=tuple)


def _number(value: Any) -> float | None:
    return None if _missing(value) or isinstance(value, bool) or not isinstance(value, (int, float)) else float(value)


def per_class(ground_truth: dict[str, Any] | None) -> PerClass | str:
    """Parent and optimized per-class results of ``report["ground_truth"]``, or one line on why there are none (no
    annotations; a report of an earlier version without per-class values). Pairs are ordered by drop, largest first,
    then those with one side undefined, by name."""
    if not ground_truth:
        return "The dataset has no annotations: no per-class chart."
    parent, optimized = ground_truth.get("parent") or {}, ground_truth.get("optimized") or {}
    found = next(((key, metric) for key, metric in PER_CLASS_KEYS
                  if isinstance(parent.get(key), dict) and isinstance(optimized.get(key), dict)), None)
    if found is None:
        return "This report has no per-class results (written by an earlier version of segwb): no per-class chart."
    key, metric = found
    names = sorted(set(parent[key]) | set(optimized[key]), key=str)
    pairs = [ClassPair(str(n), _number(parent[key].get(n)), _number(optimized[key].get(n))) for n in names]
    if not pairs:
        return f"No class was evaluated: no per-class {metric} chart."
    shown = [p for p in pairs if p.parent is not None or p.optimized is not None]
    undefined = tuple(p.name for p in pairs if p.parent is None and p.optimized is None)
    if not shown:
        return f"No class has a {metric} (no annotated instance of a class the model knows): no per-class chart."
    shown.sort(key=lambda p: (p.drop is None, -(p.drop or 0.0), p.name))
    return PerClass(metric, tuple(shown), undefined)
