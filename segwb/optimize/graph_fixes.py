"""Graph rewrites that let INT8 models reach their speed without changing what they predict.

Two problems seen in the per-layer profiles of real models (README, "Why INT8 was slow"):

* Weights reached through a constant subgraph (``Constant -> Transpose -> Reshape -> GroupConvolution``,
  as TensorFlow converters leave depthwise kernels) are not constants to NNCF, so it quantizes only the
  activations and the CPU runs those layers in floating point behind a dequantization. Folding the
  constant subgraphs first gives NNCF plain weight constants. Folding is exact.
* A post-processing tail written channels-last (``Transpose(NCHW->NHWC) -> Interpolate -> TopK(axis=C)``)
  makes the CPU plugin reduce over the innermost axis of a full-resolution score map, which is several
  times slower than the same TopK on the network's own layout. Moving the Transpose below the TopK (where
  it permutes a one-channel tensor) does the same arithmetic in another memory order (float results may
  differ in the last bit from a different kernel). It is kept only where it is measured faster and every
  output is identical on real images (integers exactly, floats to rounding).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import openvino as ov
from openvino import opset11
from openvino.passes import ConstantFolding, Manager
from openvino.utils.node_factory import NodeFactory

from ..core.compile import compile_model

# Layers whose second input (index 1) holds their weights.
WEIGHTED = {"Convolution", "GroupConvolution", "ConvolutionBackpropData", "GroupConvolutionBackpropData", "MatMul"}
# Ops that compute each element from the same position of other channels or spatial neighbours only, so
# they can run in any axis order once their axis attributes or inputs are permuted.
UNARY = {"Sigmoid", "Exp", "Relu", "Clamp", "Convert", "Tanh", "Log", "Abs"}
AXIS_ATTRIBUTE = {"Softmax", "LogSoftmax"}
INTERPOLATE_AXES_INPUT = {"opset4": 3, "opset11": 2}
MIN_GAIN = 0.03  # a rewrite must cut latency by at least this fraction to be kept (timing noise is ~1-2 %)


@dataclass(frozen=True)
class GraphFix:
    """One rewrite, in words for the user, with the layers it touched and what was measured."""

    name: str
    summary: str
    nodes: list[str]
    measured: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _is_constant(output: ov.Output) -> bool:
    node = output.get_node()
    if node.get_type_name() == "Convert":  # f16/int weight decompression is a constant to NNCF too
        node = node.input(0).get_source_output().get_node()
    return node.get_type_name() == "Constant"


def _weights_behind_subgraphs(model: ov.Model) -> list[str]:
    weighted = [op for op in model.get_ordered_ops() if op.get_type_name() in WEIGHTED]
    return [op.get_friendly_name() for op in weighted
            if not _is_constant(weights := op.input(1).get_source_output()) and _constant_subgraph(weights.get_node())]


def _constant_subgraph(node: ov.Node) -> bool:
    """True when everything feeding ``node`` is a Constant (so folding turns it into one)."""
    stack, seen = [node], set()
    while stack:
        current = stack.pop()
        if current.get_instance_id() in seen:
            continue
        seen.add(current.get_instance_id())
        if current.get_type_name() in ("Parameter", "ReadValue"):
            return False
        stack.extend(i.get_source_output().get_node() for i in current.inputs())
    return True


def fold_weight_constants(model: ov.Model) -> GraphFix | None:
    """Fold constant subgraphs in place so layers behind them get plain weight constants; None if none did."""
    before = _weights_behind_subgraphs(model)
    if not before:
        return None
    manager = Manager()
    manager.register_pass(ConstantFolding())
    manager.run_passes(model)
    remaining = set(_weights_behind_subgraphs(model))
    folded = [name for name in before if name not in remaining]
    if not folded:
        return None
    types = sorted({op.get_type_name() for op in model.get_ordered_ops() if op.get_friendly_name() in folded})
    return GraphFix("fold-weight-constants",
                    f"Folded the constant subgraphs (Transpose, Reshape, ...) feeding the weights of {len(folded)} "
                    f"layers ({', '.join(types)}) before quantizing, so NNCF could quantize those weights and the "
                    "CPU can run the layers in INT8. Folding computes the same weights.", folded)


def _source(node: ov.Node, index: int = 0) -> ov.Node:
    return node.input(index).get_source_output().get_node()


def _constant_values(node: ov.Node) -> list[int] | None:
    return node.get_data().astype(np.int64).ravel().tolist() if node.get_type_name() == "Constant" else None


def _single_consumer(node: ov.Node) -> bool:
    return sum(len(o.get_target_inputs()) for o in node.outputs()) == 1


def _tail_chain(topk: ov.Node) -> tuple[ov.Node, list[ov.Node]] | None:
    """The Transpose above ``topk`` and the layout-free ops between them (top first), if the pattern holds."""
    chain: list[ov.Node] = []
    node = _source(topk)
    while _single_consumer(node):
        kind = node.get_type_name()
        version = node.get_type_info().version_id
        if kind == "Transpose" and _constant_values(_source(node, 1)) is not None:
            return node, chain[::-1]
        if kind == "Interpolate" and version in INTERPOLATE_AXES_INPUT:
            attrs = node.get_attributes()
            if any(attrs["pads_begin"]) or any(attrs["pads_end"]):
                return None
        elif kind not in UNARY | AXIS_ATTRIBUTE:
            return None
        chain.append(node)
        node = _source(node)
    return None


def _recreate(node: ov.Node, inputs: list[ov.Output], attrs: dict[str, Any]) -> ov.Node:
    created = NodeFactory(node.get_type_info().version_id).create(node.get_type_name(), inputs, attrs)
    created.set_friendly_name(node.get_friendly_name())
    return created


def _remap(node: ov.Node, x: ov.Output, perm: list[int]) -> ov.Output:
    """``node`` recreated on the un-transposed input ``x``: axis ``a`` of the old layout is ``perm[a]``."""
    kind = node.get_type_name()
    attrs = node.get_attributes()
    rank = len(perm)
    if kind in AXIS_ATTRIBUTE:
        attrs["axis"] = perm[attrs["axis"] % rank]
        return _recreate(node, [x], attrs).output(0)
    if kind == "Interpolate":
        axes_at = INTERPOLATE_AXES_INPUT[node.get_type_info().version_id]
        inputs = [i.get_source_output() for i in node.inputs()]
        axes = (_constant_values(_source(node, axes_at)) if node.get_input_size() > axes_at else list(range(rank)))
        if axes is None:
            raise ValueError("non-constant Interpolate axes")
        new_axes = ov.op.Constant(np.array([perm[a % rank] for a in axes], np.int64)).output(0)
        inputs = [x, *inputs[1:axes_at], new_axes]
        return _recreate(node, inputs, attrs).output(0)
    return _recreate(node, [x, *(i.get_source_output() for i in node.inputs()[1:])], attrs).output(0)


def sink_tail_transposes(model: ov.Model) -> list[str]:
    """Move each Transpose above a TopK tail below the TopK, in place; the TopK names rewritten."""
    rewritten = []
    for topk in [op for op in model.get_ordered_ops() if op.get_type_name() == "TopK"]:
        found = _tail_chain(topk)
        if found is None:
            continue
        transpose, chain = found
        perm = _constant_values(_source(transpose, 1))
        x = transpose.input(0).get_source_output()
        try:
            for node in chain:
                x = _remap(node, x, perm)
        except ValueError:
            continue
        attrs = topk.get_attributes()
        attrs["axis"] = perm[attrs["axis"] % len(perm)]
        new_topk = _recreate(topk, [x, topk.input(1).get_source_output()], attrs)
        back = ov.op.Constant(np.array(perm, np.int64))
        for index, output in enumerate(topk.outputs()):
            restored = opset11.transpose(new_topk.output(index), back)
            for target in list(output.get_target_inputs()):
                target.replace_source_output(restored.output(0))
        rewritten.append(topk.get_friendly_name())
    if rewritten:
        model.validate_nodes_and_infer_types()
    return rewritten


def _outputs(compiled: ov.CompiledModel, tensors: Sequence[np.ndarray]) -> list[list[np.ndarray]]:
    request = compiled.create_infer_request()
    return [[np.array(v, copy=True) for v in request.infer({0: t}).values()] for t in tensors]


def _identical_share(a: list[list[np.ndarray]], b: list[list[np.ndarray]]) -> float:
    """Share of output elements that agree: exactly for integers, to float rounding for real values."""
    same = total = 0
    for outs_a, outs_b in zip(a, b, strict=True):
        for x, y in zip(outs_a, outs_b, strict=True):
            equal = (x == y) if np.issubdtype(x.dtype, np.integer) else np.isclose(x, y, rtol=1e-5, atol=1e-6)
            same += int(np.count_nonzero(equal))
            total += x.size
    return same / total if total else 1.0


def interleaved_latency_ms(compiled: dict[str, ov.CompiledModel], tensor: np.ndarray, seconds: float) -> dict[str, float]:
    """Median latency of each compiled model, their single inferences taking turns (rotating the order).

    Taking turns one inference at a time makes the frequency swings and bursts of a shared machine hit
    every model alike; whole-run medians of the same model varied by 25 % here.
    """
    names = list(compiled)
    requests = {name: compiled[name].create_infer_request() for name in names}
    for request in requests.values():
        request.infer({0: tensor})
    times: dict[str, list[float]] = {name: [] for name in names}
    deadline = time.perf_counter() + seconds
    turn = 0
    while time.perf_counter() < deadline or turn < 5:
        for name in names[turn % len(names):] + names[:turn % len(names)]:
            start = time.perf_counter()
            requests[name].infer({0: tensor})
            times[name].append((time.perf_counter() - start) * 1e3)
        turn += 1
    return {name: statistics.median(t) for name, t in times.items()}


def keep_tail_rewrite(model: ov.Model, tensors: Sequence[np.ndarray], precisions: Sequence[str | None] = (None, "f32"),
                      seconds: float = 2.0) -> tuple[ov.Model, GraphFix | None]:
    """``model`` with its TopK tails rewritten when that is faster and identical on ``tensors``, else unchanged.

    Both versions run under the LATENCY hint at each precision, their inferences taking turns.
    """
    candidate = model.clone()
    rewritten = sink_tail_transposes(candidate)
    if not rewritten:
        return model, None
    compiled, measured = {}, {}
    for precision in precisions:
        key = precision or "default"
        compiled[f"before@{key}"], compiled[f"after@{key}"] = (compile_model(m, precision, "LATENCY") for m in (model, candidate))
        share = _identical_share(_outputs(compiled[f"before@{key}"], tensors), _outputs(compiled[f"after@{key}"], tensors))
        measured[key] = {"identical_share": share, "images": len(tensors)}
    latency = interleaved_latency_ms(compiled, tensors[0], seconds)
    for name, ms in latency.items():
        side, key = name.split("@")
        measured[key][f"latency_ms_{side}"] = ms
    identical = all(m["identical_share"] == 1.0 for m in measured.values())
    # The benchmark step runs the INT8 model at whichever precision is faster, so the best of each side decides.
    before = min(ms for name, ms in latency.items() if name.startswith("before"))
    after = min(ms for name, ms in latency.items() if name.startswith("after"))
    kept = identical and after < before * (1 - MIN_GAIN)
    names = ", ".join(rewritten)
    timing = f"best latency {before:.2f} -> {after:.2f} ms"
    if kept:
        summary = (f"Moved the channels-last Transpose below the TopK (arg-max) tail of {names}: {timing}; outputs "
                   f"identical on all {len(tensors)} checked images. Only the memory order changed.")
    else:
        reason = "outputs differed" if not identical else f"not at least {MIN_GAIN:.0%} faster"
        summary = f"Tried moving the channels-last Transpose below the TopK tail of {names} ({timing}); not kept: {reason}."
    fix = GraphFix("tail-layout", summary, rewritten, {**measured, "kept": kept})
    return (candidate if kept else model), fix
