"""Ship: the deployment package, a zip that runs the model without segwb (:mod:`~segwb.ship.deploy`, its
``infer.py`` being :mod:`~segwb.ship.infer_template`), and the project archive: export
(:mod:`~segwb.ship.archive_export`, with :mod:`~segwb.ship.description`), import (:mod:`~segwb.ship.archive_import`)
and their shared format (:mod:`~segwb.ship.archive_format`). Reads what the tutorial left in a project; built on
:mod:`segwb.report` and below.
"""
