"""Both tutorials at scale: report time against the physical target and peak memory, for N repeated fixture photos.

Usage:
    python benchmarks/scale.py [--sizes 96 960 4800] [--tasks semantic instance] [--bench-seconds 10]
                               [--out benchmarks/results/scale.json]

For each N it builds a folder of N symbolic links to the 96 coco96 photos (not annotated; the links cost no disk
space and segwb follows them), runs ``segwb quantize`` and then ``segwb tutorial semantic`` (deeplabv3 fixture) or ``segwb tutorial instance``
(YOLO26n-seg fixture) on a fresh project, each in a child process, and records from ``report.json`` the report's
time (one pass: both models' inference, the comparison beside it) against issue 19's target
``1.1 x (N / FPS_parent + N / FPS_optimized) + 3 s`` (FPS as benchmarked in the same run), the whole wall time,
and each child's peak RSS (``getrusage(RUSAGE_CHILDREN)`` in a wrapper process per child, so they do not mix):
quantization's apart from the report's.
Needs ``SEGWB_FIXTURES`` (or ``../shared/zoo``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEEPLAB_CARD = "color_order: RGB\nresize: fit_pad\npad_value: 0\n"  # the fixture's README: RGB, fit and pad
GOAL_RSS_GIB = 1.5


def fixtures() -> Path:
    found = Path(os.environ.get("SEGWB_FIXTURES", ROOT.parent / "shared" / "zoo"))
    if not (found / "datasets" / "coco96-images").is_dir():
        sys.exit(f"no fixtures at {found}: set SEGWB_FIXTURES")
    return found


def repeated_photos(folder: Path, photos: Path, n: int) -> Path:
    """A folder of ``n`` links to the fixture photos, cycling through them (copy k of photo p is ``p-k.jpg``)."""
    folder.mkdir(parents=True)
    sources = sorted(photos.glob("*.jpg"))
    for i in range(n):
        source = sources[i % len(sources)]
        (folder / f"{source.stem}-{i // len(sources)}.jpg").symlink_to(source)
    return folder


def command(task: str, zoo: Path, dataset: Path, project: Path, card: Path, bench_seconds: float) -> list[str]:
    """The segwb command line of one run."""
    model = {"semantic": zoo / "models/deeplabv3-mnv2-voc-513/deeplabv3.xml",
             "instance": zoo / "models/yolo26n-seg-coco-320/yolo26n-seg.xml"}[task]
    extra = ["--model-card", str(card)] if task == "semantic" else []
    return [sys.executable, "-m", "segwb", "tutorial", task, "--model", str(model), *extra, "--dataset", str(dataset),
            "--out", str(project), "--bench-seconds", f"{bench_seconds:g}"]


def child(cmd: list[str]) -> None:
    """Run ``cmd`` and print its exit code, wall time and peak RSS as JSON (this process holds nothing else)."""
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    print(json.dumps({"code": done.returncode, "seconds": time.perf_counter() - start,
                      "peak_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                      "stderr": done.stderr[-1500:] if done.returncode else ""}))


def measured_child(cmd: list[str]) -> dict:
    """Exit code, wall time, peak RSS (KiB) and stderr tail of ``cmd``, run in a wrapper process of its own."""
    wrapped = subprocess.run([sys.executable, __file__, "--child", json.dumps(cmd)], capture_output=True, text=True)
    return json.loads(wrapped.stdout.strip().splitlines()[-1])


def one_run(task: str, n: int, zoo: Path, tmp: Path, bench_seconds: float) -> dict:
    """One tutorial on ``n`` photos: quantization first (its own process, so its memory is told apart), then the
    rest of the tutorial on that project; times, target, peak RSS of each."""
    card = tmp / "deeplabv3-card.yml"
    card.write_text(DEEPLAB_CARD)
    dataset = repeated_photos(tmp / f"photos-{task}-{n}", zoo / "datasets" / "coco96-images", n)
    project = tmp / f"project-{task}-{n}"
    cmd = command(task, zoo, dataset, project, card, bench_seconds)
    quantized = measured_child(["quantize" if a == "tutorial" else a for a in cmd if a != task] + ["--task", task])
    run = {"task": task, "images": n, "quantize_peak_rss_gib": round(quantized["peak_kib"] / 2**20, 3)}
    if quantized["code"]:
        return {**run, "exit_code": quantized["code"], "error": quantized["stderr"]}
    measured = measured_child(cmd)
    run.update({"exit_code": measured["code"], "wall_seconds": round(quantized["seconds"] + measured["seconds"], 1),
                "report_peak_rss_gib": round(measured["peak_kib"] / 2**20, 3)})
    if measured["code"]:
        return {**run, "error": measured["stderr"]}
    report = json.loads((project / "report.json").read_text())
    perf, parts = report["performance"], report["report_seconds"]
    fps_parent, fps_optimized = perf["parent"]["fps"], perf["optimized"]["fps"]
    target = 1.1 * (n / fps_parent + n / fps_optimized) + 3.0
    peak = max(quantized["peak_kib"], measured["peak_kib"]) / 2**20
    return {**run, "peak_rss_gib": round(peak, 3), "fps_parent": round(fps_parent, 1),
            "fps_optimized": round(fps_optimized, 1), "optimized_precision": perf["optimized_precision"],
            "infer_parent_seconds": round(parts["predict_parent"], 1),
            "infer_optimized_seconds": round(parts["predict_optimized"], 1),
            "compare_after_inference_seconds": round(parts["compare"], 1), "report_seconds": round(parts["total"], 1),
            "target_seconds": round(target, 1), "within_target": parts["total"] <= target,
            "within_rss_goal": peak < GOAL_RSS_GIB, "report_within_rss_goal": measured["peak_kib"] / 2**20 < GOAL_RSS_GIB,
            "quantize_seconds": round(report["optimized"].get("seconds") or 0, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[96, 960, 4800])
    parser.add_argument("--tasks", nargs="+", default=["semantic", "instance"], choices=["semantic", "instance"])
    parser.add_argument("--bench-seconds", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "scale.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return
    zoo = fixtures()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for task in args.tasks:
            for n in args.sizes:
                runs.append(one_run(task, n, zoo, Path(tmp), args.bench_seconds))
                print(json.dumps(runs[-1]), flush=True)
    result = {"what": "both tutorials on N symbolic links to the coco96 photos (not annotated), fresh projects",
              "target": "report_seconds <= 1.1 x (N / FPS_parent + N / FPS_optimized) + 3 s; peak RSS < 1.5 GiB",
              "bench_seconds": args.bench_seconds, "runs": runs,
              "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                          "processor": platform.processor() or platform.machine()}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
