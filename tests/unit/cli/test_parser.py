"""The CLI's grammar and its way back: ``to_argv`` gives flags that parse to the same tutorial options, so the
dashboard's "Reproduce this run" cannot drift from the parser."""

from __future__ import annotations

from pathlib import Path

import pytest

from segwb.cli.parser import build_parser, command_line, options_from_args, to_argv
from segwb.optimize.settings import QuantizeSettings
from segwb.tutorial.options import TutorialOptions

CASES = [
    TutorialOptions(out=Path("projects/x")),
    TutorialOptions(out=Path("/tmp/p q"), task="instance", model="my model.onnx", model_card="card.yml",
                    dataset="/data/coco", split="val2017", bench_seconds=2.5, no_bf16=True, min_score=0.25,
                    max_detections=30, card_overrides={"color_order": "BGR", "mean": [123.7, 116.3, 103.5], "scale": 1 / 255,
                                                       "input_size": [320, 544], "adapter": "yolo_raw", "nms_iou": 0.6},
                    quantize=QuantizeSettings(preset="mixed", subset="50%", fast_bias_correction=True, graph_fixes=False,
                                              ignored_names=("conv 1", "add_2"), ignored_types=("Softmax",))),
    TutorialOptions(out=Path("p"), task="instance", model="yolo.xml", optimized="exports/yolo int8/model.xml"),
    TutorialOptions(out=Path("p"), quantize=QuantizeSettings(method="accuracy_aware", max_drop=1.5, drop_type="relative",
                                                             metric="ground_truth", max_iterations=3)),
]


@pytest.mark.parametrize("options", CASES)
def test_flags_parse_back_to_the_same_options(options: TutorialOptions) -> None:
    argv = to_argv(options)
    assert options_from_args(build_parser().parse_args(argv)) == options


def test_the_command_line_is_shell_quoted() -> None:
    line = command_line(CASES[1])
    assert line.startswith("segwb tutorial instance --model 'my model.onnx'") and "--out '/tmp/p q'" in line
    assert "--ignore 'conv 1' --ignore add_2 --ignore-type Softmax" in line and "--mean 123.7,116.3,103.5" in line
    assert "--input-size 320x544" in line and "--scale 0.00392156862745098" in line  # floats in full


def test_every_task_has_its_subcommand() -> None:
    from segwb.tasks import REGISTRY

    for name in REGISTRY:
        assert build_parser().parse_args(["tutorial", name]).task == name


def test_a_bad_number_list_is_an_argparse_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["tutorial", "semantic", "--mean", "1,x,3"])
    assert "argument --mean: expected a number, got 'x'" in capsys.readouterr().err
