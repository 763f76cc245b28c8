"""Semantic segmentation: output adapters (:mod:`.adapters`), class maps on disk (:mod:`.class_maps`), per-image
IoU with the parent as reference (:mod:`.metrics`), the tutorial's predictions and comparison (:mod:`.report_job`),
AccuracyAware metrics (:mod:`.validation`), pictures (:mod:`.overlay`, :mod:`.viewer`), the deployment runtime
(:mod:`.runtime`), all tied together as a :class:`~segwb.tasks.base.Task` in :mod:`.task`."""
