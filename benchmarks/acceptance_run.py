"""What both acceptance scripts do around their own numbers: run a tutorial fresh, then record and print."""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from segwb.core.storage import read_json, write_json


def tutorial_arguments(doc: str, name: str) -> tuple[argparse.ArgumentParser, Path]:
    """The acceptance scripts' parser (``--out`` = benchmarks/results/NAME.json, ``--bench-seconds``) and the
    fixture zoo ($SEGWB_FIXTURES, else ../shared/zoo)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(f"benchmarks/results/{name}.json"))
    parser.add_argument("--bench-seconds", default="10")
    return parser, Path(os.environ.get("SEGWB_FIXTURES", "../shared/zoo"))


def run_tutorial(task: str, flags: list[str], inspect: Callable[[Path], dict[str, Any]] | None = None
                 ) -> tuple[dict[str, Any], float, float, list[str]]:
    """``segwb tutorial TASK FLAGS`` in a child process on a fresh project: report, wall seconds, peak RSS (MiB), command.

    ``inspect`` reads the project folder before it is deleted; what it returns is added to the report as "inspected".
    """
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        cmd = [str(Path(sys.executable).with_name("segwb")), "tutorial", task, *flags, "--out", str(project)]
        start = time.perf_counter()
        subprocess.run(cmd, check=True)
        wall = time.perf_counter() - start
        report = read_json(project / "report.json")
        if inspect is not None:
            report["inspected"] = inspect(project)
    return report, wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, cmd


def record(out: Path, cmd: list[str], measured: dict[str, Any], targets: dict[str, float], met: dict[str, bool]) -> None:
    """Write the JSON summary and print it."""
    write_json(out, {"command": " ".join(cmd), "measured": measured, "targets": targets, "met": met})
    for k, v in measured.items():
        print(f"{k:24} {v:.4f}" if isinstance(v, float) else f"{k:24} {v}")
    print(f"targets met: {met}\nwrote {out}")
