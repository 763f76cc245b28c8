"""Optimize: INT8 post-training quantization with NNCF, the Workbench's Default method
(:mod:`~segwb.optimize.quantize`), the graph rewrites around it that let INT8 reach its speed without changing
predictions (:mod:`~segwb.optimize.graph_fixes`), and the AccuracyAware method (:mod:`~segwb.optimize.accuracy_aware`)
with its validation function (:mod:`~segwb.optimize.validator`), whose metrics come from the task
(:mod:`segwb.tasks`). Built on the tasks and the layers below them.
"""
