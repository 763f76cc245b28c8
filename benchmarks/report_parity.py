"""Report parity: the two fixture tutorials must give the same report numbers before and after a code change.

Usage:
    python benchmarks/report_parity.py --save DIR            # run both tutorials, keep their numbers in DIR
    python benchmarks/report_parity.py --against DIR [--out FILE]   # run again and compare with DIR

It runs `segwb tutorial semantic` (deeplabv3 + coco96-voc) and `segwb tutorial instance` (YOLO26n-seg + coco96-coco)
through the command line, on fresh projects, with `--no-bf16` so that the INT8 model is always predicted at the f32
hint (with the default precision also measured, the faster of the two hints is picked per run, and a noisy minute
could pick the other one). What is compared, exactly (floats to the last digit): every Basic and Advanced row,
the comparison totals, the ground truth, the quantization's settings, subset and graph rewrites, the dataset summary
and the model cards; speed and wall times are left out. Only the standard library and the `segwb` command are used,
so the script runs unchanged on any version of the code.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

# The fixture ships no model card: the facts of its README (RGB, resize to fit and pad).
DEEPLAB_CARD = "color_order: RGB\nresize: fit_pad\npad_value: 0\n"
TIMING = {"seconds", "report_seconds", "wall_seconds", "steps_cached", "performance", "path", "annotation_file"}


def runs(fixtures: Path, card: Path) -> dict[str, list[str]]:
    """The two tutorials' command-line flags (without ``--out``)."""
    return {
        "semantic": ["semantic", "--model", str(fixtures / "models/deeplabv3-mnv2-voc-513/deeplabv3.xml"),
                     "--model-card", str(card), "--dataset", str(fixtures / "datasets/coco96-voc")],
        "instance": ["instance", "--model", str(fixtures / "models/yolo26n-seg-coco-320/yolo26n-seg.xml"),
                     "--dataset", str(fixtures / "datasets/coco96-coco")],
    }


def numbers(report: dict[str, Any]) -> dict[str, Any]:
    """What must not change: the report without timings, speeds and absolute paths."""
    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in TIMING}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    kept = {k: report[k] for k in ("task", "comparison", "ground_truth", "dataset", "model_choice") if k in report}
    kept["parent"] = {"digest": report["parent"]["digest"], "card": report["parent"]["card"]}
    opt = report["optimized"]
    kept["optimized"] = {"subset_size": opt["subset_size"], "settings": opt["settings"], "preset": opt["preset"],
                         "graph_fixes": [f["name"] for f in opt["graph_fixes"]]}
    kept = strip(kept)
    kept["dataset"].pop("path", None)
    kept.pop("model_choice", None)  # names the model's path
    return kept


def differences(a: Any, b: Any, where: str = "") -> list[str]:
    """Every place where ``a`` and ``b`` differ, as ``path: a != b``."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                out.append(f"{where}/{k}: only in {'the reference' if k in a else 'this run'}")
            else:
                out += differences(a[k], b[k], f"{where}/{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} items != {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{where}[{i}]")]
    return [] if a == b else [f"{where}: {a!r} != {b!r}"]


def run(task: str, flags: list[str], bench_seconds: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        cmd = [str(Path(sys.executable).with_name("segwb")), "tutorial", *flags, "--out", str(project), "--no-bf16",
               "--bench-seconds", bench_seconds]
        subprocess.run(cmd, check=True)
        return json.loads((project / "report.json").read_text(encoding="utf-8"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--save", type=Path, metavar="DIR", help="write this run's numbers into DIR")
    what.add_argument("--against", type=Path, metavar="DIR", help="compare this run with the numbers saved in DIR")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/report_parity.json"))
    parser.add_argument("--bench-seconds", default="2")
    args = parser.parse_args()
    fixtures = Path(os.environ.get("SEGWB_FIXTURES", "../shared/zoo"))
    summary: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        card = Path(tmp) / "deeplabv3.yml"
        card.write_text(DEEPLAB_CARD)
        for task, flags in runs(fixtures, card).items():
            found = numbers(run(task, flags, args.bench_seconds))
            if args.save:
                args.save.mkdir(parents=True, exist_ok=True)
                (args.save / f"{task}.json").write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
                continue
            reference = json.loads((args.against / f"{task}.json").read_text(encoding="utf-8"))
            diff = differences(reference, found)
            summary[task] = {"identical": not diff, "differences": diff[:50], "differing": len(diff),
                             "basic_rows": len(found["comparison"]["basic"]),
                             "advanced_rows": len(found["comparison"]["advanced"]),
                             "ground_truth": found["ground_truth"] if task == "instance" else
                             {role: found["ground_truth"][role]["mean_iou"] for role in ("parent", "optimized")}}
            print(f"{task}: {'identical' if not diff else f'{len(diff)} differences'} "
                  f"({summary[task]['basic_rows']} basic, {summary[task]['advanced_rows']} advanced rows)")
            for line in diff[:20]:
                print(f"  {line}")
    if args.save:
        print(f"saved into {args.save}")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"reference": str(args.against), "tasks": summary}, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0 if all(t["identical"] for t in summary.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
