"""``segwb`` command line: the tutorial and its steps; errors are one line and exit with code 2."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import SegwbError

log = logging.getLogger("segwb")


def _card_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("model card (overrides the card file; inferred from the graph when possible)")
    g.add_argument("--model-card", metavar="YAML", help="model card file (default: <model>.yml next to the model)")
    g.add_argument("--layout", choices=["NCHW", "NHWC"])
    g.add_argument("--color-order", choices=["RGB", "BGR"])
    g.add_argument("--mean", type=_floats, metavar="M[,M,M]")
    g.add_argument("--scale", type=_floats, metavar="S[,S,S]")
    g.add_argument("--resize", choices=["stretch", "fit_pad", "letterbox"])
    g.add_argument("--pad-value", type=float)
    g.add_argument("--input-size", type=_size, metavar="HxW")
    g.add_argument("--adapter", choices=["class_map", "scores", "mask_rcnn", "yolo_e2e", "yolo_raw"])
    g.add_argument("--output-layout", choices=["NCHW", "NHWC"])
    g.add_argument("--output", metavar="NAME", help="output tensor to read when the model has several")
    g.add_argument("--labels", type=Path, metavar="FILE", help="class names, one per line")
    g.add_argument("--threshold", type=float, help="foreground probability / instance mask threshold (default 0.5)")
    g.add_argument("--nms-iou", type=float, help="yolo_raw: NMS IoU threshold (default 0.7)")


def _ints(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers separated by commas, got {text!r}") from None


def _floats(text: str) -> list[float] | float:
    values = [float(v) for v in text.split(",")]
    return values[0] if len(values) == 1 else values


def _size(text: str) -> list[int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HxW, e.g. 513x513, got {text!r}") from None
    return [h, w]


def _run_flags(p: argparse.ArgumentParser, task: str | None) -> None:
    if task is None:
        p.add_argument("--task", choices=["semantic", "instance"], default="semantic", help="which tutorial's steps (default semantic)")
    default_model = "instance-segmentation-security-0002" if task == "instance" else "deeplabv3, else selfie-segmentation"
    p.add_argument("--model", help=f"zoo model name or model path (default: {default_model})")
    p.add_argument("--dataset", default="embedded",
                   help="image folder, Pascal VOC root or COCO root (annotations/instances*.json) (default: the embedded photos)")
    p.add_argument("--split", help="Pascal VOC image-set list or COCO instances_<split>.json to use (default: val, else the first)")
    p.add_argument("--out", type=Path, help=f"project folder (default: projects/{task or 'TASK'})")
    p.add_argument("--min-score", type=float, default=0.1, help="instance: drop detections below this score, on both models (default 0.1)")
    p.add_argument("--max-detections", type=int, default=100, help="instance: at most this many detections per image (default 100)")
    p.add_argument("--method", choices=["default", "accuracy-aware"], default="default",
                   help="default: NNCF post-training quantization; accuracy-aware: revert the layers that hurt most "
                        "to floating point until the metric is within --max-drop (default: default)")
    p.add_argument("--max-drop", type=float, default=0.5,
                   help="accuracy-aware: allowed metric drop, 0.1-10 (points, or percent with --drop-type relative; default 0.5)")
    p.add_argument("--drop-type", choices=["absolute", "relative"], default="absolute")
    p.add_argument("--max-iterations", type=int, default=0, metavar="N",
                   help="accuracy-aware: stop after N revert steps with the scope NNCF holds then, not necessarily its "
                        "best (default 0: no cap; each step that worsens the drop re-ranks every remaining layer group, "
                        "minutes on 2 cores)")
    p.add_argument("--metric", choices=["auto", "ground-truth", "agreement"], default="auto",
                   help="accuracy-aware: ground-truth (mean IoU / mask AP from annotations), agreement with the parent model "
                        "(needs no annotations), or auto: ground truth when the dataset annotates the model's classes")
    p.add_argument("--preset", choices=["performance", "mixed"], default="performance")
    p.add_argument("--subset-size", default="100%", metavar="N|P%", help="calibration images: count or percentage (max 300)")
    p.add_argument("--fast-bias-correction", action="store_true",
                   help="use NNCF's fast bias correction (quicker, less accurate) instead of the full algorithm")
    p.add_argument("--no-graph-fixes", action="store_true",
                   help="plain nncf.quantize: skip the weight folding and TopK-tail rewrite around it")
    p.add_argument("--ignore", action="append", default=[], metavar="NAME", help="node name NNCF must not quantize (repeatable)")
    p.add_argument("--ignore-type", action="append", default=[], metavar="TYPE", help="op type NNCF must not quantize (repeatable)")
    p.add_argument("--bench-seconds", type=float, default=10.0, help="seconds per benchmark configuration (default 10)")
    p.add_argument("--no-bf16", action="store_true", help="never run in bf16: skip the default-precision runs")
    _card_flags(p)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="segwb", description="Segmentation-model optimization workbench for OpenVINO.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)
    tut = sub.add_parser("tutorial", help="run a tutorial end to end")
    tut_sub = tut.add_subparsers(dest="task", required=True)
    _run_flags(tut_sub.add_parser("semantic", help="semantic segmentation: INT8, speedup, parent-vs-optimized report"), "semantic")
    _run_flags(tut_sub.add_parser("instance", help="instance segmentation: INT8, speedup, detection report, COCO mask AP"), "instance")
    for name, text in (("quantize", "import the model and quantize it to INT8 into the project"),
                       ("benchmark", "…and measure parent and INT8 throughput"),
                       ("compare", "…and write the parent-vs-optimized report (all steps; cached steps are reused)")):
        _run_flags(sub.add_parser(name, help=text), None)
    perf = sub.add_parser("compare-performance", help="per-layer profile of two models: summary, precisions, kernels, findings")
    perf.add_argument("--project", type=Path, help="A = the project's parent at f32, B = its INT8 model at its benchmarked precision")
    perf.add_argument("--a", type=Path, metavar="XML", help="model A (IR), instead of --project")
    perf.add_argument("--b", type=Path, metavar="XML", help="model B (IR), instead of --project")
    perf.add_argument("--a-precision", default="f32", help="f32, bf16 or default (default f32)")
    perf.add_argument("--b-precision", default="default", help="f32, bf16 or default (default: default)")
    perf.add_argument("--inferences", type=int, default=50, help="inferences averaged per model (default 50)")
    perf.add_argument("--out", type=Path, help="folder for performance-comparison.json/.html (default: the project, else .)")
    exp = sub.add_parser("explore", help="throughput vs latency over streams x batch (each cell cached)")
    exp.add_argument("model", type=Path, help="IR .xml (e.g. PROJECT/models/optimized/model.xml)")
    exp.add_argument("--cache", type=Path, help="result folder (default: the model's project/explorer, else next to the model)")
    exp.add_argument("--streams", type=_ints, metavar="S[,S...]", help="stream counts (default 1 .. 2 x cores)")
    exp.add_argument("--batch", type=_ints, metavar="B[,B...]", help="batch sizes (default powers of two up to --max-batch)")
    exp.add_argument("--max-batch", type=int, default=8)
    exp.add_argument("--precision", choices=["f32", "default"], default="f32")
    exp.add_argument("--seconds", type=float, default=5.0, help="seconds per cell (default 5)")
    exp.add_argument("--threshold-ms", type=float, help="latency threshold for the sweet spot")
    exp.add_argument("--force", action="store_true", help="measure cached cells again")
    exp.add_argument("--estimate-only", action="store_true", help="print the estimated time and stop")
    dep = sub.add_parser("deploy", help="zip a project's model with a standalone infer.py that runs without segwb")
    dep.add_argument("--project", type=Path, required=True, help="project folder with report.json")
    dep.add_argument("--out", type=Path, metavar="ZIP", help="zip to write (default: PROJECT/deploy/<name>-<role>-deploy.zip)")
    dep.add_argument("--role", choices=["optimized", "parent"], default="optimized", help="which model (default optimized)")
    ex = sub.add_parser("export", help="write a project as a .tar.gz: models, settings, results, description.txt")
    ex.add_argument("--project", type=Path, required=True, help="project folder")
    ex.add_argument("--out", type=Path, help="archive file (default: PROJECT/export/<name>.tar.gz)")
    ex.add_argument("--with-dataset", action="store_true", help="include the images and annotations the report used")
    ex.add_argument("--split", help="the --split the run was given (VOC/COCO), to find the same images")
    im = sub.add_parser("import", help="re-create a project from an exported .tar.gz (checked before extracting)")
    im.add_argument("archive", type=Path)
    im.add_argument("--out", type=Path, required=True, help="new or empty project folder")
    fetch = sub.add_parser("fetch", help="download a zoo model into the cache")
    fetch.add_argument("name", nargs="?", help="zoo model (default: the semantic tutorial's default)")
    sub.add_parser("zoo", help="list the zoo models")
    return parser


def _options(args: argparse.Namespace) -> Any:
    from .quantize import QuantizeSettings
    from .pipeline import TutorialOptions

    overrides = {k: getattr(args, k) for k in ("layout", "color_order", "mean", "scale", "resize", "pad_value",
                                               "input_size", "adapter", "output_layout", "output", "threshold",
                                               "nms_iou")}
    if args.labels:
        from .modelcard import read_labels

        overrides["labels"] = read_labels(args.labels)
    settings = QuantizeSettings(method=args.method.replace("-", "_"), max_drop=args.max_drop, drop_type=args.drop_type,
                                metric=args.metric.replace("-", "_"), max_iterations=args.max_iterations, preset=args.preset, subset=args.subset_size,
                                fast_bias_correction=args.fast_bias_correction, graph_fixes=not args.no_graph_fixes,
                                ignored_names=tuple(args.ignore), ignored_types=tuple(args.ignore_type))
    if not 0 <= args.min_score <= 1:
        raise SegwbError(f"--min-score must be between 0 and 1, got {args.min_score}")
    if args.max_detections < 1:
        raise SegwbError(f"--max-detections must be at least 1, got {args.max_detections}")
    return TutorialOptions(out=args.out or Path("projects") / args.task, model=args.model, model_card=args.model_card,
                           card_overrides={k: v for k, v in overrides.items() if v is not None},
                           dataset=args.dataset, split=args.split, quantize=settings,
                           bench_seconds=args.bench_seconds, no_bf16=args.no_bf16,
                           min_score=args.min_score, max_detections=args.max_detections)


def _progress() -> Any:
    from tqdm import tqdm

    bar: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        if "bar" not in bar:
            bar["bar"] = tqdm(total=total, unit="img", file=sys.stderr, leave=False, disable=None)  # silent off a TTY
        bar["bar"].update(done - bar["bar"].n)
        if done >= total:
            bar.pop("bar").close()

    return update


def _summary(report: dict[str, Any], path: Path) -> str:
    from .report_html import default_method_ignores, missed_drop_reason, percent

    perf, comp, gt = report["performance"], report["comparison"], report["ground_truth"]
    lines = [report["model_choice"],
             f"parent f32: {perf['parent']['fps']:.1f} FPS; INT8 ({perf['optimized_precision']}): "
             f"{perf['optimized']['fps']:.1f} FPS; speedup {perf['speedup']:.2f}x"]
    lines += [f"graph rewrite: {fix['summary']}" for fix in report["optimized"]["graph_fixes"]]
    if aa := report["optimized"].get("accuracy_aware"):
        quantized = "N/A" if aa["default_int8_metric"] is None else f"{aa['default_int8_metric']:.2f}"
        lines.append(f"accuracy-aware ({aa['metric']} vs {aa['reference']}): parent {aa['parent_metric']:.2f}, "
                     f"default INT8 {quantized}, result {aa['final_metric']:.2f} "
                     f"(drop {aa['drop']:.2f}, max {aa['max_drop']} {aa['drop_type']}); "
                     f"{len(aa['reverted_operations'])} of {aa['quantized_operations'] or '?'} quantized layers reverted to float")
        if not aa["within_drop"]:
            lines.append(f"accuracy-aware: {missed_drop_reason(aa)}")
        if flags := default_method_ignores(aa):
            lines.append(f"accuracy-aware: the same layers in floating point with the Default method: {flags}")
    if report["task"] == "instance":
        lines.append(f"matches {comp['matches']} of {comp['parent_detections']} parent detections "
                     f"({percent(comp['matches_over_parent'])}) and of {comp['optimized_detections']} optimized "
                     f"({percent(comp['matches_over_optimized'])}), score >= {comp['min_score']}")
        if gt:
            lines.append(f"ground-truth mask AP: parent {percent(gt['parent']['mask_ap'])}, optimized {percent(gt['optimized']['mask_ap'])}"
                         f"; box AP: parent {percent(gt['parent']['box_ap'])}, optimized {percent(gt['optimized']['box_ap'])}")
    else:
        lines.append(f"mean Optimized Model Average Result {comp['mean_average_result']:.4f}, "
                     f"pixel agreement {percent(comp['mean_pixel_agreement'])}")
    if report["task"] == "semantic" and gt:
        lines.append(f"ground-truth mean IoU: parent {100 * gt['parent']['mean_iou']:.2f} %, "
                     f"optimized {100 * gt['optimized']['mean_iou']:.2f} %")
    lines += [f"report: {path}", f"report page: {path.with_suffix('.html')}"]
    return "\n".join(lines)


def _explore(args: argparse.Namespace) -> int:
    from . import explorer

    if not args.model.is_file():
        raise SegwbError(f"{args.model}: no such model file")
    models = args.model.parent.parent  # PROJECT/models/<role>/model.xml
    cache = args.cache or (models.parent / "explorer" if models.name == "models" else args.model.parent / "explorer")
    streams = args.streams or sorted({c.streams for c in explorer.grid(args.max_batch)})
    batches = args.batch or explorer.batch_sizes(args.max_batch)
    cells = [explorer.Cell(s, b) for s in streams for b in batches]
    precision = None if args.precision == "default" else args.precision
    guess = explorer.estimate(args.model, cells, cache, precision, args.seconds, args.force)
    log.info("%d cells (%d cached): about %.0f s (%s)", len(cells), guess.cached, guess.seconds, guess.assumptions)
    if args.estimate_only:
        return 0
    results = explorer.explore(args.model, cells, cache, precision, args.seconds, force=args.force, progress=_progress())
    print(json.dumps(explorer.summary(results, args.threshold_ms), indent=2))
    return 0


def _compare_performance(args: argparse.Namespace) -> int:
    from .kernel_compare import compare_models, compare_project
    from .performance_html import write_performance_html
    from .storage import write_json

    if args.inferences < 1:
        raise SegwbError(f"--inferences must be at least 1, got {args.inferences}")
    if args.project:
        result, out = compare_project(args.project, args.inferences), args.project
        if args.out:
            write_json(args.out / "performance-comparison.json", result)
            out = args.out
    elif args.a and args.b:
        for xml in (args.a, args.b):
            if not xml.is_file():
                raise SegwbError(f"{xml}: no such model file")
        for given in (args.a_precision, args.b_precision):
            if given not in ("f32", "bf16", "f16", "default"):
                raise SegwbError(f"precision must be f32, bf16, f16 or default, got {given!r}")
        precision = {"default": None}
        result = compare_models(args.a, precision.get(args.a_precision, args.a_precision), args.b,
                                precision.get(args.b_precision, args.b_precision), args.inferences)
        out = args.out or Path(".")
        write_json(out / "performance-comparison.json", result)
    else:
        raise SegwbError("compare-performance needs --project DIR, or both --a XML and --b XML")
    write_performance_html(result, out / "performance-comparison.html")
    print("\n".join(result["findings"] + [f"report: {out / 'performance-comparison.json'}",
                                           f"report page: {out / 'performance-comparison.html'}"]))
    return 0


def run(args: argparse.Namespace) -> int:
    if args.command == "zoo":
        from .zoo import ENTRIES

        for e in ENTRIES.values():
            print(f"{e.name:38} {e.task:9} {e.summary}")
        return 0
    if args.command == "explore":
        return _explore(args)
    if args.command == "compare-performance":
        return _compare_performance(args)
    if args.command == "export":
        from .project_archive import export_project

        print(export_project(args.project, args.out, include_dataset=args.with_dataset, split=args.split))
        return 0
    if args.command == "import":
        from .project_archive import DESCRIPTION, import_project

        dest = import_project(args.archive, args.out)
        print((dest / DESCRIPTION).read_text(encoding="utf-8") + f"project: {dest}")
        return 0
    if args.command == "deploy":
        from .deploy import build_package

        print(build_package(args.project, args.out, args.role))
        return 0
    if args.command == "fetch":
        from . import zoo

        if args.name:
            path, _ = zoo.obtain(args.name)
            print(path)
        else:
            _, path, _, note = zoo.obtain_default_semantic()
            print(f"{note}\n{path}")
        return 0
    from .storage import read_json

    options = _options(args)
    if args.task == "instance":
        from .instance_tutorial import run as run_tutorial
    else:
        from .semantic_tutorial import run as run_tutorial
    until = {"quantize": "quantize", "benchmark": "benchmark"}.get(args.command, "report")
    with contextlib.redirect_stdout(sys.stderr):  # NNCF prints progress bars on stdout; keep it for the result
        path = run_tutorial(options, progress=_progress(), until=until)
    if until == "report":
        print(_summary(read_json(path), path))
    else:
        print(json.dumps(read_json(path), indent=2))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="segwb: %(message)s", stream=sys.stderr)
    logging.getLogger("nncf").setLevel(logging.WARNING)
    try:
        return run(args)
    except SegwbError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"segwb: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("segwb: cancelled; finished steps are kept and will be reused", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
