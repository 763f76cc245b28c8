"""A tutorial end to end, for any task: import → quantize → benchmark → predict → compare → report.

Each step is cached in the project folder, so a re-run reuses what is unchanged and an interrupted run resumes.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from .. import __version__
from ..core.host_threads import single_threaded_host
from ..core.storage import write_json
from ..inference.feed import InputFeed
from ..report.html import write_report_html
from ..report.schema import Report
from ..tasks import get as get_task
from ..tasks import image_table
from ..inference.queue import Progress
from .options import UNTIL, TutorialOptions
from .steps import Model, optimized_precision, report_seconds, report_sections, shared_steps, step_report


def run(options: TutorialOptions, progress: Progress | None = None, cancel: threading.Event | None = None,
        until: str = "report") -> Path:
    """Run the steps up to ``until`` ("quantize", "benchmark" or "report"), reusing cached ones.

    Returns ``report.json`` (after writing it and ``report.html``), or the last step's record.
    """
    if until not in UNTIL:
        raise ValueError(f"until must be one of {', '.join(UNTIL)}, got {until!r}")
    start = time.perf_counter()
    task = get_task(options.task)
    shared = shared_steps(options, cancel, until)
    if shared.stop is not None:
        return shared.stop
    try:
        project, dataset, parent = shared.project, shared.dataset, shared.parent
        quantized, performance = shared.quantized, shared.performance
        assert performance is not None
        job = task.report_job(project, dataset, parent.card, options.limits)
        feed = InputFeed(job.image_paths(), parent.card, keep_bytes=0)  # one pass reads each image once
        with single_threaded_host():  # post-processing runs beside inference or in our own pools
            models = {"parent": Model(parent.xml, parent.digest, "f32"),
                      "optimized": Model(project.optimized_xml, quantized["digest"], optimized_precision(performance))}
            predicted, compared = step_report(job, models, feed, progress, cancel, device=options.device)
        report: Report = {
            "segwb_version": __version__,
            "task": task.name,
            **report_sections(project, parent, dataset, options, quantized, performance),
            "comparison": {**compared["comparison"],
                           "parent_precision": "f32", "optimized_precision": performance["optimized_precision"]},
            "ground_truth": compared["ground_truth"],
            "report_seconds": report_seconds(predicted, compared, len(job.images), performance),
            **job.report_extras(),
            "steps_cached": {"import": parent.cached, "quantize": quantized["cached"], "benchmark": performance["cached"],
                             "predict_parent": predicted["parent"]["cached"],
                             "predict_optimized": predicted["optimized"]["cached"], "compare": compared["cached"]},
            "wall_seconds": time.perf_counter() - start,
        }
        image_table.write(project, job.images)  # with the report: a cancelled run leaves the last report's table
        write_json(project.report_json, report)
        write_report_html(report, project.report_html)
        return project.report_json
    finally:
        shared.project.release()
