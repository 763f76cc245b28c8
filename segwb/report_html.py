"""``report.html``: one self-contained page (no network, no server) with the summary, sortable tables and overlays."""

from __future__ import annotations

import html
import json
import shlex
from pathlib import Path
from typing import Any

from .storage import write_text

# Per task: table columns (key, header) per mode, the column sorted (worst first) and filtered on by default.
VIEWS = {
    "semantic": {
        "basic": [("image", "Image Name"), ("average_result", "Optimized Model Average Result"),
                  ("pixel_agreement", "Pixel Agreement")],
        "advanced": [("image", "Image Name"), ("class_id", "Class Predicted by Optimized Model"),
                     ("class_name", "Class Name"), ("result", "Optimized Model Result")],
        "value": {"basic": "average_result", "advanced": "result"},
    },
    "instance": {
        "basic": [("image", "Image Name"), ("optimized_detections", "A. Optimized Model Detections"),
                  ("parent_detections", "B. Parent Model Detections"), ("matches", "Matches between A and B"),
                  ("agreement", "Agreement 2M/(A+B)")],
        "advanced": [("image", "Image Name"), ("class_id", "Class ID"), ("class_name", "Class Name"),
                     ("optimized_detections", "A. Optimized Model Detections"),
                     ("parent_detections", "B. Parent Model Detections"), ("matches", "Matches between A and B"),
                     ("average_precision", "Predicted Class Average Precision"),
                     ("precision", "Predicted Class Precision")],
        "value": {"basic": "agreement", "advanced": "average_precision"},
    },
}

STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;max-width:1400px}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
th.sortable{cursor:pointer;background:#f3f3f3;user-select:none}th.sortable:hover{background:#e6e6e6}
td.num{text-align:right;font-variant-numeric:tabular-nums}tr.sel{background:#fff3c4}
tbody tr{cursor:pointer}.speedup{font-size:2.4em;font-weight:700;color:#0b6e2e}
.note{color:#555;font-size:.9em}.controls{margin:.6em 0}.controls>*{margin-right:1em}
#viewer img{max-width:100%;border:1px solid #ccc}.tablebox{overflow-x:auto}.grid{display:grid;grid-template-columns:minmax(0,auto) minmax(520px,1fr);gap:1.5em}
"""

SCRIPT = """
const DATA = JSON.parse(document.getElementById('rows').textContent);
const COLS = JSON.parse(document.getElementById('cols').textContent);
const PAGE = 25;
let state = {mode: 'basic', sort: {basic: [COLS.value.basic, 1], advanced: [COLS.value.advanced, 1]}, page: 0, max: null, text: ''};
const fmt = v => v === null || v === undefined ? 'N/A' : (typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(4) : String(v));
const numeric = k => k !== 'image' && k !== 'class_name';
function rows() {
  const [key, dir] = state.sort[state.mode];
  const valueKey = COLS.value[state.mode];
  let r = DATA[state.mode].filter(x => (!state.text || x.image.toLowerCase().includes(state.text))
        && (state.max === null || (x[valueKey] !== null && x[valueKey] <= state.max)));
  return r.sort((a, b) => {
    const x = a[key], y = b[key];
    if (x === y) return 0; if (x === null) return 1; if (y === null) return -1;
    return (x < y ? -1 : 1) * dir;
  });
}
function render() {
  const all = rows(), pages = Math.max(1, Math.ceil(all.length / PAGE));
  state.page = Math.min(state.page, pages - 1);
  const [key, dir] = state.sort[state.mode];
  const head = COLS[state.mode].map(([k, t]) => `<th class="sortable" data-key="${k}">${t}${k === key ? (dir > 0 ? ' ▲' : ' ▼') : ''}</th>`).join('');
  const body = all.slice(state.page * PAGE, (state.page + 1) * PAGE).map(x =>
    `<tr data-image="${encodeURIComponent(x.image)}">` + COLS[state.mode].map(([k]) =>
      `<td class="${numeric(k) ? 'num' : ''}">${fmt(x[k])}</td>`).join('') + '</tr>').join('');
  document.getElementById('table').innerHTML = `<thead><tr>${head}</tr></thead><tbody>${body}</tbody>`;
  document.getElementById('pageinfo').textContent = `page ${state.page + 1} of ${pages} (${all.length} rows)`;
  document.querySelectorAll('th.sortable').forEach(th => th.onclick = () => {
    const cur = state.sort[state.mode];
    state.sort[state.mode] = [th.dataset.key, cur[0] === th.dataset.key ? -cur[1] : 1]; render(); });
  document.querySelectorAll('#table tbody tr').forEach(tr => tr.onclick = () => show(decodeURIComponent(tr.dataset.image)));
}
function show(image) {
  const row = DATA.basic.find(x => x.image === image);
  document.querySelectorAll('#table tbody tr').forEach(tr => tr.classList.toggle('sel', decodeURIComponent(tr.dataset.image) === image));
  const facts = COLS.basic.slice(1).map(([k, t]) => `${t}: ${fmt(row[k])}`).join('; ');
  document.getElementById('viewer').innerHTML = `<h3>${image}</h3><p class="note">${facts}</p><img alt="overlay of ${image}" src="${row.overlay}">`;
}
document.querySelectorAll('input[name=mode]').forEach(r => r.onchange = () => { state.mode = r.value; state.page = 0; render(); });
document.getElementById('max').oninput = e => { state.max = e.target.value === '' ? null : parseFloat(e.target.value); state.page = 0; render(); };
document.getElementById('text').oninput = e => { state.text = e.target.value.toLowerCase(); state.page = 0; render(); };
document.getElementById('prev').onclick = () => { state.page = Math.max(0, state.page - 1); render(); };
document.getElementById('next').onclick = () => { state.page += 1; render(); };
render(); if (DATA.basic.length) show(rows()[0].image);
"""


def percent(value: float | None) -> str:
    """A fraction as a percentage with two decimals, N/A when missing."""
    return "N/A" if value is None else f"{100 * value:.2f} %"


def _num(value: Any, digits: int = 2) -> str:
    return "N/A" if value is None else f"{value:.{digits}f}"


def _performance(perf: dict[str, Any]) -> str:
    rows = [("Parent, f32 (pinned baseline)", perf["parent"]), ("Parent, default precision", perf.get("parent_default"))]
    rows += [(f"INT8, {'default' if k == 'default' else 'f32'} precision hint", v) for k, v in perf["optimized_runs"].items()]
    body = "".join(
        f"<tr><td>{html.escape(name)}</td><td class=num>{_num(r['fps'])}</td><td class=num>{_num(r['latency_ms']['median'])}</td>"
        f"<td class=num>{_num(r['latency_ms']['average'])}</td><td>{html.escape(r['inference_precision'])}</td>"
        f"<td>{html.escape(r['properties'].get('NUM_STREAMS', ''))}</td>"
        f"<td>{html.escape(r['properties'].get('OPTIMAL_NUMBER_OF_INFER_REQUESTS', ''))}</td>"
        f"<td>{html.escape(r['properties'].get('INFERENCE_NUM_THREADS', ''))}</td></tr>"
        for name, r in rows if r)
    return ("<table><thead><tr><th>Configuration</th><th>FPS</th><th>Latency median (ms)</th><th>Latency mean (ms)</th>"
            "<th>Inference precision</th><th>Streams</th><th>Requests</th><th>Threads</th></tr></thead>"
            f"<tbody>{body}</tbody></table>")


def _ground_truth(gt: dict[str, Any] | None) -> str:
    if not gt:
        return "<p>The dataset has no annotations: the parent model's predictions are the only reference.</p>"
    names = sorted(set(gt["parent"]["per_class_iou"]) | set(gt["optimized"]["per_class_iou"]))
    body = "".join(f"<tr><td>{html.escape(n)}</td><td class=num>{_num(gt['parent']['per_class_iou'].get(n), 4)}</td>"
                   f"<td class=num>{_num(gt['optimized']['per_class_iou'].get(n), 4)}</td></tr>" for n in names)
    unmapped = (f"<p class=note>Dataset classes with no model class (counted as background): "
                f"{html.escape(', '.join(gt['unmapped_classes']))}</p>") if gt["unmapped_classes"] else ""
    return (f"<p>Mean IoU over {gt['images']} annotated images (void pixels ignored): parent "
            f"<b>{_num(100 * gt['parent']['mean_iou'])} %</b>, optimized <b>{_num(100 * gt['optimized']['mean_iou'])} %</b>.</p>"
            f"{unmapped}<table><thead><tr><th>Class</th><th>Parent IoU</th><th>Optimized IoU</th></tr></thead>"
            f"<tbody>{body}</tbody></table>")


def _instance_ground_truth(gt: dict[str, Any] | None) -> str:
    if not gt:
        return "<p>The dataset has no annotations: the parent model's detections are the only reference.</p>"
    rows = "".join(f"<tr><td>{role}</td><td class=num>{_num(100 * gt[role]['mask_ap'])}</td>"
                   f"<td class=num>{_num(100 * gt[role]['mask_ap50'])}</td><td class=num>{_num(100 * gt[role]['box_ap'])}</td></tr>"
                   for role in ("parent", "optimized"))
    unmapped = "".join(f"<p class=note>{what}: {html.escape(', '.join(names))}</p>" for what, names in (
        ("Dataset categories no model class maps to (not evaluated)", gt["unmapped_dataset_classes"]),
        ("Model classes with no dataset category (their detections are not evaluated)", gt["unmapped_model_classes"]))
        if names)
    return (f"<p>COCO evaluation (faster-coco-eval) over {gt['images']} images and {gt['categories_evaluated']} categories "
            f"matched by name, on exactly the saved predictions.</p><table><thead><tr><th>Model</th><th>mask AP (%)</th>"
            f"<th>mask AP50 (%)</th><th>box AP (%)</th></tr></thead><tbody>{rows}</tbody></table>{unmapped}")


def _accuracy(report: dict[str, Any]) -> str:
    comp = report["comparison"]
    if report["task"] == "semantic":
        return f"""<p>Reference: the parent model's predictions (no annotations needed). Mean Optimized Model Average Result
<b>{_num(comp['mean_average_result'], 4)}</b>; mean pixel agreement <b>{_num(comp['mean_pixel_agreement'] and 100 * comp['mean_pixel_agreement'], 2)} %</b>.
Parent run at f32, optimized at its {html.escape(comp['optimized_precision'])} precision, as measured above.</p>
<p class=note>Per image and class: IoU over pixels, classes present in either map; the image average is their
mean. Unlike the original Workbench, values are not rounded to 2 decimals before averaging. Rows are worst first;
click a header to sort, a row to see its overlay (parent | optimized | disagreement).</p>"""
    return f"""<p>Reference: the parent model's detections (no annotations needed). Matches between A and B:
<b>{comp['matches']}</b> of {comp['parent_detections']} parent detections
(<b>{_num(comp['matches_over_parent'] and 100 * comp['matches_over_parent'], 1)} %</b>) and of
{comp['optimized_detections']} optimized detections ({_num(comp['matches_over_optimized'] and 100 * comp['matches_over_optimized'], 1)} %).
Mean per-image, per-class average precision: <b>{_num(comp['mean_average_precision'], 4)}</b>.
Parent run at f32, optimized at its {html.escape(comp['optimized_precision'])} precision, as measured above.</p>
<p class=note>Both sides keep detections with score ≥ {comp['min_score']} (the original dropped parent detections below 0.1
and relied on Mask R-CNN's own cut for the optimized model; models that emit every candidate need the cut on both
sides), at most {comp['max_detections']} per image. Matching is per class on <b>mask</b> IoU ≥ {comp['iou_threshold']},
greedy by descending optimized score, strictly one-to-one (the original could match a parent instance twice).
Average precision: COCO-style, IoU 0.50:0.95, 101 recall points, N/A when the parent has none of the class;
precision = Matches / A. Advanced rows only where A &gt; 0. Rows are worst first; click a row for its overlay
(parent | optimized, unmatched instances outlined in red).</p>"""


def graph_fixes_html(fixes: list[dict[str, Any]]) -> str:
    """What the optimization pipeline changed in the graph besides quantizing, one item per rewrite."""
    if not fixes:
        return ""
    items = "".join(f"<li>{html.escape(f['summary'])}</li>" for f in fixes)
    return f"<p>Graph rewrites around NNCF (none changes what the model computes):</p><ul class=fixes>{items}</ul>"


def missed_drop_reason(aa: dict[str, Any]) -> str:
    """Why the AccuracyAware result is not within the drop, and what to try, in words."""
    if aa.get("stopped") == "max_iterations":
        why = (f"NNCF stopped at the cap of {int(aa['max_iterations'])} revert steps; the result is the scope it held "
               "at its last step, not necessarily its best (see the drop after each step).")
    elif aa.get("stopped") == "all_layers_checked":
        why = "NNCF tried every group of quantized layers without reaching the drop."
    else:
        why = "NNCF ended without reaching the drop."
    if aa["reference"] == "parent model":
        # Agreement starts at 100: every changed pixel or detection costs, however harmless against the ground truth.
        hint = (" Agreement with the parent scores every rounding change as a loss, so a drop smaller than the fully "
                "quantized model's leaves little quantized; allow a larger drop, or annotate the images.")
    else:
        hint = " Try a larger drop, more images, or the Mixed preset."
    return why + hint


def default_method_ignores(aa: dict[str, Any]) -> str:
    """The reverted layers as the Default method's ignored scope (CLI flags), or "" when none was reverted.

    NNCF's ranking is the sensitivity analysis; reusing its result skips the ranking on the next quantization.
    """
    return " ".join(f"--ignore {shlex.quote(name)}" for name in aa["reverted_operations"])


def accuracy_aware_html(aa: dict[str, Any] | None) -> str:
    """What the AccuracyAware method did: the metric before and after, and the layers NNCF reverted, by rank."""
    if not aa:
        return ""
    unit = "points" if aa["drop_type"] == "absolute" else "%"
    verdict = ("within" if aa["within_drop"] else "<b>not within</b>") + f" the allowed {aa['max_drop']:g} {unit}"
    steps = "".join(
        f"<tr><td class=num>{int(s['rank'])}</td><td>{html.escape(', '.join(s['operations']))}</td>"
        f"<td class=num>{_num(s['drop_after'])}</td><td>{'kept' if s['kept'] else 'undone (the drop grew)'}</td></tr>"
        for s in aa["steps"])
    table = (f"<table class=reverted><thead><tr><th>Rank</th><th>Operations reverted to floating point</th>"
             f"<th>Drop after</th><th>Step</th></tr></thead><tbody>{steps}</tbody></table>") if steps else \
        "<p>No layer had to be reverted: the fully quantized model was already within the drop.</p>"
    missed = "" if aa["within_drop"] else f"<p class=note>{html.escape(missed_drop_reason(aa))}</p>"
    if flags := default_method_ignores(aa):
        missed += ("<p class=note>The same layers in floating point with the Default method (one quantization, no "
                   f"ranking): <code>{html.escape(flags)}</code>, or in the dashboard's Ignore layers: "
                   f"<code>{html.escape(', '.join(aa['reverted_operations']))}</code>.</p>")
    return (f"<p class=accuracy-aware>AccuracyAware: {html.escape(aa['metric'])} against the {html.escape(aa['reference'])} "
            f"on {int(aa['validation_images'])} images, at the f32 precision hint: parent <b>{_num(aa['parent_metric'])}</b>, "
            f"fully quantized {_num(aa['default_int8_metric'])}, result <b>{_num(aa['final_metric'])}</b> "
            f"(drop {_num(aa['drop'])} {unit}, {verdict}). {len(aa['reverted_operations'])} of "
            f"{int(aa['quantized_operations'] or 0) or 'the'} quantized operations reverted to floating point, in the order of "
            f"NNCF's ranking (largest share of the drop first); took {_num(aa['seconds'], 1)} s.</p>{missed}{table}")


def render(report: dict[str, Any]) -> str:
    """The report page as a string."""
    perf, opt, comp = report["performance"], report["optimized"], report["comparison"]
    task = report["task"]
    rows = {"basic": comp["basic"], "advanced": comp["advanced"]}
    embed = json.dumps(rows).replace("</", "<\\/")
    ground_truth = _ground_truth(report["ground_truth"]) if task == "semantic" else _instance_ground_truth(report["ground_truth"])
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>segwb report</title>
<style>{STYLE}</style></head><body>
<h1>{task.capitalize()} segmentation: parent vs INT8</h1>
<p>{html.escape(report['model_choice'])}. Dataset: {html.escape(report['dataset']['path'])}
({report['dataset']['layout']}, {report['dataset']['images']} images).</p>
<h2>Optimize (INT8)</h2>
<p>{html.escape(opt['method'])}, preset <b>{html.escape(opt['preset'])}</b>, {opt['subset_size']} calibration images,
fast bias correction {'on' if opt['settings']['fast_bias_correction'] else 'off'}; took {_num(opt['seconds'], 1)} s.
Weights: {report['parent']['size_bytes'] / 1e6:.1f} MB → {opt['size_bytes'] / 1e6:.1f} MB.</p>
{graph_fixes_html(opt['graph_fixes'])}
{accuracy_aware_html(opt.get('accuracy_aware'))}
<h2>Performance</h2>
<div class=speedup>{_num(perf['speedup'])}× faster</div>
<p class=note>Best INT8 throughput ({perf['optimized_precision']} precision hint) over the parent pinned to f32;
{_num(perf['seconds_per_run'], 0)} s per configuration, THROUGHPUT hint, OpenVINO {html.escape(perf['openvino_version'])} on {perf['device']}.
The parent's default precision on this CPU is shown too: it is what you get without quantizing.</p>
{_performance(perf)}
<h2>Accuracy: optimized vs parent predictions</h2>
{_accuracy(report)}
<div class=grid><div>
<div class=controls><label><input type=radio name=mode value=basic checked> Basic</label>
<label><input type=radio name=mode value=advanced> Advanced</label>
<label>{html.escape(dict(VIEWS[task]['basic'])[VIEWS[task]['value']['basic']])} ≤ <input id=max type=number step=0.01 min=0 max=1 style="width:5em"></label>
<label>image <input id=text type=text style="width:8em"></label></div>
<div class=tablebox><table id=table></table></div>
<div class=controls><button id=prev>previous</button><span id=pageinfo></span><button id=next>next</button></div>
</div><div id=viewer></div></div>
<h2>Against the ground truth</h2>
{ground_truth}
<script type="application/json" id="rows">{embed}</script>
<script type="application/json" id="cols">{json.dumps(VIEWS[task])}</script>
<script>{SCRIPT}</script></body></html>
"""


def write_report_html(report: dict[str, Any], path: Path) -> None:
    """Write ``report.html`` atomically."""
    write_text(path, render(report))
