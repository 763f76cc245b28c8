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
    g.add_argument("--adapter", choices=["class_map", "scores"])
    g.add_argument("--output-layout", choices=["NCHW", "NHWC"])
    g.add_argument("--output", metavar="NAME", help="output tensor to read when the model has several")
    g.add_argument("--labels", type=Path, metavar="FILE", help="class names, one per line")


def _floats(text: str) -> list[float] | float:
    values = [float(v) for v in text.split(",")]
    return values[0] if len(values) == 1 else values


def _size(text: str) -> list[int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HxW, e.g. 513x513, got {text!r}") from None
    return [h, w]


def _run_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help="zoo model name or model path (default: deeplabv3, else selfie-segmentation)")
    p.add_argument("--dataset", default="embedded", help="image folder or Pascal VOC root (default: the embedded photos)")
    p.add_argument("--split", help="Pascal VOC image-set list to use (default: val, else the first)")
    p.add_argument("--out", type=Path, default=Path("projects/semantic"), help="project folder (default: projects/semantic)")
    p.add_argument("--preset", choices=["performance", "mixed"], default="performance")
    p.add_argument("--subset-size", default="100%", metavar="N|P%", help="calibration images: count or percentage (max 300)")
    p.add_argument("--no-fast-bias-correction", action="store_true", help="use the full bias correction algorithm")
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
    _run_flags(tut_sub.add_parser("semantic", help="semantic segmentation: INT8, speedup, parent-vs-optimized report"))
    for name, text in (("quantize", "import the model and quantize it to INT8 into the project"),
                       ("benchmark", "…and measure parent and INT8 throughput"),
                       ("compare", "…and write the parent-vs-optimized report (all steps; cached steps are reused)")):
        _run_flags(sub.add_parser(name, help=text))
    fetch = sub.add_parser("fetch", help="download a zoo model into the cache")
    fetch.add_argument("name", nargs="?", help="zoo model (default: the semantic tutorial's default)")
    sub.add_parser("zoo", help="list the zoo models")
    return parser


def _options(args: argparse.Namespace) -> Any:
    from .quantize import QuantizeSettings
    from .pipeline import TutorialOptions

    overrides = {k: getattr(args, k) for k in ("layout", "color_order", "mean", "scale", "resize", "pad_value",
                                               "input_size", "adapter", "output_layout", "output")}
    if args.labels:
        from .modelcard import read_labels

        overrides["labels"] = read_labels(args.labels)
    settings = QuantizeSettings(preset=args.preset, subset=args.subset_size,
                                fast_bias_correction=not args.no_fast_bias_correction,
                                ignored_names=tuple(args.ignore), ignored_types=tuple(args.ignore_type))
    return TutorialOptions(out=args.out, model=args.model, model_card=args.model_card,
                           card_overrides={k: v for k, v in overrides.items() if v is not None},
                           dataset=args.dataset, split=args.split, quantize=settings,
                           bench_seconds=args.bench_seconds, no_bf16=args.no_bf16)


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
    perf, comp, gt = report["performance"], report["comparison"], report["ground_truth"]
    lines = [report["model_choice"],
             f"parent f32: {perf['parent']['fps']:.1f} FPS; INT8 ({perf['optimized_precision']}): "
             f"{perf['optimized']['fps']:.1f} FPS; speedup {perf['speedup']:.2f}x",
             f"mean Optimized Model Average Result {comp['mean_average_result']:.4f}, "
             f"pixel agreement {100 * comp['mean_pixel_agreement']:.2f} %"]
    if gt:
        lines.append(f"ground-truth mean IoU: parent {100 * gt['parent']['mean_iou']:.2f} %, "
                     f"optimized {100 * gt['optimized']['mean_iou']:.2f} %")
    lines += [f"report: {path}", f"report page: {path.with_suffix('.html')}"]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.command == "zoo":
        from .zoo import ENTRIES

        for e in ENTRIES.values():
            print(f"{e.name:38} {e.task:9} {e.summary}")
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
    from . import semantic_tutorial
    from .storage import read_json

    options = _options(args)
    until = {"quantize": "quantize", "benchmark": "benchmark"}.get(args.command, "report")
    with contextlib.redirect_stdout(sys.stderr):  # NNCF prints progress bars on stdout; keep it for the result
        path = semantic_tutorial.run(options, progress=_progress(), until=until)
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
