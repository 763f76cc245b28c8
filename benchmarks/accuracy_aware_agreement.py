"""Issue 19 acceptance for AccuracyAware without annotations: agreement with the parent as a dataset-level metric.

Usage: python benchmarks/accuracy_aware_agreement.py [--tasks semantic instance] [--bench-seconds S]
                                                     [--max-iterations N] [--out FILE]

Per task (deeplabv3 fixture with coco96-voc's masks; YOLO26n-seg fixture with coco96-coco's instances), fresh projects
in child processes, one at a time:

1. ``segwb tutorial TASK --method accuracy-aware`` on coco96-images (not annotated): the metric is agreement with the
   parent (mean IoU over one confusion matrix with the parent's class maps as the truth; COCO mask AP with the
   parent's detections as the ground truth), the drop is the default one (half of what the Default method's INT8
   loses on it, stated before NNCF's run). Recorded: the AA record (Default INT8's and the result's agreement, the
   aim, the drop, the phases), the speedup over f32 and the wall time.
2. ``segwb tutorial TASK`` (Default method) on the annotated copy of the same photos: the Default INT8's ground truth.
3. ``segwb tutorial TASK --optimized <the AA model>`` with the same parent on the annotated copy: the ground truth of
   the model found without annotations.

Steps 2 and 3 run with ``--no-bf16`` so both INT8 models are predicted at the f32 hint, where AccuracyAware validated.
``--max-iterations N`` caps the revert steps in step 1 (0: no cap; the layer groups are ranked once, a step that
does not lower the drop is undone and followed by the next group of that ranking, and three such steps in a row end
the run). The AA record's ``phases_seconds``
give the time of each phase; the load average is taken before and after the AA run.
Targets: the AA result within its drop, a speedup of at least 1.5x over f32, a ground-truth loss no larger than the
Default method's, and the AccuracyAware time under 3 minutes. Needs ``SEGWB_FIXTURES`` (or ``../shared/zoo``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from segwb.core.storage import read_json, write_json  # noqa: E402

DEEPLAB_CARD = "color_order: RGB\nresize: fit_pad\npad_value: 0\n"  # the fixture's README: RGB, fit and pad, pad 0
SPEEDUP_MIN = 1.5
AA_SECONDS_MAX = 180.0
TASKS = {
    "semantic": {"model": "models/deeplabv3-mnv2-voc-513/deeplabv3.xml", "annotated": "coco96-voc",
                 "truth": "mean_iou", "truth_name": "mean IoU"},
    "instance": {"model": "models/yolo26n-seg-coco-320/yolo26n-seg.xml", "annotated": "coco96-coco",
                 "truth": "mask_ap", "truth_name": "mask AP"},
}


def fixtures() -> Path:
    found = Path(os.environ.get("SEGWB_FIXTURES", ROOT.parent / "shared" / "zoo"))
    if not (found / "datasets" / "coco96-images").is_dir():
        sys.exit(f"no fixtures at {found}: set SEGWB_FIXTURES")
    return found


def tutorial(task: str, flags: list[str], project: Path) -> tuple[dict[str, Any], float, str, str | None]:
    """``segwb tutorial TASK FLAGS --out PROJECT`` in a child process: its report, wall seconds, command line and the
    line where AccuracyAware states its aim."""
    cmd = [sys.executable, "-m", "segwb", "tutorial", task, *flags, "--out", str(project)]
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    said = next((line for line in done.stderr.splitlines() if "AccuracyAware will aim" in line), None)
    if said:
        print(said, flush=True)
    return read_json(project / "report.json"), wall, " ".join(cmd), said


def load_average() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def truth(report: dict[str, Any], key: str) -> dict[str, float]:
    """Parent and optimized ground-truth value (points) and the drop, from a report's ground-truth section."""
    gt = report["ground_truth"]
    parent, optimized = 100 * gt["parent"][key], 100 * gt["optimized"][key]
    return {"parent": parent, "optimized": optimized, "drop": parent - optimized, "images": gt["images"]}


