"""Async queues with Python callbacks on a virtual device (AUTO; MULTI and HETERO behave alike): releasing the compiled
model right after its queue used to hang the process, as OpenVINO's workers dropped their copies of the callback only
then and needed the GIL for it (segwb.inference.queue.with_queue waits for them)."""

from __future__ import annotations

import faulthandler
from pathlib import Path

import numpy as np
from tiny_models import write_model

from segwb.core.compile import compile_model
from segwb.measure.benchmark import run_queue

ROUNDS = 20  # without the wait, this hung after 2, 12 and 22 rounds in three tries


def test_compiled_models_on_auto_are_released_after_their_queues(tmp_path: Path) -> None:
    xml = write_model(tmp_path / "m")
    tensor = np.zeros((1, 64, 64, 3), np.uint8)
    faulthandler.dump_traceback_later(60, exit=True)  # a regression hangs: end the run with the stacks, not never
    try:
        for _ in range(ROUNDS):
            compiled = compile_model(xml, "f32", device="AUTO")
            assert run_queue(compiled, tensor, 0.01).iterations > 0
            del compiled  # the moment it hung
    finally:
        faulthandler.cancel_dump_traceback_later()
