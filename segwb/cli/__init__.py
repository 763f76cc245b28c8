"""The ``segwb`` command line: the grammar and its way back (:mod:`~segwb.cli.parser`) and one function per
subcommand (:mod:`~segwb.cli.commands`). Errors are one line with exit code 2; ``--debug`` shows the traceback.
The top layer: it may use every other part of segwb."""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Sequence

from ..core.errors import describe
from ..io.images import MAX_PIXELS_ENV
from .commands import COMMANDS
from .parser import build_parser

__all__ = ["main", "build_parser"]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="segwb: %(message)s", stream=sys.stderr)
    logging.getLogger("nncf").setLevel(logging.WARNING)
    if getattr(args, "max_megapixels", None):
        os.environ[MAX_PIXELS_ENV] = repr(args.max_megapixels)
    try:
        return COMMANDS[args.command](args)
    except Exception as exc:  # the error boundary: every failure is one line (--debug: the traceback)
        if args.debug:
            traceback.print_exc()
        message, expected = describe(exc)
        print(f"segwb: error: {message}", file=sys.stderr)
        return 2 if expected else 1
    except KeyboardInterrupt:
        print("segwb: cancelled; finished steps are kept and will be reused", file=sys.stderr)
        return 130
