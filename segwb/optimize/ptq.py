"""``nncf.quantize`` for OpenVINO models with the full bias correction's memory bounded.

NNCF's full bias correction keeps the raw activations of 20 % of the calibration subset at once: 60 images at the
300-image cap, 2.45 GiB of peak memory on deeplabv3 at 513 x 513 (against 1.00 GiB with the 19 images of a
96-image subset). :func:`quantize_model` runs the steps of NNCF 3.4's ``native_quantize_impl`` with that share
capped by the inputs' size (:func:`bias_correction_images`); everything else is NNCF's, and a model NNCF would
quantize another way (``If`` bodies) or the fast bias correction goes through ``nncf.quantize`` unchanged.
"""

from __future__ import annotations

from typing import Any

import nncf
import openvino as ov
from nncf.openvino.graph.model_utils import remove_friendly_name_duplicates
from nncf.openvino.graph.nncf_graph_builder import GraphConverter
from nncf.openvino.graph.node_utils import get_number_if_op
from nncf.openvino.quantization.backend_parameters import is_weight_compression_needed
from nncf.openvino.rt_info import dump_parameters
from nncf.quantization.advanced_parameters import AdvancedQuantizationParameters, convert_to_dict_recursively
from nncf.quantization.algorithms.bias_correction.algorithm import BiasCorrection
from nncf.quantization.algorithms.post_training.algorithm import PostTrainingQuantization
from openvino._offline_transformations import compress_quantize_weights_transformation

# Input values the full bias correction may hold images of at once (its activations are f32 whatever the input
# type): 16 Mi values are 21 deeplabv3 inputs (513 x 513 x 3), about what a 96-image subset gives it (19), and 54
# YOLO inputs at 320 x 320, near NNCF's 60 at the 300-image cap.
BIAS_CORRECTION_INPUT_VALUES = 16 << 20
MIN_BIAS_CORRECTION_IMAGES = 8


def bias_correction_images(subset_size: int, input_values: int) -> int:
    """How many calibration images the full bias correction uses: NNCF's 20 % of the subset, at most as many as
    fit :data:`BIAS_CORRECTION_INPUT_VALUES` of input values (one image has ``input_values``), but at least 8."""
    share = max(int(subset_size * 0.2), 1)
    return min(share, max(BIAS_CORRECTION_INPUT_VALUES // max(input_values, 1), MIN_BIAS_CORRECTION_IMAGES))


def quantize_model(model: ov.Model, dataset: nncf.Dataset, input_values: int, *, subset_size: int,
                   fast_bias_correction: bool, advanced_parameters: AdvancedQuantizationParameters | None = None,
                   **args: Any) -> tuple[ov.Model, int | None]:
    """Quantize like ``nncf.quantize(model, dataset, subset_size=..., fast_bias_correction=..., **args)``; returns
    the model and the images the full bias correction used (None for the fast one)."""
    if fast_bias_correction or get_number_if_op(model) > 0:
        quantized = nncf.quantize(model, dataset, subset_size=subset_size, fast_bias_correction=fast_bias_correction,
                                  advanced_parameters=advanced_parameters, **args)
        return quantized, None
    advanced = advanced_parameters or AdvancedQuantizationParameters()
    model = remove_friendly_name_duplicates(model)
    algorithm = PostTrainingQuantization(subset_size=subset_size, fast_bias_correction=False,
                                         advanced_parameters=advanced, **args)
    images = bias_correction_images(subset_size, input_values)
    for step in algorithm._pipeline.pipeline_steps:  # NNCF 3.4 has no parameter for this share
        for part in step:
            if isinstance(part, BiasCorrection):
                part.subset_size = images
    quantized = algorithm.apply(model, GraphConverter.create_nncf_graph(model), dataset=dataset)
    if is_weight_compression_needed(advanced):
        compress_quantize_weights_transformation(quantized)
    dump_parameters(quantized, {"subset_size": subset_size, "fast_bias_correction": False,
                                "bias_correction_subset_size": images,
                                **{k: str(v) for k, v in args.items()},
                                "advanced_parameters": convert_to_dict_recursively(advanced)})
    return quantized, images
