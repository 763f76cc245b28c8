"""Issue acceptance for the semantic tutorial on the deeplabv3 fixture: wall time, speedup, agreement, mIoU, peak RSS.

Usage: python benchmarks/semantic_acceptance.py [--out FILE] [--bench-seconds S]
Runs `segwb tutorial semantic` from scratch (fresh project) in a child process and writes a JSON summary.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from acceptance_run import record, run_tutorial, tutorial_arguments

# The fixture ships no model card: these are the facts of its README (RGB, resize to fit and pad).
CARD = "color_order: RGB\nresize: fit_pad\npad_value: 0\n"
TARGETS = {"wall_seconds_max": 240, "speedup_min": 1.3, "mean_average_result_min": 0.9, "miou_drop_max_points": 1.5}


def main() -> int:
    parser, fixtures = tutorial_arguments(__doc__, "semantic_acceptance")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        card = Path(tmp) / "deeplabv3.yml"
        card.write_text(CARD)
        report, wall, peak_mib, cmd = run_tutorial("semantic", [
            "--model", str(fixtures / "models/deeplabv3-mnv2-voc-513/deeplabv3.xml"), "--model-card", str(card),
            "--dataset", str(fixtures / "datasets/coco96-voc"), "--bench-seconds", args.bench_seconds])
    gt = report["ground_truth"]
    measured = {
        "wall_seconds": wall,
        "speedup": report["performance"]["speedup"],
        "parent_f32_fps": report["performance"]["parent"]["fps"],
        "parent_default_fps": report["performance"]["parent_default"]["fps"],
        "optimized_fps": report["performance"]["optimized"]["fps"],
        "optimized_precision": report["performance"]["optimized_precision"],
        "mean_average_result": report["comparison"]["mean_average_result"],
        "mean_pixel_agreement": report["comparison"]["mean_pixel_agreement"],
        "miou_parent": gt["parent"]["mean_iou"], "miou_optimized": gt["optimized"]["mean_iou"],
        "miou_drop_points": 100 * (gt["parent"]["mean_iou"] - gt["optimized"]["mean_iou"]),
        "quantize_seconds": report["optimized"]["seconds"],
        "peak_rss_mib": peak_mib,
        "graph_fixes": [f["summary"] for f in report["optimized"]["graph_fixes"]],
        "report_seconds": report["report_seconds"],
    }
    met = {
        "wall_seconds_max": wall <= TARGETS["wall_seconds_max"],
        "speedup_min": measured["speedup"] >= TARGETS["speedup_min"],
        "mean_average_result_min": measured["mean_average_result"] >= TARGETS["mean_average_result_min"],
        "miou_drop_max_points": measured["miou_drop_points"] <= TARGETS["miou_drop_max_points"],
        "report_seconds_within_target": report["report_seconds"]["total"] <= report["report_seconds"]["target"],
        "peak_rss_under_2_gib": peak_mib < 2048,
    }
    record(args.out, cmd, measured, TARGETS, met)
    return 0


if __name__ == "__main__":
    sys.exit(main())
