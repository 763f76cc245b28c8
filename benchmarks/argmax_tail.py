"""Issue 19's optional experiment: deeplabv3's arg-max tail (bilinear upsampling of the scores, then the arg-max over
classes) on the host, computing full-resolution scores only where the low-resolution arg-max changes inside a cell.

Usage: python benchmarks/argmax_tail.py [--int8 XML] [--seconds S] [--rounds R] [--out FILE]

The model is cut before its Interpolate + TopK tail (deeplabv3: 33 x 33 x 21 scores, align-corners, to 513 x 513).
Where the four source pixels of an interpolation cell share their first-index arg-max (and lead the classes before
it by more than rounding can close), every pixel of the cell has it too (the weights are non-negative, ties
included), so only the other cells (about 9 % of the pixels) are interpolated, with the CPU plugin's own float32
operations (its ``linear_onnx_worker_2d``: two FMAs a row, one between rows), as blocks. Measured, for the parent (f32) and its INT8 model (``--int8``, else
quantized here with segwb's Default method on coco96-images):
1. the class maps of every coco96 photo against the unmodified model's (pixels that differ, and for those the gap
   between the two best classes' scores computed in float64);
2. end-to-end images/s (JPEG decoding, preprocessing, inference, post-processing) at the f32 hint, THROUGHPUT
   hint, one AsyncInferQueue: the unmodified model (its class map copied out), the cut model with the host tail,
   and the cut model alone (no tail at all: the ceiling), rounds taking turns;
3. the host tail's CPU time per image (one thread).
Not part of segwb: a measured basis for deciding whether to build it in (docs/performance.md).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import openvino as ov

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from segwb.core.storage import write_json  # noqa: E402
from segwb.inference.preprocess import to_tensor  # noqa: E402
from segwb.io.images import load_image  # noqa: E402
from segwb.tasks.model_import import describe  # noqa: E402

DEEPLAB_CARD = {"color_order": "RGB", "resize": "fit_pad", "pad_value": 0}  # the fixture's README
CONFIG = {"INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "THROUGHPUT"}


def fixtures() -> Path:
    found = Path(os.environ.get("SEGWB_FIXTURES", ROOT.parent / "shared" / "zoo"))
    if not (found / "datasets" / "coco96-images").is_dir():
        sys.exit(f"no fixtures at {found}: set SEGWB_FIXTURES")
    return found


def cut(model: ov.Model) -> ov.Model:
    """The model up to the scores its TopK tail upsamples (NHWC), checked to be the align-corners linear kind."""
    node = model.output(0).get_node()
    while node.get_type_name() != "TopK":
        node = node.input_value(0).get_node()
    assert node.get_attributes()["axis"] == 3, "a channels-last arg-max"
    source = node.input_value(0)
    while source.get_node().get_type_name() == "Interpolate":  # deeplabv3 has an identity 33 -> 33 one first
        attributes = source.get_node().get_attributes()
        assert attributes["mode"] == "linear_onnx" and attributes["coordinate_transformation_mode"] == "align_corners"
        source = source.get_node().input_value(0)
    return ov.Model([source], model.get_parameters(), "cut")


def grid(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per output index: the lower source index of its cell (at most n_in - 2) and the two align-corners weights."""
    s = np.arange(n_out, dtype=np.float64) * (n_in - 1) / (n_out - 1)
    i0 = np.minimum(np.floor(s).astype(np.int64), n_in - 2)
    w1 = (s - i0).astype(np.float32)
    return i0, (1 - w1).astype(np.float32), w1


