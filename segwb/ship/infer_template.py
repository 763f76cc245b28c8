"""Segment images with the packaged model, exactly as segwb predicted with it (template: segwb deploy copies
this file into the deployment package as ``infer.py``; it runs there, next to ``segwb_runtime/``, and what it
imports from ``segwb_runtime`` decides which of segwb's modules the package carries).

    python infer.py IMAGE [IMAGE...] [--out DIR] [--device DEVICE]

Images run through an asynchronous queue with two requests per stream the THROUGHPUT hint chose, as segwb's
predictions do; the next image is read while the others infer, and the summaries print in input order.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import openvino as ov

from segwb_runtime.core.compile import compile_config
from segwb_runtime.core.errors import SegwbError, first_line
from segwb_runtime.inference.preprocess import Geometry, to_tensor
from segwb_runtime.inference.queue import prediction_requests, with_queue
from segwb_runtime.io.images import load_image
from segwb_runtime.io.model_card import load_card

HERE = Path(__file__).resolve().parent


def parse(argv: Sequence[str] | None, device: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Segment images with the packaged OpenVINO model.")
    parser.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    parser.add_argument("--out", type=Path, default=Path("out"), help="output folder (default: out)")
    parser.add_argument("--device", default=device, help=f"OpenVINO device (default {device}, where segwb measured it)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    settings = json.loads((HERE / "deploy.json").read_text(encoding="utf-8"))
    args = parse(argv, settings["device"])
    stems = [p.stem for p in args.images]
    clash = next((s for s in stems if stems.count(s) > 1), None)
    if clash:
        print(f"infer.py: error: several images are named {clash!r}; their outputs would overwrite each other",
              file=sys.stderr)
        return 2
    if ov.__version__ != settings["openvino_version"]:
        print(f"infer.py: warning: OpenVINO {ov.__version__}, the package was built with "
              f"{settings['openvino_version']}; outputs may differ slightly from segwb's", file=sys.stderr)
    card = load_card(HERE / "model" / "model-card.yml", {settings["task"]: [settings["adapter"]]})
    save = importlib.import_module(settings["runtime"]).save  # the task's: a class map, or detections
    try:
        compiled = ov.Core().compile_model(HERE / "model" / "model.xml", args.device,
                                           compile_config(settings["inference_precision_hint"],
                                                          settings["performance_hint"]))
    except RuntimeError as exc:
        print(f"infer.py: error: cannot compile the model for {args.device} ({first_line(exc)})", file=sys.stderr)
        return 2
    input_type = compiled.input(0).get_element_type().to_dtype()
    summaries: dict[int, str] = {}
    errors: list[BaseException] = []
    printed = 0
    lock = threading.Lock()

    def finished(request: ov.InferRequest, userdata: tuple[int, Geometry]) -> None:
        nonlocal printed
        index, geometry = userdata
        dest = args.out / args.images[index].stem
        try:
            summary = save(request, settings, card, geometry, dest)
        except BaseException as exc:  # raised after wait_all: OpenVINO would swallow it
            errors.append(exc)
            summary = "failed"
        with lock:  # print in input order, as soon as every earlier image is done
            summaries[index] = summary
            while printed in summaries:
                print(f"{args.images[printed]}: {summaries.pop(printed)}", flush=True)
                printed += 1

    def feed(queue: ov.AsyncInferQueue) -> int:
        for index, path in enumerate(args.images):
            try:
                tensor, geometry = to_tensor(load_image(path), card, input_type)
            except (SegwbError, OSError) as exc:  # np.fromfile raises OSError for a missing file or a folder
                queue.wait_all()  # the images before it are finished and printed first
                message = str(exc) if isinstance(exc, SegwbError) else f"{path}: cannot read ({exc.strerror})"
                print(f"infer.py: error: {message}", file=sys.stderr)
                return 2
            queue.start_async({0: tensor}, (index, geometry))
        return 0

    status = with_queue(compiled, prediction_requests(compiled), finished, feed, errors)
    if errors:
        raise errors[0]
    return status


if __name__ == "__main__":
    sys.exit(main())
