"""segwb's INT8 of YOLO26n-seg beside an INT8 made outside segwb by plain ``nncf.quantize`` with the settings of
Ultralytics' exporter (``yolo export format=openvino int8=True``), both compared with the same parent.

Usage: python benchmarks/optimized_vs_nncf.py [--seconds S] [--work DIR] [--out FILE]

1. ``segwb tutorial instance`` on the fixture with coco96-coco, segwb's default settings: segwb's INT8 and its report.
2. The exporter's quantization, reproduced on the fixture's IR: ``nncf.quantize(model, dataset, preset=MIXED,
   ignored_scope=IgnoredScope(patterns=[".*{head}/.*/Add", ".*{head}/.*/Sub*", ".*{head}/.*/Mul*", ".*{head}/.*/Div*",
   ".*{head}\\.dfl.*"], types=["Sigmoid"]))`` with ``head`` the detection head's module ("model.23"), NNCF's default
   subset (300, so every image), calibration images letterboxed to 0..1 RGB as the exporter's loader gives them
   (here by segwb's preprocessing of the model card), saved uncompressed as the exporter saves an INT8.
3. ``segwb tutorial instance --optimized`` with that file: its report against the same parent.
4. One interleaved benchmark of the parent and both INT8 models (THROUGHPUT hint, f32 and default precision hints,
   rounds taking turns, best round kept) so that every ratio comes from one measurement.
Accuracy (mask AP, box AP, matches with the parent) comes from the two reports; the parent's predictions are the
same in both.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import nncf
import numpy as np
import openvino as ov

from segwb.core.compile import core
from segwb.core.storage import read_json, write_json
from segwb.inference.preprocess import to_tensor
from segwb.io.datasets import open_dataset
from segwb.io.images import load_image
from segwb.io.model_card import card_file
from segwb.measure.benchmark import benchmark
from segwb.tasks import load_card
from segwb.tutorial.options import TutorialOptions
from segwb.tutorial.run import run

HEAD = "model.23"  # the exporter's head_module_name: the first two parts of the model's last module name
PATTERNS = [f".*{HEAD}/.*/Add", f".*{HEAD}/.*/Sub*", f".*{HEAD}/.*/Mul*", f".*{HEAD}/.*/Div*", f".*{HEAD}\\.dfl.*"]
TYPES = ["Sigmoid"]
ROUNDS = 2


def ignored_scope(model: ov.Model) -> tuple[nncf.IgnoredScope, dict[str, list[str]]]:
    """The exporter's ignored scope, with what each rule matches in this IR (NNCF matches patterns from the start of
    a name); a rule that matches nothing is left out, as NNCF refuses unmatched rules."""
    names = [op.get_friendly_name() for op in model.get_ops()]
    matched = {p: [n for n in names if re.match(p, n)] for p in PATTERNS}
    matched.update({f"type {t}": [op.get_friendly_name() for op in model.get_ops() if op.get_type_name() == t]
                    for t in TYPES})
    return nncf.IgnoredScope(patterns=[p for p in PATTERNS if matched[p]],
                             types=[t for t in TYPES if matched[f"type {t}"]]), matched


def ultralytics_int8(model_xml: Path, card_xml: Path, dataset: Path, out_xml: Path) -> dict[str, Any]:
    """Quantize ``model_xml`` as Ultralytics' exporter does; returns what was done."""
    model = core().read_model(model_xml)
    card = load_card(card_file(card_xml))
    dtype = model.input(0).get_element_type().to_dtype()
    images = [to_tensor(load_image(s.path), card, dtype)[0] for s in open_dataset(str(dataset)).samples]
    scope, matched = ignored_scope(model)
    start = time.perf_counter()
    quantized = nncf.quantize(model, nncf.Dataset(images), preset=nncf.QuantizationPreset.MIXED, ignored_scope=scope)
    seconds = time.perf_counter() - start
    out_xml.parent.mkdir(parents=True, exist_ok=True)
    ov.save_model(quantized, out_xml, compress_to_fp16=False)
    return {"calibration_images": len(images), "seconds": seconds, "preset": "mixed",
            "ignored_patterns": scope.patterns, "ignored_types": scope.types,
            "matched": matched,
            "not_reproduced": [f"{p}: no node of this IR matches (YOLO26 regresses boxes directly: its head has "
                               "no DFL), and NNCF refuses a rule that matches nothing" for p in PATTERNS
                               if not matched[p]]
                              + ["calibration images letterboxed by segwb's preprocessing of the model card, not "
                                 "Ultralytics' YOLODataset loader (the same letterbox, pad 114, RGB, 0..1)"]}


