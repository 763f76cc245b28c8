"""The tutorial: the Workbench's steps in order for any task, each cached in the project folder. What a run takes
(:mod:`~segwb.tutorial.options`), the steps (:mod:`~segwb.tutorial.steps`: import, quantize, benchmark, predict) and
the run that ties them into ``report.json`` and ``report.html`` (:mod:`~segwb.tutorial.run`). It uses every layer
below it; the CLI, the notebooks and the dashboard call it.
"""
