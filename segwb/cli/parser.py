"""The command line's grammar: the parser, the options a tutorial run takes from it, and the way back
(:func:`to_argv`), so that the dashboard's "Reproduce this run" cannot drift from what the parser accepts."""

from __future__ import annotations

import argparse
import math
import shlex
from pathlib import Path
from typing import Any, NoReturn

from ..core.compile import DEFAULT_DEVICE
from ..io.images import DEFAULT_MAX_MEGAPIXELS, MAX_PIXELS_ENV
from ..io.labels import read_labels
from ..io.model_card import COLOR_ORDERS, LAYOUTS, RESIZE_MODES
from ..optimize.settings import PATIENCE, PRESETS, AccuracyTarget, QuantizeSettings
from ..tasks import DEFAULT, REGISTRY
from ..tutorial.options import TutorialOptions

# Card fields that have a flag, in the order they are shown; ``labels`` comes from a file (--labels FILE).
CARD_FLAGS = ("layout", "color_order", "mean", "scale", "resize", "pad_value", "input_size", "adapter",
              "output_layout", "output", "threshold", "nms_iou")
STEPS = {"quantize": "quantize", "benchmark": "benchmark", "compare": "report"}  # subcommand -> where the run stops
DEVICE_HELP = "OpenVINO device: CPU, GPU, ..., AUTO, or HETERO:/MULTI:/AUTO: and a comma list"


def _card_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("model card (overrides the card file; inferred from the graph when possible)")
    g.add_argument("--model-card", metavar="YAML", help="model card file (default: <model>.yml next to the model)")
    g.add_argument("--layout", choices=LAYOUTS)
    g.add_argument("--color-order", choices=COLOR_ORDERS)
    g.add_argument("--mean", type=_floats, metavar="M[,M,M]")
    g.add_argument("--scale", type=_floats, metavar="S[,S,S]")
    g.add_argument("--resize", choices=RESIZE_MODES)
    g.add_argument("--pad-value", type=number)
    g.add_argument("--input-size", type=_size, metavar="HxW")
    g.add_argument("--adapter", choices=[a for task in REGISTRY.values() for a in task.adapters])
    g.add_argument("--output-layout", choices=LAYOUTS)
    g.add_argument("--output", metavar="NAME", help="output tensor to read when the model has several")
    g.add_argument("--labels", type=Path, metavar="FILE", help="class names, one per line")
    g.add_argument("--threshold", type=number, help="foreground probability / instance mask threshold (default 0.5)")
    g.add_argument("--nms-iou", type=number, help="yolo_raw: NMS IoU threshold (default 0.7)")


def ints(text: str) -> list[int]:
    """Whole numbers of at least 1, separated by commas."""
    return [count(v) for v in text.split(",")]


def number(text: str) -> float:
    """A finite number (argparse's ``float`` takes "nan" and "inf", which no option of segwb means)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def positive(text: str) -> float:
    value = number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number above 0, got {text!r}")
    return value


def count(text: str) -> int:
    """A whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def _floats(text: str) -> list[float] | float:
    values = [number(v) for v in text.split(",")]
    return values[0] if len(values) == 1 else values


def _size(text: str) -> list[int]:
    try:
        h, w = (count(v) for v in text.lower().split("x"))
    except (ValueError, argparse.ArgumentTypeError):
        raise argparse.ArgumentTypeError(f"expected HxW in pixels, e.g. 513x513, got {text!r}") from None
    return [h, w]


