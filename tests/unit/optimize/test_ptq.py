"""segwb.optimize.ptq: NNCF's post-training quantization with the full bias correction's images capped."""

from __future__ import annotations

import nncf
import numpy as np
import openvino as ov
import openvino.opset11 as ops
import pytest

from segwb.optimize import ptq
from segwb.optimize.ptq import bias_correction_images, quantize_model

DEEPLAB_INPUT = 513 * 513 * 3  # values of one deeplabv3 input
YOLO_INPUT = 320 * 320 * 3


@pytest.mark.parametrize("subset, input_values, images", [
    (96, DEEPLAB_INPUT, 19),    # 20 % of 96 = 19.2: NNCF's share, under the cap of 16 Mi / 789,507 = 21.2
    (300, DEEPLAB_INPUT, 21),   # NNCF's 60 peaked at 2.45 GiB on the fixture
    (300, YOLO_INPUT, 54),      # 16 Mi / 307,200 = 54.6, just under NNCF's 60
    (960, YOLO_INPUT, 54),
    (3, DEEPLAB_INPUT, 1),      # NNCF's floor of one image
    (300, 12_000_000, 8),       # inputs too big for 8 in the budget still get 8
    (20, 12_000_000, 4),         # ... unless NNCF's share is smaller
])
def test_bias_correction_images(subset, input_values, images):
    assert bias_correction_images(subset, input_values) == images


def conv_model() -> ov.Model:
    """Two convolutions with biases, so both bias corrections have layers to correct."""
    rng = np.random.default_rng(1)
    x = ops.parameter([1, 3, 16, 16], np.float32, name="x")
    y = x
    for channels, inputs in ((8, 3), (4, 8)):
        w = ops.constant(rng.normal(size=(channels, inputs, 3, 3)).astype(np.float32))
        y = ops.convolution(y, w, [1, 1], [1, 1], [1, 1], [1, 1])
        y = ops.relu(ops.add(y, ops.constant(rng.normal(size=(1, channels, 1, 1)).astype(np.float32))))
    return ov.Model([y], [x], "convs")


def data(n: int) -> nncf.Dataset:
    rng = np.random.default_rng(2)
    return nncf.Dataset([rng.normal(size=(1, 3, 16, 16)).astype(np.float32) for _ in range(n)])


def constants(model: ov.Model) -> list[np.ndarray]:
    return [op.get_data().copy() for op in model.get_ordered_ops() if op.get_type_name() == "Constant"]


def test_uncapped_full_bias_correction_is_nncf_quantize():
    """With the cap not binding (20 % of 20 = 4 images), every constant of the result is NNCF's own."""
    ours, images = quantize_model(conv_model(), data(20), 16 * 16 * 3, subset_size=20, fast_bias_correction=False)
    theirs = nncf.quantize(conv_model(), data(20), subset_size=20, fast_bias_correction=False)
    assert images == 4
    mine, nncfs = constants(ours), constants(theirs)
    assert len(mine) == len(nncfs) and all(np.array_equal(a, b) for a, b in zip(mine, nncfs))


def test_the_cap_sets_the_bias_correction_subset(monkeypatch):
    """A cap of 2 images: NNCF's BiasCorrection is built with the subset the cap gives, and says so in rt_info."""
    seen = []
    original = ptq.BiasCorrection.apply

    def apply(self, *args, **kwargs):
        seen.append(self.subset_size)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ptq.BiasCorrection, "apply", apply)
    monkeypatch.setattr(ptq, "MIN_BIAS_CORRECTION_IMAGES", 2)
    monkeypatch.setattr(ptq, "BIAS_CORRECTION_INPUT_VALUES", 2 * 16 * 16 * 3)
    quantized, images = quantize_model(conv_model(), data(20), 16 * 16 * 3, subset_size=20,
                                       fast_bias_correction=False)
    assert images == 2 and seen == [2]
    assert quantized.get_rt_info(["nncf", "quantization", "bias_correction_subset_size"]).astype(int) == 2


def test_fast_bias_correction_goes_through_nncf():
    quantized, images = quantize_model(conv_model(), data(10), 16 * 16 * 3, subset_size=10,
                                       fast_bias_correction=True)
    assert images is None
    assert any(op.get_type_name() == "FakeQuantize" for op in quantized.get_ops())
