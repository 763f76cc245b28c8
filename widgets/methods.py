"""Default vs AccuracyAware side by side: the two optimized models of one model and dataset, from their reports."""

from __future__ import annotations

from typing import Any

from segwb.report_html import percent

from .common import escape, note_html

METHOD_NAMES = {"default": "Default", "accuracy_aware": "AccuracyAware"}


def _rows(report: dict[str, Any]) -> list[tuple[str, str]]:
    """(row name, value) of one report, for the side-by-side table."""
    perf, opt, comp, gt = report["performance"], report["optimized"], report["comparison"], report.get("ground_truth")
    aa = opt.get("accuracy_aware")
    rows = [("INT8 throughput (FPS)", f"{perf['optimized']['fps']:.1f} ({perf['optimized_precision']} hint)"),
            ("Speedup over parent f32", f"{perf['speedup']:.2f}x"),
            ("Layers reverted to floating point", str(len(aa["reverted_operations"])) if aa else "0"),
            ("Quantization time", f"{opt['seconds']:.0f} s")]
    if report["task"] == "semantic":
        average = comp.get("mean_average_result")
        rows += [("Mean Optimized Model Average Result", "N/A" if average is None else f"{average:.4f}"),
                 ("Mean pixel agreement", percent(comp.get("mean_pixel_agreement")))]
        if gt:
            rows.append(("Mean IoU (parent → optimized)", f"{percent(gt['parent']['mean_iou'])} → {percent(gt['optimized']['mean_iou'])}"))
    else:
        rows.append(("F1 of matches between A and B", percent(comp.get("f1"))))
        if gt:
            rows.append(("mask AP (parent → optimized)", f"{percent(gt['parent']['mask_ap'])} → {percent(gt['optimized']['mask_ap'])}"))
    if aa:
        rows.append((f"AccuracyAware {aa['metric']} (parent → result)",
                     f"{aa['parent_metric']:.2f} → {aa['final_metric']:.2f}, max drop {aa['max_drop']:g} {aa['drop_type']}"))
    return rows


def methods_html(reports: dict[str, dict[str, Any] | None]) -> str:
    """A table with one column per method that has a report (``reports``: method → report.json or None)."""
    done = {m: r for m, r in reports.items() if r}
    if len(done) < 2:
        missing = [METHOD_NAMES[m] for m, r in reports.items() if not r]
        return note_html(f"Run the accuracy report with the {' and '.join(missing)} method too to compare the two "
                         "optimized models side by side.")
    columns = {m: dict(_rows(r)) for m, r in done.items()}
    names = list(dict.fromkeys(name for rows in columns.values() for name in rows))
    head = "".join(f"<th>{METHOD_NAMES[m]}</th>" for m in columns)
    body = "".join(f"<tr><td>{escape(n)}</td>" + "".join(f"<td>{escape(c.get(n, ''))}</td>" for c in columns.values())
                   + "</tr>" for n in names)
    return f'<table class="segwb-methods"><thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table>'
