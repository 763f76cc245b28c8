"""Instance segmentation: detections (:mod:`.instances`), output adapters for Mask R-CNN and YOLO-seg exports
(:mod:`.adapters`), the COCO results format (:mod:`.results`, :mod:`.categories`), one-to-one matching and AP with the
parent as reference (:mod:`.metrics`), COCO evaluation (:mod:`.coco_eval`), the tutorial's predictions and comparison
(:mod:`.report_job`), AccuracyAware metrics (:mod:`.validation`), pictures (:mod:`.overlay`, :mod:`.viewer`) and the
deployment runtime (:mod:`.runtime`), all tied together as a :class:`~segwb.tasks.base.Task` in :mod:`.task`."""
