"""segwb: segmentation-model optimization workbench for OpenVINO.

The sub-packages draw the pipeline, lowest layer first; a layer imports only from layers below it (checked by
import-linter in ``make test``, see ``pyproject.toml`` and ``docs/architecture.md``):

- :mod:`segwb.core`: errors, atomic storage, the project folder and its step cache, the OpenVINO Core
- :mod:`segwb.io` (import): model files, model cards, labels, images, datasets, COCO annotations, uploads
- :mod:`segwb.zoo`: the model zoo, its downloads and status; :mod:`segwb.inference`: preprocessing, input feed, queue
- :mod:`segwb.tasks`: the Task interface, its registry, and one sub-package per task (semantic, instance)
- :mod:`segwb.optimize`: NNCF quantization, graph rewrites, AccuracyAware; :mod:`segwb.measure`: benchmark,
  explorer, layer profiles, performance comparison
- :mod:`segwb.report` (present): report schema, tables, summary, HTML pages
- :mod:`segwb.tutorial`: the steps of a run, in order; :mod:`segwb.ship`: deployment package, project archives
- :mod:`segwb.cli`: the ``segwb`` command
"""

__version__ = "0.1.0"
