"""Segment images with the packaged model, exactly as segwb predicted with it (template: segwb deploy copies
this file into the deployment package as ``infer.py``; it runs there, next to ``segwb_runtime/``).

    python infer.py IMAGE [IMAGE...] [--out DIR] [--device CPU]

Images run through an asynchronous queue with two requests per stream the THROUGHPUT hint chose, as segwb's
predictions do; the next image is read while the others infer, and the summaries print in input order.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import openvino as ov

from segwb_runtime.errors import SegwbError
from segwb_runtime.modelcard import ModelCard, load_card
from segwb_runtime.picked import compile_config, first_line, load_image, prediction_queue, save_class_map
from segwb_runtime.preprocess import Geometry, to_tensor
from segwb_runtime.storage import write_json

HERE = Path(__file__).resolve().parent


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Segment images with the packaged OpenVINO model.")
    parser.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    parser.add_argument("--out", type=Path, default=Path("out"), help="output folder (default: out)")
    parser.add_argument("--device", default="CPU", help="OpenVINO device (default CPU, where segwb ran)")
    return parser.parse_args(argv)


# Each task's modules are imported where they are used: a package carries only its own task's modules.
def semantic(request: ov.InferRequest, card: ModelCard, geometry: Geometry, dest: Path) -> str:
    """Save the class map of a finished request as segwb does; a summary of its classes."""
    from segwb_runtime.semantic import class_map

    output = request.get_tensor(card.output) if card.output else request.get_output_tensor(0)
    ids = class_map(output.data, card, geometry)
    save_class_map(dest.with_suffix(".png"), ids)
    counts = np.bincount(ids.ravel())
    classes = ", ".join(f"{card.label(c) or c} {n} px" for c, n in enumerate(counts) if n)
    return f"{ids.shape[1]}x{ids.shape[0]}, {classes} -> {dest.with_suffix('.png')}"


def instance(request: ov.InferRequest, settings: dict[str, Any], card: ModelCard, geometry: Geometry,
             dest: Path) -> str:
    """Save the detections of a finished request as segwb's COCO results (without image and category ids); a
    summary of them."""
    from segwb_runtime.instance_adapters import decode
    from segwb_runtime.picked import to_result

    names = [o.get_any_name() for o in request.model_outputs]
    outputs = {name: request.get_output_tensor(i).data for i, name in enumerate(names)}
    found = decode(outputs, card, geometry, settings["min_score"], settings["max_detections"])
    detections = []
    for c, s, b, m in zip(found.class_ids, found.scores, found.boxes, found.masks, strict=True):
        entry = to_result(0, 0, int(c), s, b, m)
        detections.append({"class_id": entry["class_id"], "label": card.label(int(c)), "score": entry["score"],
                           "bbox": entry["bbox"], "segmentation": entry["segmentation"]})
    height, width = found.image_size
    write_json(dest.with_suffix(".json"), {"height": height, "width": width, "detections": detections})
    best = ", ".join(f"{d['label'] or d['class_id']} {d['score']:.2f}" for d in detections[:5])
    more = f" (+{len(detections) - 5} more)" if len(detections) > 5 else ""
    return f"{len(detections)} detections{': ' + best if best else ''}{more} -> {dest.with_suffix('.json')}"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    settings = json.loads((HERE / "deploy.json").read_text(encoding="utf-8"))
    stems = [p.stem for p in args.images]
    clash = next((s for s in stems if stems.count(s) > 1), None)
    if clash:
        print(f"infer.py: error: several images are named {clash!r}; their outputs would overwrite each other",
              file=sys.stderr)
        return 2
    if ov.__version__ != settings["openvino_version"]:
        print(f"infer.py: warning: OpenVINO {ov.__version__}, the package was built with "
              f"{settings['openvino_version']}; outputs may differ slightly from segwb's", file=sys.stderr)
    card = load_card(HERE / "model" / "model-card.yml")
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
            summary = (instance(request, settings, card, geometry, dest) if settings["task"] == "instance"
                       else semantic(request, card, geometry, dest))
        except BaseException as exc:  # raised after wait_all: OpenVINO would swallow it
            errors.append(exc)
            summary = "failed"
        with lock:  # print in input order, as soon as every earlier image is done
            summaries[index] = summary
            while printed in summaries:
                print(f"{args.images[printed]}: {summaries.pop(printed)}", flush=True)
                printed += 1

    queue = prediction_queue(compiled)
    queue.set_callback(finished)
    status = 0
    for index, path in enumerate(args.images):
        try:
            tensor, geometry = to_tensor(load_image(path), card, input_type)
        except (SegwbError, OSError) as exc:  # np.fromfile raises OSError for a missing file or a folder
            queue.wait_all()  # the images before it are finished and printed first
            message = str(exc) if isinstance(exc, SegwbError) else f"{path}: cannot read ({exc.strerror})"
            print(f"infer.py: error: {message}", file=sys.stderr)
            status = 2
            break
        queue.start_async({0: tensor}, (index, geometry))
    queue.wait_all()
    if errors:
        raise errors[0]
    return status


if __name__ == "__main__":
    sys.exit(main())
