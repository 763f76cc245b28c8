"""``performance-comparison.html``: the Compare Projects page (findings, summary, precision shares, kernel table)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from .storage import write_text

STYLE = """body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;max-width:1400px}
h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}table{border-collapse:collapse;font-size:.85em}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
.note{color:#555;font-size:.9em}"""
KERNEL_ROWS = 300


def _num(value: float | None, digits: int = 3) -> str:
    return "N/A" if value is None else f"{value:.{digits}f}"


def _summary(rows: list[dict[str, Any]]) -> str:
    body = "".join(f"<tr><td>{html.escape(r['type'])}</td><td class=num>{_num(r['ms'])}</td>"
                   f"<td class=num>{100 * r['share']:.1f}</td><td class=num>{r['count']}</td>"
                   f"<td>{html.escape(', '.join(f'{p}: {n}' for p, n in r['precisions'].items()))}</td></tr>" for r in rows)
    return ("<table><thead><tr><th>Layer type</th><th>ms</th><th>% of time</th><th>Layers</th><th>Layers per precision</th>"
            f"</tr></thead><tbody>{body}</tbody></table>")


def render(result: dict[str, Any]) -> str:
    """The page as a string."""
    a, b = result["a"], result["b"]
    shares = "".join(f"<tr><td>{side.upper()}</td><td>{html.escape(', '.join(f'{p} {100 * s:.1f} %' for p, s in d.items()))}</td></tr>"
                     for side, d in result["precision_distribution"].items())
    kernels = "".join(
        f"<tr><td>{html.escape(r['name'])}</td><td>{html.escape(r['type'])}</td><td>{r['origin']}</td>"
        f"<td class=num>{_num(r['ms_a'])}</td><td>{r['precision_a'] or 'N/A'}</td><td class=num>{_num(r['ms_b'])}</td>"
        f"<td>{r['precision_b'] or 'N/A'}</td><td class=num>{_num(r['delta_ms'])}</td><td class=num>{_num(r['ratio'], 2)}</td></tr>"
        for r in result["kernels"][:KERNEL_ROWS])
    more = len(result["kernels"]) - KERNEL_ROWS
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>segwb: compare performance</title>
<style>{STYLE}</style></head><body><h1>Compare performance: A vs B</h1>
<p>A: {html.escape(a['model'])} ({a['precision']} precision). B: {html.escape(b['model'])} ({b['precision']} precision).
Per-layer counters of one request under the LATENCY hint, averaged over {result['inferences']} inferences:
A {_num(result['total_ms']['a'], 2)} ms, B {_num(result['total_ms']['b'], 2)} ms per inference.</p>
<h2>Findings</h2><ul>{''.join(f'<li>{html.escape(line)}</li>' for line in result['findings'])}</ul>
<h2>Precision distribution (share of execution time)</h2><table><tbody>{shares}</tbody></table>
<h2>Performance summary: A</h2>{_summary(result['summary']['a'])}
<h2>Performance summary: B</h2>{_summary(result['summary']['b'])}
<h2>Kernel-level performance</h2>
<p class=note>Delta = B − A (ms), Ratio = B / A; N/A where a layer exists in one model only ("quantization": a
FakeQuantize node NNCF added; reorders are inserted by the runtime per model). Largest first{f'; {more} smaller rows in the JSON' if more > 0 else ''}.</p>
<table><thead><tr><th>Layer</th><th>Type</th><th>In</th><th>A ms</th><th>A precision</th><th>B ms</th><th>B precision</th>
<th>Delta ms</th><th>Ratio</th></tr></thead><tbody>{kernels}</tbody></table></body></html>
"""


def write_performance_html(result: dict[str, Any], path: Path) -> None:
    """Write the page atomically."""
    write_text(path, render(result))
