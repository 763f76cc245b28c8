"""report.html and the performance page treat every string of report.json as text: the dataset's path, layout and
dropped lines, the device, names in the page's JSON (which cannot end its <script>), and overlay paths that would
leave the project."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from dashboard_helpers import write_instance_project
from segwb.report.html import overlay_src, render, script_json
from segwb.report.summary import dropped_lines
from segwb.report.performance_page import render as render_performance

IMAGE = '<img src=x onerror="window.__pwned=1">.jpg'
LABEL = "</script><script>window.__pwned=2</script>"
LAYOUT = "<svg onload=window.__pwned=3>"
DEVICE = "<img src=x onerror=window.__pwned=4>"
REASON = "<b onmouseover=window.__pwned=6>not an image</b>"
EXAMPLE = "<iframe src=javascript:window.__pwned=7>.png"
HOSTILE = (IMAGE, LABEL, LAYOUT, DEVICE, REASON, EXAMPLE)


def hostile_report(root: Path) -> dict:
    """The hand-made instance report (tests/helpers) with markup in every string a user can influence."""
    report = write_instance_project(root)
    report["model_choice"] = f"model: {DEVICE}"
    report["dataset"].update(path=f"{root}/<b>photos</b>", layout=LAYOUT, dropped=[
        {"what": "image", "reason": REASON, "count": 12, "examples": [EXAMPLE] + [f"x{i}.jpg" for i in range(9)]}])
    report["parent"]["size_bytes"] = 4_000_000
    report["optimized"].update(size_bytes=1_000_000, graph_fixes=[{"summary": LABEL}], accuracy_aware=None)
    report["optimized"]["settings"]["fast_bias_correction"] = True
    report["performance"].update(device=DEVICE, openvino_version="<i>2026</i>", seconds_per_run=1.0)
    comparison = report["comparison"]
    for row in comparison["basic"] + comparison["advanced"]:
        if row["image"] == "street.jpg":
            row["image"] = IMAGE
    comparison["basic"][0]["overlay"] = "javascript:window.__pwned=5"
    comparison["advanced"][0]["class_name"] = LABEL
    return report


class Page(HTMLParser):
    """The tags of a page and the text of each <script> (by id)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.scripts: dict[str | None, str] = {}
        self._script: str | None = None
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)
        self._in_script = tag == "script"
        self._script = dict(attrs).get("id") if self._in_script else None

    def handle_endtag(self, tag: str) -> None:
        self._in_script = self._in_script and tag != "script"

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[self._script] = self.scripts.get(self._script, "") + data


def test_render_escapes_every_report_string(tmp_path: Path) -> None:
    report = hostile_report(tmp_path)
    page = render(report)
    for raw in (*HOSTILE, "<b>photos</b>", "<i>2026</i>"):
        assert raw not in page, raw
    assert f"({LAYOUT.replace('<', '&lt;').replace('>', '&gt;')}, 2 images)" in page  # the layout, as text
    assert "on &lt;img src=x onerror=window.__pwned=4&gt;." in page  # the device
    assert "&lt;b&gt;photos&lt;/b&gt;" in page and "&lt;i&gt;2026&lt;/i&gt;" in page
    parsed = Page()
    parsed.feed(page)
    assert parsed.tags.count("script") == 3 and not {"img", "svg", "iframe"} & set(parsed.tags)
    assert "i" not in parsed.tags  # the version's <i>; the page itself uses none
    rows = json.loads(parsed.scripts["rows"])
    assert {r["image"] for r in rows["basic"]} == {IMAGE, "park.png"}  # the names kept, for the page to show as text
    assert LABEL in {r["class_name"] for r in rows["advanced"]}


def test_dropped_lines_in_the_page(tmp_path: Path) -> None:
    page = render(hostile_report(tmp_path))
    line = (f"Dropped 12 images ({REASON}): {EXAMPLE}, " + ", ".join(f"x{i}.jpg" for i in range(9)) + " and 2 more")
    assert dropped_lines(hostile_report(tmp_path)["dataset"]) == [line]
    escaped = line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")
    assert f"<ul class=dropped><li>{escaped}</li></ul>" in page
    report = hostile_report(tmp_path)
    report["dataset"]["dropped"] = []
    assert "<ul class=dropped><li>Nothing was dropped.</li></ul>" in render(report)


