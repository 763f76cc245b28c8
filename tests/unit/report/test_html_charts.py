"""report.html's overview charts: the per-image histogram and the per-class chart are PNG pictures inlined as data:
URLs (the page stays self-contained), hostile class names become pixels (no markup, no math text), and a report
without per-class values, annotations or rows says why in one line instead of a chart."""

from __future__ import annotations

import base64
import io
import re
from html.parser import HTMLParser
from pathlib import Path

from PIL import Image

from dashboard_helpers import semantic_rows_report, write_instance_project
from segwb.report.html import overview_charts, render

LABEL = "</script><img src=x onerror=window.__pwned=2>"
MATH = r"$\undefinedmacro{$ 50% & _x_"  # math text would fail to parse: drawn as it is


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.pictures: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)
        found = dict(attrs)
        if "chart-picture" in (found.get("class") or ""):
            self.pictures.append(found)


def instance_report(root: Path) -> dict:
    report = write_instance_project(root)
    report["parent"]["size_bytes"] = 4_000_000
    report["optimized"].update(size_bytes=1_000_000, graph_fixes=[], accuracy_aware=None)
    report["optimized"]["settings"]["fast_bias_correction"] = False
    report["performance"].update(device="CPU", openvino_version="2026.4", seconds_per_run=1.0)
    return report


def annotated(report: dict) -> dict:
    report["ground_truth"] = {
        "images": 2, "annotation_file": "a.json", "categories_evaluated": 3, "instances_evaluated": 3,
        "unmapped_model_classes": [], "unmapped_dataset_classes": [],
        "parent": {"mask_ap": 0.5, "mask_ap50": 0.7, "box_ap": 0.5,
                   "per_class_mask_ap": {"person": 0.6, LABEL: 0.4, MATH: 0.5, "dog": None, "x" * 90: 0.3}},
        "optimized": {"mask_ap": 0.4, "mask_ap50": 0.6, "box_ap": 0.4,
                      "per_class_mask_ap": {"person": 0.5, LABEL: 0.1, MATH: 0.5, "dog": None, "x" * 90: 0.3}}}
    return report


def pictures(page: str) -> list[Image.Image]:
    parsed = Tags()
    parsed.feed(page)
    assert not {"img", "svg", "iframe", "object", "embed"} & set(parsed.tags)
    found = []
    for attrs in parsed.pictures:
        assert attrs["role"] == "img" and attrs["aria-label"]
        data = re.fullmatch(r"width:(\d+)px;aspect-ratio:\d+/\d+;background-image:url\(data:image/png;base64,"
                            r"([A-Za-z0-9+/=]+)\)", attrs["style"] or "")
        assert data, attrs["style"]
        picture = Image.open(io.BytesIO(base64.b64decode(data.group(2))))
        assert picture.format == "PNG" and picture.width == 2 * int(data.group(1))  # drawn at twice the CSS size
        found.append(picture)
    return found


def test_histogram_and_per_class_chart_with_hostile_names(tmp_path: Path) -> None:
    page = render(annotated(instance_report(tmp_path)))
    assert LABEL not in page and MATH not in page  # the names are in the page's script-safe JSON only
    assert len(pictures(page)) == 2
    assert "Histogram of the Matches / B (of the parent&#39;s detections) over 2 images in 20 bins" in page
    assert "No mask AP for: dog." in page  # undefined on both sides: named, not drawn
    assert "chart-none" not in page


def test_the_chart_data_of_an_annotated_instance_report(tmp_path: Path) -> None:
    charts = overview_charts(annotated(instance_report(tmp_path)))
    bins = dict(charts["histogram"]["bins"])
    assert bins["[0.95, 1.00]"] == 1 and bins["[0.50, 0.55)"] == 1 and sum(bins.values()) == 2  # 1/1 and 1/2
    assert charts["per_class"]["title"] == "Per-class mask AP" and "4 classes" in charts["per_class"]["alt"]


def test_older_and_unannotated_reports_say_why(tmp_path: Path) -> None:
    report = annotated(instance_report(tmp_path))
    for role in ("parent", "optimized"):
        del report["ground_truth"][role]["per_class_mask_ap"]  # a report of an earlier version
    page = render(report)
    assert len(pictures(page)) == 1
    assert '<p class="note chart-none">This report has no per-class results (written by an earlier version' in page
    report["ground_truth"] = None
    page = render(report)
    assert len(pictures(page)) == 1 and "chart-none" not in page  # no annotations: the section says so already
    del report["ground_truth"]  # reports that never had the key
    assert len(pictures(render(report))) == 1


def test_no_rows_no_histogram(tmp_path: Path) -> None:
    report = instance_report(tmp_path)
    for row in report["comparison"]["basic"]:
        row["parent_detections"] = row["matches"] = 0
    charts = overview_charts(report)
    assert charts["histogram"]["reason"].startswith("No image has a Matches / B")
    assert "2 images without a value (B = 0: the parent detected nothing)" in charts["histogram"]["reason"]


def test_semantic_histogram_counts() -> None:
    report = semantic_rows_report(20)  # 0/20 .. 19/20 once each, and one N/A
    report["ground_truth"] = None
    charts = overview_charts(report)
    assert [count for _, count in charts["histogram"]["bins"]] == [1] * 20
    assert "1 image without a value" in charts["histogram"]["note"]
    assert charts["per_class"] == {"reason": "The dataset has no annotations: no per-class chart."}
