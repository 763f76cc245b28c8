"""Run one long job at a time in a background thread: progress per image, elapsed time, Cancel, error panel.

The kernel's main thread stays free, so the page keeps answering while NNCF or a benchmark runs. segwb
writes every file atomically and records a step only when it finished, so Cancel leaves nothing half-written.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ipywidgets as w

from segwb.core.errors import Cancelled

from .common import error_html, escape

log = logging.getLogger("segwb")


@dataclass
class Job:
    """What a job's work function receives: a progress callback (images done, total) and the cancel event."""

    progress: Callable[[int, int], None]
    cancel: threading.Event


class _PhaseHandler(logging.Handler):
    """Shows segwb's own log lines ("quantizing with NNCF…", "benchmark parent…") as the current phase."""

    def __init__(self, runner: JobRunner) -> None:
        super().__init__(logging.INFO)
        self.runner = runner

    def emit(self, record: logging.LogRecord) -> None:
        self.runner._set_phase(record.getMessage())


class JobRunner:
    """One job at a time; ``state`` is idle, running, done, cancelled or failed."""

    def __init__(self, estimate: Callable[[str], float | None] | None = None, tick: float = 0.5) -> None:
        self.estimate = estimate or (lambda phase: None)  # expected seconds of an opaque phase, for its bar
        self.tick = tick
        self.progress = w.IntProgress(value=0, min=0, max=100, description="", bar_style="info",
                                      layout=w.Layout(width="420px"))
        self.count = w.Label("")
        self.elapsed = w.Label("")
        self.status = w.HTML(self._status_html("idle", "Ready."))
        self.phase = w.HTML("")
        # Neutral and disabled until a cancellable job runs: an orange Cancel with nothing to cancel reads as active.
        self.cancel_button = w.Button(description="Cancel", icon="stop", button_style="", disabled=True,
                                      tooltip="Stop the running job; finished steps are kept")
        self.cancel_button.add_class("segwb-cancel")
        self.error = w.HTML("")
        self.cancel_button.on_click(lambda _: self.cancel())
        self.widget = w.VBox([w.HBox([self.status, self.elapsed]),
                              w.HBox([self.progress, self.count, self.cancel_button]), self.phase, self.error])
        self.widget.add_class("segwb-runner")
        self.state = "idle"
        self.result: Any = None
        self.exception: BaseException | None = None
        self._listeners: list[Callable[[bool], None]] = []
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._done = (0, 0)
        self._phase = ("", 0.0)

    # --- public ----------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """True while a job runs."""
        return self.state == "running"

    def on_busy(self, listener: Callable[[bool], None]) -> None:
        """Call ``listener(busy)`` when a job starts and once it has ended (to disable the run buttons meanwhile)."""
        self._listeners.append(listener)

    def start(self, label: str, work: Callable[[Job], Any], on_done: Callable[[Any], None] | None = None,
              cancellable: bool = True, on_finish: Callable[[], None] | None = None) -> bool:
        """Run ``work(job)`` in a thread; ``on_done(result)`` runs in that thread before the state says done,
        ``on_finish()`` after any ending (done, cancelled or failed: to show what the finished steps left).

        Returns False (and starts nothing) while another job is running.
        """
        with self._lock:
            if self.busy:
                return False
            self.state = "running"
        self._cancel = threading.Event()
        self._done, self._phase = (0, 0), ("", time.monotonic())
        self.result, self.exception = None, None
        self.error.value, self.phase.value, self.count.value = "", "", ""
        self.progress.value, self.progress.bar_style = 0, "info"
        self._cancel_active(cancellable)
        self.status.value = self._status_html("running", f"{label}…")
        for listener in self._listeners:
            listener(True)
        self._thread = threading.Thread(target=self._run, args=(label, work, on_done, on_finish), name=f"segwb: {label}", daemon=True)
        self._thread.start()
        return True

    def cancel(self) -> None:
        """Ask the running job to stop; segwb stops at the next image or calibration sample."""
        if self.busy:
            self._cancel.set()
            self._cancel_active(False)
            self.status.value = self._status_html("running", "Cancelling… (the current image or measurement finishes first)")

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the running job ends (for notebooks and tests); True if it ended."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    # --- internals -------------------------------------------------------------------------------

    def _cancel_active(self, active: bool) -> None:
        self.cancel_button.disabled = not active
        self.cancel_button.button_style = "warning" if active else ""

    @staticmethod
    def _status_html(state: str, text: str) -> str:
        return f'<span class="segwb-status segwb-state-{state}" data-state="{state}">{escape(text)}</span>'

    def _progress(self, done: int, total: int) -> None:
        self._done = (done, total)  # read by the ticker; OpenVINO calls this from its own threads

    def _set_phase(self, text: str) -> None:
        self._phase = (text, time.monotonic())
        self._done = (0, 0)

    def _tick(self, start: float) -> None:
        while self.state == "running":
            self._refresh(start)
            time.sleep(self.tick)

    def _refresh(self, start: float) -> None:
        now = time.monotonic()
        self.elapsed.value = f"elapsed {now - start:.0f} s"
        phase, since = self._phase
        done, total = self._done
        if phase:
            self.phase.value = f'<span class="segwb-note">{escape(phase)}</span>'
        if total:
            self.progress.value = round(100 * done / total)
            self.count.value = f"{done}/{total} images"
        else:
            expected = self.estimate(phase) if phase else None
            self.progress.value = min(95, round(100 * (now - since) / expected)) if expected else 0
            self.count.value = f"{now - since:.0f} s in this phase"

    def _finish_lines(self, final: str) -> None:
        """The phase and counter describe the phase that was running: once the job has ended they would read as if
        it still were, so a finished job clears them and a stopped one says where it stopped."""
        phase = self._phase[0]
        self.count.value = ""
        if final == "done" or not phase:
            self.phase.value = ""
        else:
            self.phase.value = f'<span class="segwb-note">{escape(final.capitalize())} while: {escape(phase)}</span>'

    def _run(self, label: str, work: Callable[[Job], Any], on_done: Callable[[Any], None] | None,
             on_finish: Callable[[], None] | None) -> None:
        start = time.monotonic()
        handler = _PhaseHandler(self)
        log.addHandler(handler)
        level = log.level
        if log.getEffectiveLevel() > logging.INFO:
            log.setLevel(logging.INFO)  # the phase lines are INFO; a kernel's root logger stops at WARNING
        ticker = threading.Thread(target=self._tick, args=(start,), daemon=True)
        ticker.start()
        final, text = "failed", ""
        try:
            self.result = work(Job(self._progress, self._cancel))
            if on_done is not None:
                on_done(self.result)
            final, text = "done", f"Finished: {label} in {time.monotonic() - start:.1f} s."
        except Cancelled as exc:
            final, text = "cancelled", f"Cancelled: {exc}"
        except BaseException as exc:  # shown to the user; the kernel must survive any failure of a job
            self.exception = exc
            self.error.value = error_html(exc, label)
            final, text = "failed", f"{label} failed."
            log.debug("job failed", exc_info=True)
        finally:
            if on_finish is not None:
                try:
                    on_finish()
                except Exception as exc:  # showing results must not hide the job's own outcome
                    self.error.value += error_html(exc, "Showing the results")
            log.removeHandler(handler)
            log.setLevel(level)
            self.state = final
            ticker.join()
            self._refresh(start)
            if final == "done":
                self.progress.value, self.progress.bar_style = 100, "success"
            else:
                self.progress.bar_style = "warning" if final == "cancelled" else "danger"
            self._finish_lines(final)
            self._cancel_active(False)
            self.status.value = self._status_html(final, text)
            for listener in self._listeners:
                listener(False)
