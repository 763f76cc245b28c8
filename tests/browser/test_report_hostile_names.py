"""report.html in a real Chromium, made from a report.json whose every string is markup (an image named
``<img src=x onerror=...>.jpg``, a class ``</script><script>...``, the dataset's layout, the device, a dropped entry, an
overlay ``javascript:`` URL): sorting, filtering, switching to Advanced and opening each image's overlay runs none
of it, and each shows as text. The Compare performance page too.

Drives Debian's Chromium with Playwright, as tests/browser/test_dashboard.py does; the pages are files, no server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from dashboard_helpers import CHROMIUM, chromium_browser, write_instance_project
from segwb.report.html import write_report_html
from segwb.report.performance_page import write_performance_html

playwright = pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).is_file():
    pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (.ci/run does)", allow_module_level=True)

pytestmark = pytest.mark.slow

IMAGE = '<img src=x onerror="window.__pwned=1">.jpg'
LABEL = "</script><script>window.__pwned=2</script>"
LAYOUT = "<svg onload=window.__pwned=3>"
DEVICE = "<img src=x onerror=window.__pwned=4>"
OVERLAY = "javascript:window.__pwned=5"
REASON = "<b onmouseover=window.__pwned=6>not a readable image</b>"
EXAMPLE = "<iframe src=javascript:window.__pwned=7></iframe>.png"
# What the hostile strings would have made: their tags, or any element with an event-handler attribute.
INJECTED = """() => document.querySelectorAll('svg, iframe, img:not(#viewer img)').length
    + [...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length"""


def _hostile_project(root: Path) -> Path:
    """The hand-made instance project with markup in its report's strings, and report.html written from it."""
    report = write_instance_project(root)
    report["dataset"].update(layout=LAYOUT, dropped=[
        {"what": "image", "reason": REASON, "count": 2, "examples": [EXAMPLE, "c.jpg"]}])
    report["parent"]["size_bytes"] = 4_000_000
    report["optimized"].update(size_bytes=1_000_000, graph_fixes=[{"summary": LABEL}], accuracy_aware=None)
    report["optimized"]["settings"]["fast_bias_correction"] = True
    report["performance"].update(device=DEVICE, openvino_version="2026.4", seconds_per_run=1.0)
    comparison = report["comparison"]
    for row in comparison["basic"] + comparison["advanced"]:
        if row["image"] == "street.jpg":
            row["image"] = IMAGE
    comparison["basic"][0]["overlay"] = OVERLAY
    comparison["advanced"][0]["class_name"] = LABEL
    (root / "overlays").mkdir()
    cv2.imwrite(str(root / "overlays" / "park.png"), np.full((20, 30, 3), 128, np.uint8))  # the one safe overlay
    write_report_html(report, root / "report.html")
    return root / "report.html"


class Page:
    """One page with its script errors and every URL it asked for."""

    def __init__(self, page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("request", lambda r: self.requests.append(r.url))

    def pwned(self):
        return self.page.evaluate("() => window.__pwned")

    def text(self) -> str:
        return self.page.locator("body").inner_text()


@pytest.fixture(scope="module")
def chromium() -> Iterator:
    with chromium_browser() as browser:
        yield browser


@pytest.fixture
def page(chromium) -> Iterator[Page]:
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    try:
        yield Page(context.new_page())
    finally:
        context.close()


def test_hostile_report_runs_nothing_and_shows_text(page: Page, tmp_path: Path) -> None:
    html_file = _hostile_project(tmp_path / "project")
    p = page.page
    p.goto(html_file.as_uri())
    p.wait_for_selector("#table tbody tr")
    assert page.pwned() is None
    text = page.text()
    for raw in (LAYOUT, DEVICE, f"Dropped 2 images ({REASON}): {EXAMPLE}, c.jpg", LABEL):  # the graph fix, as text
        assert raw in text, raw
    # The page opens the worst image first: the hostile one, whose overlay is a javascript: URL, so no picture.
    assert p.locator("#viewer h3").inner_text() == IMAGE
    assert p.locator("#viewer img").count() == 0 and "No overlay picture" in p.locator("#viewer").inner_text()
    assert IMAGE in p.locator("#table tbody").inner_text()

    # Sort by every column, both ways, as a user clicking the headers would.
    for title in p.locator("#table th.sortable").all_inner_texts():
        header = p.locator("#table th.sortable", has_text=title.rstrip(" ▲▼"))
        header.click()
        header.click()
    assert page.pwned() is None

    # Open each image; the safe overlay loads from the project folder.
    p.locator("#table tbody tr", has_text="park.png").first.click()
    p.wait_for_function("() => { const i = document.querySelector('#viewer img'); "
                        "return i && i.complete && i.naturalWidth > 0; }")
    assert p.locator("#viewer img").get_attribute("src") == "overlays/park.png"
    assert p.locator("#viewer img").get_attribute("alt") == "overlay of park.png"
    p.locator("#table tbody tr", has_text=IMAGE).first.click()
    assert p.locator("#viewer h3").inner_text() == IMAGE and p.locator("#viewer img").count() == 0
    assert p.locator("#table tbody tr.sel").inner_text().startswith(IMAGE)

    # Filter by the hostile name, then the Advanced rows with the hostile class name.
    p.fill("#text", "<img src=x")
    assert p.locator("#table tbody tr").count() == 1
    p.fill("#text", "")
    p.check("input[name=mode][value=advanced]")
    p.wait_for_function("() => document.querySelector('#table tbody').innerText.includes('</script>')")
    assert LABEL in p.locator("#table tbody").inner_text()
    p.locator("#table th.sortable").first.click()
    p.locator("#table tbody tr", has_text=LABEL).first.click()  # opens its image
    assert p.locator("#viewer h3").inner_text() == IMAGE
    p.locator("ul.dropped li").hover()  # REASON's onmouseover, had it become an element

    assert page.pwned() is None
    assert p.evaluate(INJECTED) == 0
    assert p.locator("script").count() == 3  # rows, tables and the page's own code
    assert not page.errors, page.errors
    # Nothing fetched but the page and the safe overlay: no "x" of an onerror image, no javascript: URL.
    assert sorted(set(page.requests)) == sorted({html_file.as_uri(), (html_file.parent / "overlays" / "park.png").as_uri()})


def test_hostile_performance_page_runs_nothing(page: Page, tmp_path: Path) -> None:
    kernel = {"name": LABEL, "type": IMAGE, "origin": LAYOUT, "ms_a": 1.0, "precision_a": DEVICE, "ms_b": 0.5,
              "precision_b": "i8", "delta_ms": -0.5, "ratio": 0.5}
    result = {"a": {"model": f"models/{IMAGE}", "precision": "f32"}, "b": {"model": LAYOUT, "precision": "default"},
              "inferences": 3, "total_ms": {"a": 1.0, "b": 0.5}, "findings": [REASON, EXAMPLE],
              "precision_distribution": {"a": {DEVICE: 1.0}, "b": {"i8": 1.0}},
              "summary": {"a": [{"type": IMAGE, "ms": 1.0, "share": 1.0, "count": 1, "precisions": {LABEL: 1}}],
                          "b": []}, "kernels": [kernel]}
    path = tmp_path / "performance-comparison.html"
    write_performance_html(result, path)
    p = page.page
    p.goto(path.as_uri())
    text = page.text()
    for raw in (IMAGE, LABEL, LAYOUT, DEVICE, REASON, EXAMPLE):
        assert raw in text, raw
    p.locator("li", has_text="not a readable image").hover()
    assert page.pwned() is None
    assert p.evaluate(INJECTED) == 0 and p.locator("script, img").count() == 0
    assert not page.errors, page.errors
    assert set(page.requests) == {path.as_uri()}
