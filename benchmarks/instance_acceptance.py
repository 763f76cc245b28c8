"""Issue acceptance for the instance tutorial on the YOLO26n-seg fixture: wall time, speedup, matches, mask AP, peak RSS,
and the report's own time against its target.

Usage: python benchmarks/instance_acceptance.py [--out FILE] [--bench-seconds S]
Runs `segwb tutorial instance` from scratch (fresh project) on coco96-coco in a child process and writes a JSON summary.
The fixture needs no model card: its outputs identify an end-to-end YOLO-seg export (RGB 0..1, letterbox 114).
"""

from __future__ import annotations

import sys

from acceptance_run import record, run_tutorial, tutorial_arguments

TARGETS = {"wall_seconds_max": 240, "speedup_min": 1.8, "matches_over_parent_min": 0.75, "mask_ap_drop_max_points": 3.0}


def main() -> int:
    parser, fixtures = tutorial_arguments(__doc__, "instance_acceptance")
    args = parser.parse_args()
    report, wall, peak_mib, cmd = run_tutorial("instance", [
        "--model", str(fixtures / "models/yolo26n-seg-coco-320/yolo26n-seg.xml"),
        "--dataset", str(fixtures / "datasets/coco96-coco"), "--bench-seconds", args.bench_seconds])
    perf, comp, gt = report["performance"], report["comparison"], report["ground_truth"]
    measured = {
        "wall_seconds": wall,
        "speedup": perf["speedup"],
        "parent_f32_fps": perf["parent"]["fps"],
        "parent_default_fps": perf["parent_default"]["fps"],
        "optimized_fps": perf["optimized"]["fps"],
        "optimized_precision": perf["optimized_precision"],
        "optimized_fps_by_hint": {k: v["fps"] for k, v in perf["optimized_runs"].items()},
        "parent_detections": comp["parent_detections"], "optimized_detections": comp["optimized_detections"],
        "matches": comp["matches"], "matches_over_parent": comp["matches_over_parent"],
        "matches_over_optimized": comp["matches_over_optimized"],
        "mean_average_precision": comp["mean_average_precision"],
        "mask_ap_parent": gt["parent"]["mask_ap"], "mask_ap_optimized": gt["optimized"]["mask_ap"],
        "mask_ap50_parent": gt["parent"]["mask_ap50"], "mask_ap50_optimized": gt["optimized"]["mask_ap50"],
        "box_ap_parent": gt["parent"]["box_ap"], "box_ap_optimized": gt["optimized"]["box_ap"],
        "mask_ap_drop_points": 100 * (gt["parent"]["mask_ap"] - gt["optimized"]["mask_ap"]),
        "quantize_seconds": report["optimized"]["seconds"],
        "peak_rss_mib": peak_mib,
        "report_seconds": report["report_seconds"],
    }
    met = {
        "wall_seconds_max": wall <= TARGETS["wall_seconds_max"],
        "speedup_min": measured["speedup"] >= TARGETS["speedup_min"],
        "matches_over_parent_min": measured["matches_over_parent"] >= TARGETS["matches_over_parent_min"],
        "mask_ap_drop_max_points": measured["mask_ap_drop_points"] <= TARGETS["mask_ap_drop_max_points"],
        "report_seconds_within_target": report["report_seconds"]["total"] <= report["report_seconds"]["target"],
    }
    record(args.out, cmd, measured, TARGETS, met)
    return 0


if __name__ == "__main__":
    sys.exit(main())
