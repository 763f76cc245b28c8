"""Present: what a report holds (:mod:`~segwb.report.schema`), its tables' sorting, filters and pages
(:mod:`~segwb.report.table`, the columns being the task's), the result summary used everywhere
(:mod:`~segwb.report.summary`), and the pages rendered from Jinja2 templates: ``report.html``
(:mod:`~segwb.report.html`) and the performance comparison (:mod:`~segwb.report.performance_page`).
Built on :mod:`segwb.optimize`, :mod:`segwb.measure`, :mod:`segwb.tasks` and below.
"""