def interleaved(models: dict[str, Path], tensor: np.ndarray, seconds: float) -> dict[str, Any]:
    """Every model at the f32 and the default precision hint, rounds taking turns; best round kept."""
    plan = [(f"{name}_{hint or 'default'}", xml, hint) for name, xml in models.items() for hint in ("f32", None)]
    rounds: dict[str, list[float]] = {key: [] for key, _, _ in plan}
    for _ in range(ROUNDS):
        for key, xml, hint in plan:
            rounds[key].append(benchmark(xml, tensor, hint, seconds / ROUNDS).fps)
    fps = {key: max(values) for key, values in rounds.items()}
    best = {name: max(fps[f"{name}_f32"], fps[f"{name}_default"]) for name in models}
    return {"fps": fps, "rounds_fps": rounds, "best_fps": best,
            "speedup_over_parent_f32": {name: best[name] / fps["parent_f32"] for name in models if name != "parent"}}


def accuracy(report: dict[str, Any], role: str) -> dict[str, Any]:
    """Mask and box AP against the annotations, and (for an INT8) the detections matched with the parent's."""
    found = {k: report["ground_truth"][role][k] for k in ("mask_ap", "mask_ap50", "box_ap")}
    if role == "optimized":
        comp = report["comparison"]
        found.update({k: comp[k] for k in ("parent_detections", "optimized_detections", "matches",
                                           "matches_over_parent", "matches_over_optimized", "f1")})
    return found


def tutorial_numbers(report: dict[str, Any]) -> dict[str, Any]:
    perf = report["performance"]
    return {"parent_f32_fps": perf["parent"]["fps"], "optimized_fps": perf["optimized"]["fps"],
            "optimized_precision_hint": perf["optimized_precision"], "speedup": perf["speedup"],
            "optimized": {k: v for k, v in report["optimized"].items() if k not in ("settings", "graph_fixes")}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="benchmark seconds per configuration")
    parser.add_argument("--work", type=Path, help="folder for the two projects and the exporter-style INT8 (default: a "
                                                  "temporary folder)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/optimized_vs_nncf.json"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("nncf").setLevel(logging.WARNING)
    fixtures = Path(os.environ.get("SEGWB_FIXTURES", "../shared/zoo"))
    model = fixtures / "models/yolo26n-seg-coco-320/yolo26n-seg.xml"
    dataset = fixtures / "datasets/coco96-coco"
    work = args.work or Path(tempfile.mkdtemp(prefix="optimized-vs-nncf-"))
    common = {"task": "instance", "model": str(model), "dataset": str(dataset), "bench_seconds": args.seconds}

    own = read_json(run(TutorialOptions(out=work / "segwb", **common)))
    parent_xml = work / "segwb/models/parent/model.xml"
    exported = work / "yolo26n-seg_int8_openvino_model" / "yolo26n-seg.xml"  # where the exporter puts it
    made = ultralytics_int8(model, parent_xml, dataset, exported)
    given = read_json(run(TutorialOptions(out=work / "given", optimized=str(exported), **common)))

    tensor = to_tensor(load_image(open_dataset(str(dataset)).samples[0].path), load_card(card_file(parent_xml)),
                       np.float32)[0]
    speed = interleaved({"parent": parent_xml, "segwb_int8": work / "segwb/models/optimized/model.xml",
                         "ultralytics_int8": work / "given/models/optimized/model.xml"}, tensor, args.seconds)
    assert given["ground_truth"]["parent"] == own["ground_truth"]["parent"]  # one parent, the same predictions
    result = {
        "openvino": ov.__version__, "nncf": nncf.__version__, "model": str(model), "dataset": str(dataset),
        "images": own["dataset"]["images"], "seconds_per_configuration": args.seconds, "rounds": ROUNDS,
        "segwb_int8": {"settings": own["optimized"]["settings"], "subset_size": own["optimized"]["subset_size"],
                       "seconds": own["optimized"]["seconds"], "graph_fixes": own["optimized"]["graph_fixes"]},
        "ultralytics_int8": made,
        "speed": speed,
        "accuracy": {"parent": accuracy(own, "parent"), "segwb_int8": accuracy(own, "optimized"),
                     "ultralytics_int8": accuracy(given, "optimized")},
        "tutorial_runs": {"segwb_int8": tutorial_numbers(own), "ultralytics_int8_given": tutorial_numbers(given)},
    }
    write_json(args.out, result)
    table = [("", "FPS", "speedup", "mask AP", "box AP", "matches / parent")]
    for name in ("parent", "segwb_int8", "ultralytics_int8"):
        acc = result["accuracy"][name]
        fps, speedup = ((speed["fps"]["parent_f32"], "1.00x (f32)") if name == "parent" else
                        (speed["best_fps"][name], f"{speed['speedup_over_parent_f32'][name]:.2f}x"))
        table.append((name, f"{fps:.1f}", speedup, f"{100 * acc['mask_ap']:.2f} %", f"{100 * acc['box_ap']:.2f} %",
                      f"{acc['matches']} / {acc['parent_detections']}" if "matches" in acc else ""))
    print("\n".join("  ".join(f"{cell:>18}" for cell in row) for row in table))
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