def one_task(task: str, zoo: Path, tmp: Path, bench_seconds: str, max_iterations: int
             ) -> tuple[dict[str, Any], list[str]]:
    spec = TASKS[task]
    model = ["--model", str(zoo / spec["model"])]
    if task == "semantic":
        card = tmp / "deeplabv3.yml"
        card.write_text(DEEPLAB_CARD)
        model += ["--model-card", str(card)]
    bench = ["--bench-seconds", bench_seconds]
    annotated = str(zoo / "datasets" / spec["annotated"])
    load_before = load_average()
    aa_report, aa_wall, aa_cmd, stated = tutorial(task, [*model, "--dataset", str(zoo / "datasets/coco96-images"), *bench,
                                                 "--method", "accuracy-aware", "--max-iterations", str(max_iterations)],
                                          tmp / f"{task}-aa")
    load_after = load_average()
    default_report, default_wall, default_cmd, _ = tutorial(task, [*model, "--dataset", annotated, *bench, "--no-bf16"],
                                                         tmp / f"{task}-default")
    given = tmp / f"{task}-aa" / "models" / "optimized" / "model.xml"
    aa_truth_report, _, aa_truth_cmd, _ = tutorial(task, [*model, "--dataset", annotated, *bench, "--no-bf16",
                                                       "--optimized", str(given)], tmp / f"{task}-aa-on-truth")
    aa = aa_report["optimized"]["accuracy_aware"]
    default_truth, aa_truth = truth(default_report, spec["truth"]), truth(aa_truth_report, spec["truth"])
    measured = {
        "agreement": {
            "metric": aa["metric"], "reference": aa["reference"], "validation_images": aa["validation_images"],
            "ranking_images": aa["ranking_images"], "parent": aa["parent_metric"],
            "default_int8": aa["default_int8_metric"], "default_int8_drop": aa["default_int8_drop"],
            "max_drop": aa["max_drop"], "max_drop_source": aa["max_drop_source"], "aim": aa["aim"],
            "aa_int8": aa["final_metric"], "drop": aa["drop"], "within_drop": aa["within_drop"], "stated": stated},
        "speedup": {"aa_int8": aa_report["performance"]["speedup"],
                    "aa_int8_fps": aa_report["performance"]["optimized"]["fps"],
                    "parent_f32_fps": aa_report["performance"]["parent"]["fps"],
                    "default_int8_f32_hint": default_report["performance"]["speedup"]},
        "ground_truth": {"metric": spec["truth_name"], "dataset": spec["annotated"],
                         "parent": default_truth["parent"], "parent_in_aa_report": aa_truth["parent"],
                         "default_int8": default_truth["optimized"], "default_int8_drop": default_truth["drop"],
                         "aa_int8": aa_truth["optimized"], "aa_int8_drop": aa_truth["drop"],
                         "images": default_truth["images"]},
        "accuracy_aware": {"quantized_operations": aa["quantized_operations"],
                           "ranking_workers": aa.get("ranking_workers"),
                           "undone_steps": sum(1 for step in aa["steps"] if not step["kept"]),
                           "reverted_operations": aa["reverted_operations"], "iterations": aa["iterations"],
                           "steps": aa["steps"], "stopped": aa["stopped"], "validations": aa["validations"],
                           "validated_images": aa["validated_images"], "phases_seconds": aa["phases"],
                           "seconds": aa["seconds"]},
        "wall_seconds": {"aa_tutorial": aa_wall, "default_tutorial": default_wall},
        "load_average_1_5_15": {"before_aa": load_before, "after_aa": load_after},
    }
    met = {"within_drop": aa["within_drop"], "speedup_min": aa_report["performance"]["speedup"] >= SPEEDUP_MIN,
           "ground_truth_loss_not_above_default": aa_truth["drop"] <= default_truth["drop"] + 1e-9,
           "accuracy_aware_under_3_min": aa["seconds"] < AA_SECONDS_MAX}
    measured["met"] = met
    return measured, [aa_cmd, default_cmd, aa_truth_cmd]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--bench-seconds", default="10")
    parser.add_argument("--max-iterations", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "accuracy_aware_agreement.json")
    args = parser.parse_args()
    zoo = fixtures()
    results: dict[str, Any] = {"targets": {"speedup_min": SPEEDUP_MIN, "accuracy_aware_seconds_max": AA_SECONDS_MAX,
                                           "ground_truth_loss": "no more than the Default method's"},
                               "max_iterations": args.max_iterations, "cpu_count": os.cpu_count(), "tasks": {},
                               "commands": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for task in args.tasks:
            measured, commands = one_task(task, zoo, Path(tmp), args.bench_seconds, args.max_iterations)
            results["tasks"][task], results["commands"][task] = measured, commands
            print(task, measured["agreement"], measured["ground_truth"], measured["speedup"],
                  measured["accuracy_aware"]["phases_seconds"], measured["met"], sep="\n  ", flush=True)
    write_json(args.out, results)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