def _run_flags(p: argparse.ArgumentParser, task: str | None) -> None:
    if task is None:
        p.add_argument("--task", choices=list(REGISTRY), default=DEFAULT, help=f"which tutorial's steps (default {DEFAULT})")
    defaults = REGISTRY[task or DEFAULT].zoo_defaults
    p.add_argument("--model", help=f"zoo model name or model path (default: {', else '.join(defaults)})")
    p.add_argument("--dataset", default="embedded",
                   help="image folder, Pascal VOC root or COCO root (annotations/instances*.json) (default: the embedded photos)")
    p.add_argument("--split", help="Pascal VOC image-set list or COCO instances_<split>.json to use (default: val, else the first)")
    p.add_argument("--out", type=Path, help=f"project folder (default: projects/{task or 'TASK'})")
    p.add_argument("--min-score", type=number, default=0.1, help="instance: drop detections below this score, on both models (default 0.1)")
    p.add_argument("--max-detections", type=count, default=100, help="instance: at most this many detections per image (default 100)")
    p.add_argument("--method", choices=["default", "accuracy-aware"], default="default",
                   help="default: NNCF post-training quantization; accuracy-aware: revert the layers that hurt most "
                        "to floating point until the metric is within --max-drop (default: default)")
    p.add_argument("--max-drop", type=number, default=None,
                   help="accuracy-aware: allowed metric drop, 0.1-10 (points, or percent with --drop-type relative; "
                        f"default: {AccuracyTarget.max_drop:g} on the ground truth, and on agreement with the parent half "
                        "of what the Default method's INT8 loses, stated before NNCF's run)")
    p.add_argument("--drop-type", choices=["absolute", "relative"], default="absolute")
    p.add_argument("--max-iterations", type=int, default=0, metavar="N",
                   help="accuracy-aware: stop after N revert steps with the best model validated (default 0: no "
                        f"cap; the run also ends after {PATIENCE} steps in a row that do not lower the drop; each step "
                        "validates every image)")
    p.add_argument("--metric", choices=["auto", "ground-truth", "agreement"], default="auto",
                   help="accuracy-aware: ground-truth (mean IoU / mask AP from annotations), agreement with the parent model "
                        "(needs no annotations), or auto: ground truth when the dataset annotates the model's classes")
    p.add_argument("--preset", choices=list(PRESETS), default="performance")
    p.add_argument("--subset-size", default="100%", metavar="N|P%", help="calibration images: count or percentage (max 300)")
    p.add_argument("--fast-bias-correction", action="store_true",
                   help="use NNCF's fast bias correction (quicker, less accurate) instead of the full algorithm")
    p.add_argument("--no-graph-fixes", action="store_true",
                   help="plain nncf.quantize: skip the weight folding and TopK-tail rewrite around it")
    p.add_argument("--ignore", action="append", default=[], metavar="NAME", help="node name NNCF must not quantize (repeatable)")
    p.add_argument("--ignore-type", action="append", default=[], metavar="TYPE", help="op type NNCF must not quantize (repeatable)")
    p.add_argument("--optimized", metavar="PATH",
                   help="a model you already have (IR, ONNX, TFLite...; e.g. an INT8 or FP16 export of --model) to "
                        "compare with the parent as the optimized model: NNCF is skipped")
    p.add_argument("--bench-seconds", type=positive, default=10.0, help="seconds per benchmark configuration (default 10)")
    p.add_argument("--no-bf16", action="store_true", help="never run in bf16: skip the default-precision runs")
    p.add_argument("--device", default=DEFAULT_DEVICE,
                   help=f"{DEVICE_HELP}, for the benchmark and the predictions (default {DEFAULT_DEVICE}; NNCF runs on the CPU)")
    p.add_argument("--max-megapixels", type=positive, metavar="MP",
                   help=f"refuse images larger than this (default {DEFAULT_MAX_MEGAPIXELS:g}; also ${MAX_PIXELS_ENV})")
    _card_flags(p)


