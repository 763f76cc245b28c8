"""What each ``segwb`` subcommand does, one function each, found through :data:`COMMANDS`."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..core.errors import SegwbError
from ..core.storage import read_json, write_json
from ..tasks import DEFAULT
from ..tasks import get as get_task
from .parser import STEPS, options_from_args

log = logging.getLogger("segwb")


def progress_bar() -> Callable[[int, int], None]:
    """A tqdm bar per run of images on stderr (silent off a terminal)."""
    from tqdm import tqdm

    bar: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        if "bar" not in bar:
            bar["bar"] = tqdm(total=total, unit="img", file=sys.stderr, leave=False, disable=None)
        bar["bar"].update(done - bar["bar"].n)
        if done >= total:
            bar.pop("bar").close()

    return update


def summary_text(report: dict[str, Any], path: Path) -> str:
    """The CLI's closing lines: the result summary, the graph rewrites, and where the report is."""
    from ..report.summary import NOTHING_DROPPED, dropped_lines, summary

    lines = [fact.line() for fact in summary(report)]
    lines += [f"Dataset: {line}" for line in dropped_lines(report["dataset"]) if line != NOTHING_DROPPED]
    lines += [f"Graph rewrite: {fix['summary']}" for fix in report["optimized"].get("graph_fixes", [])]
    return "\n".join(lines + [f"report: {path}", f"report page: {path.with_suffix('.html')}"])


def tutorial(args: argparse.Namespace) -> int:
    """``tutorial TASK`` and the step commands ``quantize``, ``benchmark``, ``compare``."""
    from ..tutorial.run import run

    options = options_from_args(args)
    until = STEPS.get(args.command, "report")
    with contextlib.redirect_stdout(sys.stderr):  # NNCF prints progress bars on stdout; keep it for the result
        path = run(options, progress=progress_bar(), until=until)
    print(summary_text(read_json(path), path) if until == "report" else json.dumps(read_json(path), indent=2))
    return 0


def explore(args: argparse.Namespace) -> int:
    from ..core.devices import check_device
    from ..measure import explorer

    from ..io.model_file import read_ir

    device = check_device(args.device)
    read_ir(args.model)  # a one-line error for anything but a readable IR, before any cell is estimated
    models = args.model.parent.parent  # PROJECT/models/<role>/model.xml
    cache = args.cache or (models.parent / "explorer" if models.name == "models" else args.model.parent / "explorer")
    streams = args.streams or sorted({c.streams for c in explorer.grid(args.max_batch, device=device)})
    batches = args.batch or explorer.batch_sizes(args.max_batch)
    cells = [explorer.Cell(s, b) for s in streams for b in batches]
    precision = None if args.precision == "default" else args.precision
    guess = explorer.estimate(args.model, cells, cache, precision, args.seconds, args.force, device)
    log.info("%d cells (%d cached): about %.0f s (%s)", len(cells), guess.cached, guess.seconds, guess.assumptions)
    if args.estimate_only:
        return 0
    results = explorer.explore(args.model, cells, cache, precision, args.seconds, force=args.force, progress=progress_bar(),
                               device=device)
    print(json.dumps(explorer.summary(results, args.threshold_ms), indent=2))
    return 0


def compare_performance(args: argparse.Namespace) -> int:
    from ..core.compile import DEFAULT_DEVICE
    from ..core.devices import check_device
    from ..measure.performance_comparison import COMPARISON_JSON, compare_models, compare_project
    from ..io.model_file import read_ir
    from ..report.performance_page import write_performance_html

    if args.device is not None:
        check_device(args.device)
    if args.project:
        result, out = compare_project(args.project, args.inferences, device=args.device), args.project
        if args.out:
            write_json(args.out / COMPARISON_JSON, result)
            out = args.out
    elif args.a and args.b:
        for xml in (args.a, args.b):
            read_ir(xml)
        for given in (args.a_precision, args.b_precision):
            if given not in ("f32", "bf16", "f16", "default"):
                raise SegwbError(f"precision must be f32, bf16, f16 or default, got {given!r}")
        precision = {"default": None}
        result = compare_models(args.a, precision.get(args.a_precision, args.a_precision), args.b,
                                precision.get(args.b_precision, args.b_precision), args.inferences,
                                device=args.device or DEFAULT_DEVICE)
        out = args.out or Path(".")
        write_json(out / COMPARISON_JSON, result)
    else:
        raise SegwbError("compare-performance needs --project DIR, or both --a XML and --b XML")
    page = (out / COMPARISON_JSON).with_suffix(".html")
    write_performance_html(result, page)
    print("\n".join(result["findings"] + [f"report: {out / COMPARISON_JSON}", f"report page: {page}"]))
    return 0


def zoo(args: argparse.Namespace) -> int:
    from ..zoo.catalog import ENTRIES

    for e in ENTRIES.values():
        print(f"{e.name:38} {e.task:9} {e.summary}")
    return 0


def fetch(args: argparse.Namespace) -> int:
    from ..zoo import catalog

    if args.name:
        path, _ = catalog.obtain(args.name)
        print(path)
    else:
        _, path, _, note = catalog.obtain_first(get_task(DEFAULT).zoo_defaults)
        print(f"{note}\n{path}")
    return 0


def deploy(args: argparse.Namespace) -> int:
    from ..ship.deploy import build_package

    print(build_package(args.project, args.out, args.role))
    return 0


def export(args: argparse.Namespace) -> int:
    from ..ship.archive_export import export_project

    print(export_project(args.project, args.out, include_dataset=args.with_dataset, split=args.split))
    return 0


def import_archive(args: argparse.Namespace) -> int:
    from ..ship.archive_format import DESCRIPTION
    from ..ship.archive_import import import_project

    dest = import_project(args.archive, args.out)
    print((dest / DESCRIPTION).read_text(encoding="utf-8") + f"project: {dest}")
    return 0


# Each subcommand's function; the heavy modules are imported by the function, so `segwb zoo` starts at once.
COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "tutorial": tutorial, **{step: tutorial for step in STEPS}, "explore": explore,
    "compare-performance": compare_performance, "zoo": zoo, "fetch": fetch, "deploy": deploy, "export": export,
    "import": import_archive,
}
