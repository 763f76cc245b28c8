"""The bottom layer: what every stage needs and nothing stage-specific. One-line user errors
(:mod:`~segwb.core.errors`), atomic writes and content hashes (:mod:`~segwb.core.storage`), the project folder and
its step cache (:mod:`~segwb.core.project`), where downloads and compiled blobs are cached
(:mod:`~segwb.core.cache`), the shared OpenVINO Core and how segwb compiles a model (:mod:`~segwb.core.compile`),
and the host thread limits that keep NumPy and OpenCV out of OpenVINO's way (:mod:`~segwb.core.host_threads`).
Nothing here imports another part of segwb.
"""
