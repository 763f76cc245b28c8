"""Import: everything segwb reads from the user, checked at the boundary. Model files and their conversion to
OpenVINO IR (:mod:`~segwb.io.model_file`, :mod:`~segwb.io.conversion_extensions`), what the graph says about its
input and outputs (:mod:`~segwb.io.model_inspect`), the model card (:mod:`~segwb.io.model_card`), class labels
(:mod:`~segwb.io.labels`), images (:mod:`~segwb.io.images`), datasets in their layouts (:mod:`~segwb.io.datasets`),
COCO annotations (:mod:`~segwb.io.coco`) and the dashboard's uploads (:mod:`~segwb.io.uploads`).
It depends on :mod:`segwb.core` only; nothing here knows what a task (semantic, instance) is.
"""
