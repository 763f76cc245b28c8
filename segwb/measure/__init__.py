"""Measure: throughput and latency as benchmark_app measures them (:mod:`~segwb.measure.benchmark`), the
inference-configuration explorer over streams x batch (:mod:`~segwb.measure.explorer`), per-layer profiles
(:mod:`~segwb.measure.layer_profile`) and the Workbench's Compare Projects of two models layer by layer
(:mod:`~segwb.measure.performance_comparison`). Knows models, not tasks: built on :mod:`segwb.io` and
:mod:`segwb.core`.
"""
