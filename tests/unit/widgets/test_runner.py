"""The job runner: one job at a time, one-line errors, the phase line and the Cancel button before, during and after."""

from __future__ import annotations

import logging
import threading

from segwb.core.errors import Cancelled, ModelError
from widgets.runner import Job, JobRunner

log = logging.getLogger("segwb")


def test_runner_states_and_one_line_errors() -> None:
    runner = JobRunner(tick=0.05)
    gate = threading.Event()
    assert runner.start("Wait", lambda job: gate.wait(10))
    assert runner.busy and not runner.start("Second", lambda job: None)  # one job at a time
    gate.set()
    assert runner.wait(10) and runner.state == "done" and 'data-state="done"' in runner.status.value

    def broken(job: Job) -> None:
        raise ModelError("unsupported model format '.txt'", "notes.txt")

    runner.start("Import", broken)
    runner.wait(10)
    assert runner.state == "failed" and "notes.txt: unsupported model format" in runner.error.value
    assert "<details>" in runner.error.value and "Traceback" in runner.error.value
    runner.start("Crash", lambda job: 1 / 0)
    runner.wait(10)
    assert "internal error (ZeroDivisionError: division by zero)" in runner.error.value


def test_phase_line_is_cleared_when_a_job_ends() -> None:
    """segwb's log lines are the phase while the job runs; once it finished they no longer describe anything."""
    runner = JobRunner(tick=0.02)
    seen: list[str] = []
    runner.phase.observe(lambda change: seen.append(change["new"]), "value")

    def work(job: Job) -> None:
        log.info("predicting 6 images with the optimized model")
        for done in range(1, 7):
            job.progress(done, 6)
        threading.Event().wait(0.1)  # a tick shows the phase

    assert runner.start("Accuracy report", work) and runner.wait(10) and runner.state == "done"
    assert any("predicting 6 images" in text for text in seen)
    assert runner.phase.value == "" and runner.count.value == ""
    assert "Finished: Accuracy report" in runner.status.value


def test_a_stopped_job_says_where_it_stopped() -> None:
    runner = JobRunner(tick=0.02)

    def work(job: Job) -> None:
        log.info("quantizing with NNCF")
        raise Cancelled("stopped by the user")

    assert runner.start("Optimize (INT8)", work) and runner.wait(10) and runner.state == "cancelled"
    assert "Cancelled while: quantizing with NNCF" in runner.phase.value


def test_cancel_is_neutral_unless_a_cancellable_job_runs() -> None:
    runner = JobRunner(tick=0.05)
    idle = runner.cancel_button
    assert idle.disabled and idle.button_style == ""  # nothing to cancel: it must not look active
    gate = threading.Event()
    runner.start("Wait", lambda job: gate.wait(10) and None)
    assert not idle.disabled and idle.button_style == "warning"
    idle.click()
    assert runner._cancel.is_set() and idle.disabled and idle.button_style == ""  # asked once
    gate.set()
    runner.wait(10)
    assert idle.disabled and idle.button_style == ""
    gate.clear()
    runner.start("Export", lambda job: gate.wait(10), cancellable=False)
    assert idle.disabled and idle.button_style == ""
    gate.set()
    runner.wait(10)


def test_busy_listeners_and_results_shown_before_the_end() -> None:
    """``on_finish`` runs while the job still counts as running; the busy listeners hear the end after it."""
    runner = JobRunner(tick=0.05)
    events: list[str] = []
    runner.on_busy(lambda busy: events.append(f"busy={busy}"))
    runner.start("Work", lambda job: 42, on_done=lambda result: events.append(f"done {result}"),
                 on_finish=lambda: events.append(f"finish while busy={runner.busy}"))
    runner.wait(10)
    assert events == ["busy=True", "done 42", "finish while busy=True", "busy=False"]
    assert runner.result == 42
