"""``performance-comparison.html``: the Compare Projects page (findings, summary, precision shares, kernel table),
rendered from a Jinja2 template with autoescape (layer names come from the user's model)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.storage import write_text
from .html import asset, environment

KERNEL_ROWS = 300


def render(result: dict[str, Any]) -> str:
    """The page as a string."""
    return environment().get_template("performance.html.j2").render(
        result=result, kernels=result["kernels"][:KERNEL_ROWS], more=len(result["kernels"]) - KERNEL_ROWS,
        style=asset("performance.css"))


def write_performance_html(result: dict[str, Any], path: Path) -> None:
    """Write the page atomically."""
    write_text(path, render(result))
