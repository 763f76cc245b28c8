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
                                 f"{optimized.get('subset_size', '?')} calibration images{bias_part(optimized)}, "
                                 f"{value(optimized.get('seconds'), 0)} s")]


def bias_part(optimized: dict[str, Any]) -> str:
    """Which bias correction ran, and on how many images when NNCF's full one was capped (segwb.optimize.ptq)."""
    images = optimized.get("bias_correction_images")
    return f" (full bias correction on {images})" if images else ""


def accuracy_aware_facts(aa: dict[str, Any] | None, ground_truth: dict[str, Any] | None = None) -> list[Fact]:
    """What the AccuracyAware method reached, on which metric it aimed for what (and why), what that model scores
    against the annotations when it was steered by agreement with the parent on an annotated dataset, where the
    time went, and what to do next when it missed."""
    if not aa:
        return []
    unit = "points" if aa["drop_type"] == "absolute" else "%"
    found = [Fact(f"AccuracyAware {aa['metric']} against the {aa['reference']}",
                  f"parent {value(aa['parent_metric'], 2)}, fully quantized {value(aa['default_int8_metric'], 2)}, "
                  f"result {value(aa['final_metric'], 2)} (drop {value(aa['drop'], 2)}, at most {aa['max_drop']:g} {unit}: "
                  f"{'within' if aa['within_drop'] else 'NOT within'})")]
    if aa.get("aim") is not None:
        found.append(Fact("AccuracyAware aim", f"{aa['metric']} ≥ {value(aa['aim'], 2)}: {aim_reason(aa)}"))
    if (truth := truth_of_agreement(aa, ground_truth)) is not None:
        found.append(Fact("The same model against the annotations (not used to steer it)", truth))
    found.append(Fact("Layers reverted to floating point",
                      f"{len(aa['reverted_operations'])} of {aa['quantized_operations'] or '?'} quantized operations"))
    if aa.get("phases"):
        found.append(Fact("AccuracyAware time", phases_text(aa)))
    if not aa["within_drop"]:
        found.append(Fact("Why the drop was missed", missed_drop_reason(aa)))
    if flags := default_method_ignores(aa):
        found.append(Fact("The same layers in floating point with the Default method", flags))
    return found


def aim_reason(aa: dict[str, Any]) -> str:
    """Where the AccuracyAware drop came from, in words."""
    unit = "points" if aa["drop_type"] == "absolute" else "%"
    source = aa.get("max_drop_source")
    if source == "half the Default method's loss":
        return (f"half of what the Default method's INT8 loses against the {aa['reference']} "
                f"({value(aa.get('default_int8_drop'), 2)} {unit}), the default for this metric")
    if source == "default":
        return f"the default drop of {aa['max_drop']:g} {unit}"
    return f"the drop given ({aa['max_drop']:g} {unit})"


def truth_of_agreement(aa: dict[str, Any], ground_truth: dict[str, Any] | None) -> str | None:
    """The report's ground-truth result of a model AccuracyAware steered by agreement with the parent (None when it
    was steered by the ground truth itself, or the dataset is not annotated)."""
    if aa.get("reference") != "parent model" or not ground_truth:
        return None
    parent, optimized = ground_truth.get("parent") or {}, ground_truth.get("optimized") or {}
    key, name = ("mean_iou", "mean IoU") if "mean_iou" in parent else ("mask_ap", "mask AP")
    if parent.get(key) is None or optimized.get(key) is None:
        return None
    before, after = 100 * parent[key], 100 * optimized[key]
    return (f"{name} parent {before:.2f} → optimized {after:.2f} (drop {before - after:.2f} points, "
            f"{ground_truth.get('images', '?')} images)")


def phases_text(aa: dict[str, Any]) -> str:
    """The AccuracyAware time and where it went, e.g. "2 min 41 s: quantization 40 s, ranking on 24 images 61 s, ..."."""
    phases, steps = aa["phases"], aa.get("steps") or []
    undone = sum(1 for s in steps if s.get("kept") is False)
    names = {"reference_predictions": "parent's predictions", "quantization": "quantization",
             "initial_validation": "first validation",
             "ranking": f"ranking on {aa['ranking_images']} images" if aa.get("ranking_images") else "ranking",
             "revert_steps": f"{len(steps)} revert step{'' if len(steps) == 1 else 's'}"
                             + (f" ({undone} undone)" if undone else ""),
             "re_ranking": "re-rankings", "final_validation": "final validation"}  # re-rankings: before VERSION 3
    parts = [f"{name} {phases[key]:.0f} s" for key, name in names.items() if phases.get(key)]
    total = float(aa.get("seconds") or 0.0)
    return f"{int(total // 60)} min {total % 60:.0f} s: " + ", ".join(parts)


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
             *accuracy_aware_facts(report["optimized"].get("accuracy_aware"), report.get("ground_truth"))]
    return facts + get_task(report["task"]).facts(report["comparison"], report.get("ground_truth"))


def missed_drop_reason(aa: dict[str, Any]) -> str:
    """Why the AccuracyAware result is not within the drop, and what to try, in words."""
    if aa.get("stopped") == "max_iterations":
        why = (f"The restorer stopped at the cap of {int(aa['max_iterations'])} revert steps, with the best model it "
               "validated (see the drop after each step).")
    elif aa.get("stopped") == "no_gain":
        why = (f"The restorer stopped after {aa.get('patience', 'several')} steps in a row that did not lower the drop "
               "(the groups left ranked lower), with the best model it validated.")
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