def fma(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """float32 a * b + c rounded once, as the plugin's vfmadd231ps (exact in float64 for these operands)."""
    return (a.astype(np.float64) * b + c).astype(np.float32)


def blend(tl: np.ndarray, tr: np.ndarray, bl: np.ndarray, br: np.ndarray, wl: np.ndarray, wr: np.ndarray,
          wt: np.ndarray, wb: np.ndarray) -> np.ndarray:
    """The CPU plugin's linear_onnx 2-D step (``linear_onnx_worker_2d``), operation for operation:
    top = fma(TL, wL, TR * wR), bottom = fma(BL, wL, BR * wR), out = fma(bottom, wB, top * wT)."""
    top = fma(tl, wl, tr * wr)
    bottom = fma(bl, wl, br * wr)
    return fma(bottom, wb, top * wt)


def cell_corners(a: np.ndarray) -> list[np.ndarray]:
    """The top-left, top-right, bottom-left and bottom-right source values of every interpolation cell."""
    return [a[:-1, :-1], a[:-1, 1:], a[1:, :-1], a[1:, 1:]]


class HostArgMax:
    """The first-index arg-max over classes of the align-corners bilinear upsampling of H x W x C scores, as the
    plugin's Interpolate + stable TopK would give it, for integer upsampling factors.

    A cell whose four source pixels share their arg-max c gives c to all its pixels: every weight is non-negative and
    each rounding step is monotone, so no class scores above c, and a class before c cannot tie with it when c leads
    it by more than the rounding can close at every corner (``MARGIN`` of the largest score). The other cells are
    computed with the plugin's own operations, as blocks.
    """

    MARGIN = 2.0 ** -18  # rounding error of three f32 operations on values up to M: under 2^-21 M each

    def __init__(self, hin: int, win: int, hout: int, wout: int) -> None:
        fy, fx = (hout - 1) // (hin - 1), (wout - 1) // (win - 1)
        if fy * (hin - 1) != hout - 1 or fx * (win - 1) != wout - 1:
            raise ValueError("integer upsampling factors only")
        self.f = fy, fx
        self.y0, self.wt, self.wb = grid(hin, hout)
        self.x0, self.wl, self.wr = grid(win, wout)

    def __call__(self, scores: np.ndarray) -> tuple[np.ndarray, int]:
        low = scores.argmax(-1)
        best = np.take_along_axis(scores, low[..., None], -1)[..., 0]
        before = np.where(np.arange(scores.shape[-1]) < low[..., None], scores, -np.inf).max(-1)
        lead = best - before  # how far the arg-max leads every class before it (inf for class 0)
        corner, *others = cell_corners(low)
        same = np.logical_and.reduce([corner == other for other in others])
        largest = np.maximum.reduce(cell_corners(np.abs(scores).max(-1)))
        safe = same & (np.minimum.reduce(cell_corners(lead)) > self.MARGIN * largest)
        out = np.where(safe, corner, -1)[self.y0][:, self.x0]
        cy, cx = np.nonzero(~safe)
        fy, fx = self.f
        if cy.size:
            c = scores.shape[-1]
            tl, tr = scores[cy, cx][:, None, None], scores[cy, cx + 1][:, None, None]
            bl, br = scores[cy + 1, cx][:, None, None], scores[cy + 1, cx + 1][:, None, None]
            wl, wr = self.wl[:fx].reshape(1, 1, fx, 1), self.wr[:fx].reshape(1, 1, fx, 1)
            wt, wb = self.wt[:fy].reshape(1, fy, 1, 1), self.wb[:fy].reshape(1, fy, 1, 1)
            # (M, 1, fx, C) rows, one per cell whatever its height, then (M, fy, fx, C)
            blocks = blend(tl, tr, bl, br, wl, wr, wt, wb).reshape(-1, fy, fx, c).argmax(-1)
            h, w = low.shape[0] - 1, low.shape[1] - 1
            out[:h * fy, :w * fx].reshape(h, fy, w, fx)[cy, :, cx, :] = blocks
        ys, xs = np.nonzero(out < 0)  # the last row and column of computed cells (the blocks cover fy x fx)
        if ys.size:
            y0, x0 = self.y0[ys], self.x0[xs]
            wl, wr, wt, wb = self.wl[xs, None], self.wr[xs, None], self.wt[ys, None], self.wb[ys, None]
            out[ys, xs] = blend(scores[y0, x0], scores[y0, x0 + 1], scores[y0 + 1, x0], scores[y0 + 1, x0 + 1],
                                wl, wr, wt, wb).argmax(-1)
        return out, int(cy.size * fy * fx)

    def upsampled(self, scores: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        """The upsampled scores of pixels (ys, xs) in float64 (exact arithmetic, to see how close a tie was)."""
        y0, x0 = self.y0[ys], self.x0[xs]
        s = scores.astype(np.float64)
        wl, wr = self.wl[xs, None].astype(np.float64), self.wr[xs, None].astype(np.float64)
        top = wl * s[y0, x0] + wr * s[y0, x0 + 1]
        bottom = wl * s[y0 + 1, x0] + wr * s[y0 + 1, x0 + 1]
        return self.wt[ys, None] * top + self.wb[ys, None] * bottom


def quantized(parent: Path, photos: Path, card: Path, work: Path) -> Path:
    project = work / "int8"
    subprocess.run([sys.executable, "-m", "segwb", "quantize", "--model", str(parent), "--model-card", str(card),
                    "--dataset", str(photos), "--out", str(project)], check=True, stdout=subprocess.DEVNULL)
    return project / "models" / "optimized" / "model.xml"


def images_per_second(compiled: ov.CompiledModel, post: Callable[[np.ndarray], Any], photos: list[Path],
                      card: Any, seconds: float) -> float:
    queue = ov.AsyncInferQueue(compiled, 0)
    done = [0]

    def finished(request: ov.InferRequest, _: Any) -> None:
        post(request.get_output_tensor(0).data[0])
        done[0] += 1

    queue.set_callback(finished)
    start, i = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        queue.start_async({0: to_tensor(load_image(photos[i % len(photos)]), card, np.uint8)[0]})
        i += 1
    queue.wait_all()
    return done[0] / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--int8", type=Path)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "argmax_tail.json")
    args = parser.parse_args()
    zoo = fixtures()
    parent = zoo / "models" / "deeplabv3-mnv2-voc-513" / "deeplabv3.xml"
    photos = sorted((zoo / "datasets" / "coco96-images").glob("*.jpg"))
    _, card = describe(parent, overrides=DEEPLAB_CARD)
    with tempfile.TemporaryDirectory() as tmp:
        card_file = Path(tmp) / "card.yml"
        card_file.write_text("".join(f"{k}: {v}\n" for k, v in DEEPLAB_CARD.items()))
        int8 = args.int8 or quantized(parent, zoo / "datasets" / "coco96-images", card_file, Path(tmp))
        core = ov.Core()
        models = {"parent": core.read_model(parent), "int8": core.read_model(int8)}
        full = {role: core.compile_model(m, "CPU", CONFIG) for role, m in models.items()}
        cuts = {role: core.compile_model(cut(m), "CPU", CONFIG) for role, m in models.items()}
    scores_shape = cuts["parent"].output(0).get_partial_shape().to_shape()
    map_shape = full["parent"].output(0).get_partial_shape().to_shape()
    host = HostArgMax(scores_shape[1], scores_shape[2], map_shape[1], map_shape[2])
    tensors = [to_tensor(load_image(p), card, np.uint8)[0] for p in photos]

    class_maps: dict[str, Any] = {}
    for role in full:
        whole, scores_of = full[role].create_infer_request(), cuts[role].create_infer_request()
        differing, mixed, gaps = 0, 0, []
        for tensor in tensors:
            reference = whole.infer({0: tensor})[0][0]
            scores = scores_of.infer({0: tensor})[0][0].copy()
            got, computed = host(scores)
            mixed += computed
            ys, xs = np.nonzero(reference != got)
            differing += int(ys.size)
            if ys.size:
                exact = np.sort(host.upsampled(scores, ys, xs), axis=-1)
                gaps += (exact[:, -1] - exact[:, -2]).tolist()
        class_maps[role] = {"pixels": len(tensors) * int(np.prod(map_shape)), "pixels_differing": differing,
                            "top_two_gap_float64_where_differing": gaps,
                            "share_computed_at_full_resolution": mixed / (len(tensors) * int(np.prod(map_shape)))}
        print(role, class_maps[role], flush=True)

    outputs = [cuts["int8"].create_infer_request().infer({0: t})[0][0].copy() for t in tensors[:30]]
    start = time.thread_time()
    for scores in outputs:
        host(scores)
    host_ms = (time.thread_time() - start) / len(outputs) * 1000

    ways = {"plugin tail": (full, lambda o: o.copy()), "host tail": (cuts, host), "no tail (ceiling)": (cuts, lambda o: o.copy())}
    fps: dict[str, list[float]] = {}
    for round_ in range(args.rounds):
        for role in full:
            for way, (compiled, post) in ways.items():
                fps.setdefault(f"{role}, {way}", []).append(
                    round(images_per_second(compiled[role], post, photos, card, args.seconds), 2))
                print(round_, role, way, fps[f"{role}, {way}"][-1], flush=True)
    medians = {k: float(np.median(v)) for k, v in fps.items()}
    result = {
        "what": __doc__.splitlines()[0], "int8": str(int8) if args.int8 else "quantized here (Default method, coco96-images)",
        "seconds_per_run": args.seconds, "rounds": args.rounds,
        "machine": {"cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()]},
        "class_maps": class_maps, "host_tail_cpu_ms_per_image": round(host_ms, 2), "images_per_second": fps,
        "median": medians,
        "speedup_int8_over_parent": {way: round(medians[f"int8, {way}"] / medians[f"parent, {way}"], 3) for way in ways},
        "gain_of_host_tail": {role: round(medians[f"{role}, host tail"] / medians[f"{role}, plugin tail"], 3)
                              for role in full},
    }
    write_json(args.out, result)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