def test_dropped_lines_of_each_record_and_of_older_reports() -> None:
    assert dropped_lines({"dropped": []}) == dropped_lines({}) == ["Nothing was dropped."]
    assert dropped_lines({"dropped": [
        {"what": "image", "reason": "not a readable image", "count": 3, "examples": ["a.jpg", "b.jpg", "c.jpg"]},
        {"what": "line", "reason": "not an image id", "count": 1, "examples": ["x y"]},
        {"what": "annotation", "reason": "no polygon", "count": 2, "examples": []}]}) == [
        "Dropped 3 images (not a readable image): a.jpg, b.jpg, c.jpg",
        "Dropped 1 line (not an image id): x y",
        "Dropped 2 annotations (no polygon)"]
    # report.json before "dropped": the names of the skipped images
    old = {"skipped": [f"<b>{i}</b>.jpg" for i in range(12)]}
    assert dropped_lines(old) == ["Dropped 12 images (skipped while reading the dataset): "
                                  + ", ".join(f"<b>{i}</b>.jpg" for i in range(10)) + " and 2 more"]
    assert dropped_lines({"skipped": []}) == ["Nothing was dropped."]


def test_script_json_cannot_close_its_script() -> None:
    value = {"a": "</script><script>alert(1)</script>", "b": "<!-- & -->", "c": "line\u2028separator\u2029end",
             "d": "naïve ü"}
    text = str(script_json(value))
    assert not re.search(r"[<>&\u2028\u2029]", text)
    assert "\\u003c/script\\u003e" in text and "\\u0026" in text and "\\u2028" in text and "naïve ü" in text
    assert json.loads(text) == value


def test_page_data_is_script_safe(tmp_path: Path) -> None:
    parsed = Page()
    parsed.feed(render(hostile_report(tmp_path)))
    for name in ("rows", "tables"):
        assert not re.search(r"[<>&\u2028\u2029]", parsed.scripts[name]), name


@pytest.mark.parametrize("path", ["javascript:window.__pwned=5", "JavaScript:alert(1)", "data:image/png;base64,AAAA",
                                  "/etc/passwd", "//evil.example/x.png", "https://evil.example/x.png",
                                  "../outside.png", "overlays/../../x.png", "overlays//x.png", "./x.png",
                                  "C:/Windows/x.png", "overlays\\x.png", "", "overlays/a\nb.png", None, 3, ["x"]])
def test_overlays_outside_the_project_are_refused(path: object) -> None:
    assert overlay_src(path) is None


@pytest.mark.parametrize("path", ["overlays/street.png", "overlays/sub__a.jpg", "overlays/photo é-2.png", "x.png"])
def test_overlays_inside_the_project_are_kept(path: str) -> None:
    assert overlay_src(path) == path


def test_an_unsafe_overlay_is_none_in_the_page(tmp_path: Path) -> None:
    report = hostile_report(tmp_path)
    report["comparison"]["basic"][1]["overlay"] = "/abs/park.png"
    parsed = Page()
    parsed.feed(render(report))
    rows = json.loads(parsed.scripts["rows"])["basic"]
    assert [r["overlay"] for r in rows] == [None, None]
    assert report["comparison"]["basic"][0]["overlay"] == "javascript:window.__pwned=5"  # the report is not changed


def test_performance_page_escapes_model_and_layer_names() -> None:
    kernel = {"name": LABEL, "type": IMAGE, "origin": LAYOUT, "ms_a": 1.0, "precision_a": DEVICE, "ms_b": 0.5,
              "precision_b": "i8", "delta_ms": -0.5, "ratio": 0.5}
    result = {"a": {"model": f"models/{IMAGE}", "precision": DEVICE}, "b": {"model": LAYOUT, "precision": "i8"},
              "inferences": 3, "total_ms": {"a": 1.0, "b": 0.5}, "findings": [REASON, EXAMPLE],
              "precision_distribution": {"a": {LABEL: 1.0}, "b": {"i8": 1.0}},
              "summary": {"a": [{"type": IMAGE, "ms": 1.0, "share": 1.0, "count": 1, "precisions": {DEVICE: 1}}],
                          "b": []}, "kernels": [kernel]}
    page = render_performance(result)
    for raw in HOSTILE:
        assert raw not in page, raw
    parsed = Page()
    parsed.feed(page)
    assert not {"script", "img", "svg", "iframe", "b"} & set(parsed.tags)
    assert "&lt;/script&gt;&lt;script&gt;window.__pwned=2&lt;/script&gt;" in page


def test_changed_records_and_malformed_entries() -> None:
    assert dropped_lines({"dropped": [{"action": "changed", "what": "annotation", "reason": "invalid bbox replaced",
                                       "count": 2, "examples": ["id 1", "id 2"]}, "junk"]}) == [
        "Changed 2 annotations (invalid bbox replaced): id 1, id 2", "Dropped: junk"]
