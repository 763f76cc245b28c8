"""Inference: an image turned into the model's input with its geometry (:mod:`~segwb.inference.preprocess`),
inputs made ahead of the queue and shared by both models (:mod:`~segwb.inference.feed`), and the async queue that
runs a compiled model over a dataset (:mod:`~segwb.inference.queue`). What a task makes of the outputs is the
task's own (:mod:`segwb.tasks`). Built on :mod:`segwb.io` and :mod:`segwb.core`.
"""