class Parser(argparse.ArgumentParser):
    """argparse with segwb's error form: one line, exit code 2 (argparse's own prints the usage first)."""

    def error(self, message: str) -> NoReturn:
        where = self.prog.removeprefix("segwb").strip()
        self.exit(2, f"segwb: error: {where + ': ' if where else ''}{message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="segwb", description="Segmentation-model optimization workbench for OpenVINO.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")

    sub = parser.add_subparsers(dest="command", required=True)
    tut = sub.add_parser("tutorial", help="run a tutorial end to end")
    tut_sub = tut.add_subparsers(dest="task", required=True)
    for task in REGISTRY.values():
        _run_flags(tut_sub.add_parser(task.name, help=f"{task.title.lower()}: INT8, speedup, parent-vs-optimized report"),
                   task.name)
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
    perf.add_argument("--inferences", type=count, default=50, help="inferences averaged per model (default 50)")
    perf.add_argument("--out", type=Path, help="folder for performance-comparison.json/.html (default: the project, else .)")
    perf.add_argument("--device", help=f"{DEVICE_HELP} (default: the one the project was benchmarked on, else {DEFAULT_DEVICE})")
    exp = sub.add_parser("explore", help="throughput vs latency over streams x batch (each cell cached)")
    exp.add_argument("model", type=Path, help="IR .xml (e.g. PROJECT/models/optimized/model.xml)")
    exp.add_argument("--cache", type=Path, help="result folder (default: the model's project/explorer, else next to the model)")
    exp.add_argument("--streams", type=ints, metavar="S[,S...]", help="stream counts (default 1 .. 2 x cores)")
    exp.add_argument("--batch", type=ints, metavar="B[,B...]", help="batch sizes (default powers of two up to --max-batch)")
    exp.add_argument("--max-batch", type=count, default=8)
    exp.add_argument("--precision", choices=["f32", "default"], default="f32")
    exp.add_argument("--seconds", type=positive, default=5.0, help="seconds per cell (default 5)")
    exp.add_argument("--threshold-ms", type=positive, help="latency threshold for the sweet spot")
    exp.add_argument("--force", action="store_true", help="measure cached cells again")
    exp.add_argument("--estimate-only", action="store_true", help="print the estimated time and stop")
    exp.add_argument("--device", default=DEFAULT_DEVICE, help=f"{DEVICE_HELP} (default {DEFAULT_DEVICE})")
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


def options_from_args(args: argparse.Namespace) -> TutorialOptions:
    """The tutorial options the parsed flags describe; values out of range are one-line errors."""
    overrides: dict[str, Any] = {k: getattr(args, k) for k in CARD_FLAGS}
    if args.labels:
        overrides["labels"] = read_labels(args.labels)
    settings = QuantizeSettings(method=args.method.replace("-", "_"), max_drop=args.max_drop, drop_type=args.drop_type,
                                metric=args.metric.replace("-", "_"), max_iterations=args.max_iterations,
                                preset=args.preset, subset=args.subset_size,
                                fast_bias_correction=args.fast_bias_correction, graph_fixes=not args.no_graph_fixes,
                                ignored_names=tuple(args.ignore), ignored_types=tuple(args.ignore_type))
    options = TutorialOptions(out=args.out or Path("projects") / args.task, task=args.task, model=args.model,
                           model_card=args.model_card,
                           card_overrides={k: v for k, v in overrides.items() if v is not None},
                           dataset=args.dataset, split=args.split, quantize=settings,
                           bench_seconds=args.bench_seconds, no_bf16=args.no_bf16,
                           min_score=args.min_score, max_detections=args.max_detections, optimized=args.optimized,
                           device=args.device)
    options.check()
    return options


def _number(value: Any) -> str:
    """A value as a flag takes it; floats in full (repr), so 1/255 comes back as the same float."""
    return repr(float(value)) if isinstance(value, float) else str(value)


def _flag_value(key: str, value: Any) -> str:
    if key == "input_size":
        return f"{value[0]}x{value[1]}"
    if isinstance(value, (list, tuple)):
        return ",".join(_number(v) for v in value)
    return _number(value)


def to_argv(options: TutorialOptions) -> list[str]:
    """``segwb tutorial`` flags that give ``options`` back (labels given as a list have no flag: pass a file)."""
    q, target = options.quantize, AccuracyTarget()
    argv = ["tutorial", options.task]
    if options.model:
        argv += ["--model", options.model]
    if options.model_card:
        argv += ["--model-card", options.model_card]
    if options.optimized:
        argv += ["--optimized", options.optimized]
    argv += ["--dataset", options.dataset, "--out", str(options.out)]
    if options.split:
        argv += ["--split", options.split]
    argv += ["--preset", q.preset, "--subset-size", q.subset, "--bench-seconds", _number(options.bench_seconds)]
    if options.no_bf16:
        argv.append("--no-bf16")
    if options.device != DEFAULT_DEVICE:
        argv += ["--device", options.device]
    if q.fast_bias_correction:
        argv.append("--fast-bias-correction")
    if not q.graph_fixes:
        argv.append("--no-graph-fixes")
    argv += [arg for name in q.ignored_names for arg in ("--ignore", name)]
    argv += [arg for kind in q.ignored_types for arg in ("--ignore-type", kind)]
    if q.method == "accuracy_aware":
        argv += ["--method", "accuracy-aware", *(["--max-drop", _number(q.max_drop)] if q.max_drop is not None else []),
                 "--drop-type", q.drop_type, "--metric", q.metric.replace("_", "-")]
        if q.max_iterations != target.max_iterations:
            argv += ["--max-iterations", str(q.max_iterations)]
    if options.min_score != TutorialOptions.min_score:
        argv += ["--min-score", _number(options.min_score)]
    if options.max_detections != TutorialOptions.max_detections:
        argv += ["--max-detections", str(options.max_detections)]
    for key in CARD_FLAGS:
        if key in options.card_overrides:
            argv += [f"--{key.replace('_', '-')}", _flag_value(key, options.card_overrides[key])]
    return argv


def command_line(options: TutorialOptions) -> str:
    """The shell command that reproduces ``options``."""
    return shlex.join(["segwb", *to_argv(options)])
