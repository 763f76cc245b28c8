"""``python -m widgets.serve NOTEBOOK [Voila's options]``: Voila, able to find the dashboard's page template.

voila.json picks the template ``segwb``: Voila's lab page without its two links to Font Awesome on a CDN (Voila
already serves Font Awesome with ipywidgets, so the links only made the page ask the internet, and fail offline with
two console errors). The template ships in this package (``widgets/voila/templates/segwb``), and Voila looks for
templates only in the Jupyter data folders, so this adds the package's folder to ``JUPYTER_PATH`` before it starts
Voila. Run it from the folder holding voila.json (``make app`` runs it from the repository).

Voila serves files relative to the folder it starts in (voila.json's ``root_dir``), but runs each kernel in the
notebook's folder; ``$SEGWB_VOILA_ROOT``, which the kernels inherit, tells the dashboard the folder (its download
links and default projects folder are relative to it).
"""

from __future__ import annotations

import os
import sys
from importlib.resources import files

VOILA_ROOT = "SEGWB_VOILA_ROOT"


def template_root() -> str:
    """The folder to add to the Jupyter data path: it holds ``voila/templates/segwb``."""
    return str(files("widgets"))


def main(argv: list[str] | None = None) -> None:
    """Start Voila with ``argv`` (default: this command's arguments)."""
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [template_root(), os.environ.get("JUPYTER_PATH")]))
    os.environ[VOILA_ROOT] = os.getcwd()
    from voila.app import main as voila

    voila(argv=sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
