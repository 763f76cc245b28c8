"""The result of a run in a few lines, the same everywhere: the CLI prints them, the dashboard and ``report.html``
show them, ``description.txt`` carries them and the Default-vs-AccuracyAware table sets two side by side."""

from __future__ import annotations

import shlex
from pathlib import PurePath
from typing import Any

from ..core.devices import device_label
from ..tasks import get as get_task
from ..tasks.base import Fact, value

__all__ = ["Fact", "summary", "dropped_lines", "performance_facts", "optimization_facts", "given_model",
           "accuracy_aware_facts", "missed_drop_reason", "default_method_ignores"]


def performance_facts(performance: dict[str, Any]) -> list[Fact]:
    """Parent f32 and optimized-model throughput, the speedup, and the device they were measured on."""
    return [Fact("Parent throughput (f32, the baseline)", f"{performance['parent']['fps']:.1f} FPS"),
            Fact("Optimized model throughput", f"{performance['optimized']['fps']:.1f} FPS "
                                    f"({performance['optimized_precision']} precision hint)"),
            Fact("Speedup over parent f32", f"{performance['speedup']:.2f}x"),
            *([Fact("Device", device_label(performance))] if "device" in performance else [])]


def given_model(optimized: dict[str, Any]) -> str:
    """The optimized model given with ``--optimized``, in words: where it came from and what it is."""
    path = PurePath(str(optimized["given"]["path"]))
    what = (optimized.get("precision") or {}).get("description", "precision not recorded")
    return f"given ({PurePath(path.parent.name, path.name).as_posix()}, {what}), not quantized by segwb"


def optimization_facts(optimized: dict[str, Any]) -> list[Fact]:
    """How the optimized model was made: segwb's NNCF run, or given by the user."""
    if optimized.get("source") == "given":
        return [Fact("Optimized model", given_model(optimized))]
    method = str(optimized.get("method", "Default")).split(" (")[0]
    return [Fact("Quantization", f"{method} method, {optimized.get('preset', '?')} preset, "
                                 f"{optimized.get('subset_size', '?')} calibration images, "
                                 f"{value(optimized.get('seconds'), 0)} s")]


def accuracy_aware_facts(aa: dict[str, Any] | None) -> list[Fact]:
    """What the AccuracyAware method reached, and what to do next when it missed."""
    if not aa:
        return []
    unit = "points" if aa["drop_type"] == "absolute" else "%"
    found = [Fact(f"AccuracyAware {aa['metric']} against the {aa['reference']}",
                  f"parent {value(aa['parent_metric'], 2)}, fully quantized {value(aa['default_int8_metric'], 2)}, "
                  f"result {value(aa['final_metric'], 2)} (drop {value(aa['drop'], 2)}, at most {aa['max_drop']:g} {unit}: "
                  f"{'within' if aa['within_drop'] else 'NOT within'})"),
             Fact("Layers reverted to floating point",
                  f"{len(aa['reverted_operations'])} of {aa['quantized_operations'] or '?'} quantized operations")]
    if not aa["within_drop"]:
        found.append(Fact("Why the drop was missed", missed_drop_reason(aa)))
    if flags := default_method_ignores(aa):
        found.append(Fact("The same layers in floating point with the Default method", flags))
    return found


NOTHING_DROPPED = "Nothing was dropped."


def dropped_lines(dataset: dict[str, Any]) -> list[str]:
    """What the dataset reader left out or changed, one line per kind and reason ("Dropped 3 images (not a readable
    image): a.jpg, b.jpg, c.jpg"), or :data:`NOTHING_DROPPED`; plain text, for report.html and the dashboard to
    escape. Reports before ``dropped`` list the skipped images' names."""
    records = dataset.get("dropped")
    if records is None and dataset.get("skipped"):
        names = [str(n) for n in dataset["skipped"]]
        records = [{"what": "image", "reason": "skipped while reading the dataset", "count": len(names),
                    "examples": names[:10]}]
    lines = []
    for record in records if isinstance(records, list) else []:
        if not isinstance(record, dict):  # an edited or imported report.json: say nothing wrong, show what is there
            lines.append(f"Dropped: {record}")
            continue
        examples = [str(e) for e in record.get("examples") or []]
        count = record.get("count", len(examples))
        plural = "" if count == 1 else "s"
        action = str(record.get("action", "dropped")).capitalize()
        line = f"{action} {count} {record.get('what', 'item')}{plural} ({record.get('reason', 'no reason recorded')})"
        if examples:
            more = count - len(examples) if isinstance(count, int) and count > len(examples) else 0
            line += ": " + ", ".join(examples) + (f" and {more} more" if more else "")
        lines.append(line)
    return lines or [NOTHING_DROPPED]


def summary(report: dict[str, Any]) -> list[Fact]:
    """The run's result: the model, the speed, how it was optimized, and the task's accuracy facts."""
    dataset = report["dataset"]
    facts = [Fact("Model", report.get("model_choice", "").removeprefix("model: ")),
             Fact("Dataset", f"{dataset['path']} ({dataset['layout']}, {dataset['images']} images)"),
             *performance_facts(report["performance"]), *optimization_facts(report["optimized"]),
             *accuracy_aware_facts(report["optimized"].get("accuracy_aware"))]
    return facts + get_task(report["task"]).facts(report["comparison"], report.get("ground_truth"))


def missed_drop_reason(aa: dict[str, Any]) -> str:
    """Why the AccuracyAware result is not within the drop, and what to try, in words."""
    if aa.get("stopped") == "max_iterations":
        why = (f"NNCF stopped at the cap of {int(aa['max_iterations'])} revert steps; the result is the scope it held "
               "at its last step, not necessarily its best (see the drop after each step).")
    elif aa.get("stopped") == "all_layers_checked":
        why = "NNCF tried every group of quantized layers without reaching the drop."
    else:
        why = "NNCF ended without reaching the drop."
    if aa["reference"] == "parent model":
        # Agreement starts at 100: every changed pixel or detection costs, however harmless against the ground truth.
        hint = (" Agreement with the parent scores every rounding change as a loss, so a drop smaller than the fully "
                "quantized model's leaves little quantized; allow a larger drop, or annotate the images.")
    else:
        hint = " Try a larger drop, more images, or the Mixed preset."
    return why + hint


def default_method_ignores(aa: dict[str, Any]) -> str:
    """The reverted layers as the Default method's ignored scope (CLI flags), or "" when none was reverted.

    NNCF's ranking is the sensitivity analysis; reusing its result skips the ranking on the next quantization.
    """
    return " ".join(f"--ignore {shlex.quote(name)}" for name in aa["reverted_operations"])
