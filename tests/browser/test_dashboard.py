"""The Voila dashboard in a real Chromium: run the semantic tutorial, read the results, reload, bad input.

Starts Voila on a free 127.0.0.1 port, drives Debian's Chromium with Playwright, fails on any error panel, browser
console error or request that leaves 127.0.0.1, and saves screenshots under tests/artifacts/ (git-ignored).

The main server's projects live in a fresh folder under tests/artifacts/ (removed at the end): the Next steps tab
links a file for download only when it is under the repository, the folder Voila runs from (else it shows the path).
"""

from __future__ import annotations

import os
import re
import shutil
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from dashboard_helpers import CHROMIUM, chromium_browser, REPO, Setup, VoilaServer, small_setup

playwright = pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).is_file():
    pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (.ci/run does)", allow_module_level=True)

pytestmark = pytest.mark.slow
ARTIFACTS = REPO / "tests" / "artifacts"
RUN_TIMEOUT_MS = 300_000


class Browser:
    """One page with its console errors and its requests to anywhere but 127.0.0.1 collected."""

    def __init__(self, page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.external: list[str] = []
        page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("request", self._request)

    def _request(self, request) -> None:
        url = urlsplit(request.url)
        if url.scheme not in ("data", "blob", "about") and url.hostname != "127.0.0.1":
            self.external.append(request.url)

    def open(self, server: VoilaServer) -> float:
        """Load the dashboard; returns the seconds until its widgets are on the page (or fails with Voila's log)."""
        start = time.monotonic()
        try:
            self.page.goto(server.url, timeout=120_000)
            self.page.wait_for_selector(".segwb-dashboard", timeout=120_000)
        except playwright.Error as exc:
            raise AssertionError(f"the dashboard did not appear ({exc.message.splitlines()[0]}); "
                                 f"the end of Voila's log:\n{server.tail()}") from exc
        return time.monotonic() - start

    def tab(self, name: str) -> None:
        self.page.get_by_role("tab", name=name).click()

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)

    def cells(self, column: str) -> list[str]:
        return self.page.locator(f'.segwb-table .segwb-cell[data-col="{column}"]').all_inner_texts()

    def check_clean(self) -> None:
        """No error panel on the page, nothing in the console, no request off this machine (the page works offline)."""
        panels = self.page.locator(".segwb-error")
        texts = [t for t in panels.all_inner_texts() if t.strip()]
        assert not texts, f"error panel shown: {texts}"
        assert not self.errors, self.errors
        assert not self.external, f"requests that left 127.0.0.1: {self.external}"


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    return small_setup(tmp_path_factory.mktemp("browser-data"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, setup: Setup) -> Iterator[VoilaServer]:
    tmp = tmp_path_factory.mktemp("voila")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    projects = Path(tempfile.mkdtemp(prefix="browser-projects-", dir=ARTIFACTS))  # under the repository: see the top
    env = {**os.environ, "SEGWB_PROJECTS": str(projects), "SEGWB_CACHE": str(tmp / "cache"),
           **setup.dashboard_env(0.5), "SEGWB_UPLOAD_LIMIT_MB": str(UPLOAD_LIMIT_MB)}
    env.pop("SEGWB_ZOO_MIRROR", None)
    voila = VoilaServer(env, tmp / "voila.log")
    try:
        voila.wait_ready()
        yield voila
    finally:
        voila.stop()
        shutil.rmtree(projects, ignore_errors=True)


@pytest.fixture(scope="module")
def chromium() -> Iterator:
    with chromium_browser() as browser:
        yield browser


@pytest.fixture
def browser(chromium) -> Iterator[Browser]:
    context = chromium.new_context(viewport={"width": 1500, "height": 1000})
    try:
        yield Browser(context.new_page())
    finally:
        context.close()


UPLOAD_LIMIT_MB = 40  # above a project archive of the deeplabv3 fixture, so the import upload passes
BARS_DRAWN = """n => [...document.querySelectorAll('.segwb-performance rect.bar')]
    .filter(r => r.getBBox().height > 0).length == 2 * n"""
# Each task button shows its whole title (the default 70 px width cut it to "Semantic segmenta…").
TASK_LABELS_FIT = """() => [...document.querySelectorAll('.segwb-task button')]
    .map(b => [b.innerText.trim(), b.scrollWidth <= b.clientWidth])"""
# The buttons' icons come from the Font Awesome that Voila serves with ipywidgets, not from a CDN.
ICON_FONT_LOADED = """async () => { await document.fonts.ready;
    return [...document.fonts].some(f => f.family.includes('Font Awesome') && f.status == 'loaded'); }"""


def _upload(page, selector: str, path: Path) -> None:
    """Click an ipywidgets FileUpload button and pick ``path`` in the file chooser it opens."""
    with page.expect_file_chooser() as chooser:
        page.locator(selector).click()
    chooser.value.set_files(str(path))


def _floats(texts: list[str]) -> list[float]:
    return [float(t) for t in texts if t != "N/A"]


def _make_and_download(browser: Browser, server: VoilaServer, button: str, suffix: str, into: Path) -> tuple[str, Path]:
    """Click a Next steps button, wait for its download link and download it in the browser: (href, file)."""
    page = browser.page
    page.locator(f".{button} button, button.{button}").first.click()
    link = page.locator(f'a.segwb-download[href$="{suffix}"]')
    link.wait_for(timeout=120_000)
    href = link.get_attribute("href")
    assert href and href.startswith("/voila/files/"), href
    status = _status(server.url.rstrip("/") + href)  # a refused link would only show as a "canceled" download
    assert status == 200, f"Voila answers {href} with HTTP {status} (its files handler serves Voila.root_dir)"
    with page.expect_download(timeout=30_000) as info:
        link.click()
    download = info.value
    assert download.failure() is None, download.failure()
    assert download.suggested_filename == Path(href).name
    path = into / download.suggested_filename
    download.save_as(path)
    return href, path


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_semantic_tutorial_in_the_browser(server: VoilaServer, browser: Browser, setup: Setup, tmp_path: Path) -> None:
    """Run all steps from the Optimize tab, then read the speedup, sort the table, open an overlay, go Advanced,
    and download the deployment package and the project archive from Next steps."""
    page = browser.page
    browser.open(server)
    assert page.evaluate(TASK_LABELS_FIT) == [["Semantic segmentation", True], ["Instance segmentation", True]]
    cancel = page.locator(".segwb-cancel")
    assert cancel.is_disabled() and "mod-warning" not in (cancel.get_attribute("class") or "")  # idle: neutral
    assert page.evaluate(ICON_FONT_LOADED), "the buttons' icon font did not load from Voila"
    browser.shot("1-model-and-data")
    browser.tab("Optimize (INT8)")
    page.get_by_label("Fast bias correction").check()  # NNCF's full one costs 9 s (deeplabv3) to 23 s (YOLO) whatever the images
    page.get_by_role("button", name="3. Accuracy report").click()
    page.wait_for_selector('.segwb-status[data-state="running"]', timeout=30_000)
    assert cancel.is_enabled() and "mod-warning" in (cancel.get_attribute("class") or "")  # a cancellable job runs
    browser.shot("2-running")
    page.wait_for_selector('.segwb-status[data-state="done"], .segwb-status[data-state="failed"]', timeout=RUN_TIMEOUT_MS)
    browser.shot("3-optimize-done")
    browser.check_clean()
    assert page.locator(".segwb-quantized").inner_text().startswith("INT8 model ready")
    page.wait_for_function("() => !document.querySelector('.segwb-runner').innerText.includes('predicting')",
                           timeout=10_000)  # the phase line of a finished job is cleared
    assert cancel.is_disabled() and "mod-warning" not in (cancel.get_attribute("class") or "")

    browser.tab("Performance")
    speedup = page.locator(".segwb-speedup").inner_text()
    assert re.fullmatch(r"\d+\.\d\d× faster", speedup.strip()), speedup
    assert float(page.locator(".segwb-speedup").get_attribute("data-speedup")) > 0
    page.wait_for_function(BARS_DRAWN, arg=4, timeout=30_000)  # parent f32, parent default, INT8 under both hints
    browser.shot("4-performance")
    page.get_by_role("button", name="Compare performance").click()  # both models profiled layer by layer
    page.wait_for_selector(".segwb-performance-comparison .segwb-findings li", timeout=RUN_TIMEOUT_MS)
    assert "ms" in page.locator(".segwb-performance-comparison .segwb-findings li").first.inner_text()
    assert page.locator('.segwb-performance-comparison iframe[title="Performance comparison"]').count() == 1
    browser.shot("4b-performance-comparison")

    browser.tab("Accuracy report")
    images = [t for t in browser.cells("image") if t]
    expected = 6 if setup.source == "tiny" else 3
    assert len(images) == expected, images
    averages = _floats(browser.cells("average_result"))
    assert averages == sorted(averages), "worst first by default"
    page.locator(".segwb-sort", has_text="Pixel Agreement").click()
    page.wait_for_selector(".segwb-sort:has-text('Pixel Agreement ▲')")
    ascending = _floats(browser.cells("pixel_agreement"))
    assert len(ascending) == expected and ascending == sorted(ascending)
    page.locator(".segwb-sort", has_text="Pixel Agreement").click()
    page.wait_for_selector(".segwb-sort:has-text('Pixel Agreement ▼')")
    descending = _floats(browser.cells("pixel_agreement"))
    assert descending == sorted(ascending, reverse=True)
    browser.shot("5-report-sorted")

    first = browser.cells("image")[0]
    page.locator(".segwb-view").first.click()
    page.wait_for_selector('[role=tab][aria-selected=true]:has-text("Visualize")', timeout=30_000)
    page.wait_for_selector(f'.segwb-viewer .segwb-note:has-text("{first}")', timeout=30_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.segwb-overlay')].filter(i => i.complete && i.naturalWidth > 0).length == 3",
        timeout=30_000)
    widths = page.eval_on_selector_all("img.segwb-overlay", "els => els.map(e => e.naturalWidth)")
    assert len(set(widths)) == 1 and widths[0] > 0, widths  # same zoom for the three panels
    assert page.locator(".segwb-badge").count() >= 1
    browser.shot("6-visualize")

    browser.tab("Accuracy report")
    page.get_by_role("radio", name="Advanced").or_(page.get_by_role("button", name="Advanced")).first.click()
    page.wait_for_selector(".segwb-sort:has-text('Class Name')")
    names = [t for t in browser.cells("class_name") if t]
    assert names, "advanced rows"
    results = _floats(browser.cells("result"))
    assert results == sorted(results)
    browser.shot("7-advanced")
    browser.check_clean()

    # Next steps: the deployment package and the project archive, downloaded through Voila's files handler
    browser.tab("Next steps")
    next_steps = page.locator(".segwb-dashboard").inner_text()
    assert "Create the accuracy report first" not in next_steps and "Reproduce this run from a terminal" in next_steps
    assert "segwb tutorial semantic" in page.locator(".segwb-reproduce").inner_text()
    href, package = _make_and_download(browser, server, "segwb-deploy", ".zip", tmp_path)
    with zipfile.ZipFile(package) as archive:
        names = archive.namelist()
        assert archive.testzip() is None
    assert any(n.endswith("/infer.py") for n in names) and any(n.endswith("/model/model.xml") for n in names), names
    browser.shot("7b-deployment-package")
    project = href.removeprefix("/voila/files/").rsplit("/deploy/", 1)[0]
    href, exported = _make_and_download(browser, server, "segwb-export", ".tar.gz", tmp_path)
    assert href.startswith(f"/voila/files/{project}/export/"), href
    with tarfile.open(exported) as archive:
        names = archive.getnames()
    assert any(n.endswith("/description.txt") for n in names), names
    browser.shot("7c-export")
    # ... and back in: the downloaded archive, uploaded, is imported into a new folder and opened as recorded
    _upload(page, ".segwb-archive-upload", exported)
    page.wait_for_selector(".segwb-dashboard :text('Opened project')", timeout=60_000)
    browser.tab("Accuracy report")
    page.get_by_role("radio", name="Basic").or_(page.get_by_role("button", name="Basic")).first.click()
    page.wait_for_selector(".segwb-sort:has-text('Optimized Model Average Result')")
    page.wait_for_function(  # one row per image again, read from the imported folder
        """n => [...document.querySelectorAll('.segwb-table .segwb-cell[data-col="image"]')]
            .filter(c => c.innerText.trim()).length == n""", arg=expected, timeout=30_000)
    assert "/imported/" in page.get_by_text("Opened project: ").inner_text()
    browser.shot("7d-imported")
    # voila.json's allowlist: the links' files are served (checked above), the rest of the project folder is not;
    # these files exist under the served folder, so only a refusal (403) is right, not a 404 for a wrong path
    for refused in (f"{project}/report.json", f"{project}/models/optimized/model.xml",
                    f"{project}/models/optimized/model.bin", "pyproject.toml", "voila.json"):
        assert (REPO / refused).is_file(), refused
        assert _status(f"{server.url}voila/files/{refused}") == 403, refused
    browser.check_clean()


def test_reload_shows_cached_results(server: VoilaServer, browser: Browser) -> None:
    """A new visit (new kernel) shows the last run's report at once, read from the project folder."""
    seconds = browser.open(server)
    browser.tab("Accuracy report")
    browser.page.wait_for_selector('.segwb-cell[data-col="image"]:not(:empty)', timeout=10_000)
    browser.tab("Performance")
    assert "faster" in browser.page.locator(".segwb-speedup").inner_text()
    browser.shot("8-reloaded")
    browser.check_clean()
    print(f"reload to widgets on the page: {seconds:.1f} s")
    assert seconds < 15, f"reload took {seconds:.1f} s"


def test_bad_input_gives_a_message_and_the_app_stays_usable(server: VoilaServer, browser: Browser, setup: Setup,
                                                            tmp_path: Path) -> None:
    """A non-model file as model, an empty zip and an oversized upload as dataset: one clear line each."""
    page = browser.page
    browser.open(server)
    not_a_model = tmp_path / "notes.txt"
    not_a_model.write_text("not a model\n")
    page.get_by_role("radio", name="My model file").check()
    page.get_by_placeholder("/path/to/model.xml | .onnx | .tflite | .pb | SavedModel folder").fill(str(not_a_model))
    page.get_by_role("button", name="Check model").click()
    message = page.locator(".segwb-model-message .segwb-input-error")
    message.wait_for(timeout=30_000)
    assert "notes.txt" in message.inner_text() and "unsupported model format" in message.inner_text()

    page.get_by_role("radio", name="Upload").check()
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w"):
        pass
    _upload(page, ".segwb-dataset-upload", empty)
    page.wait_for_selector(".segwb-dataset-message .segwb-input-error", timeout=30_000)
    text = page.locator(".segwb-dataset-message").inner_text()
    assert "empty.zip" in text and ("no images" in text or "empty" in text), text

    big = tmp_path / "big.zip"
    with zipfile.ZipFile(big, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("photos/noise.png", os.urandom((UPLOAD_LIMIT_MB + 1) << 20))
    _upload(page, ".segwb-dataset-upload", big)
    page.wait_for_selector(f".segwb-dataset-message:has-text('over the {UPLOAD_LIMIT_MB} MB limit')", timeout=60_000)
    browser.shot("9-bad-input")

    # still usable: the real model checks fine and its card is shown
    page.get_by_placeholder("/path/to/model.xml | .onnx | .tflite | .pb | SavedModel folder").fill(str(setup.model))
    page.get_by_role("button", name="Check model").click()
    page.wait_for_selector(".segwb-model-message .segwb-ok", timeout=60_000)
    assert page.locator(".segwb-card").count() == 1
    browser.check_clean()


def test_instance_tutorial_in_the_browser(tmp_path_factory: pytest.TempPathFactory, chromium) -> None:
    """The instance tutorial on the YOLO fixture and three COCO photos: report, instance badges, threshold 0.8."""
    root = os.environ.get("SEGWB_FIXTURES")
    if not root:
        pytest.skip("SEGWB_FIXTURES is not set: the browser instance run uses the YOLO fixture")
    import shutil

    tmp = tmp_path_factory.mktemp("voila-instance")
    photos = tmp / "photos"
    photos.mkdir()
    for src in sorted((Path(root) / "datasets" / "coco96-images").glob("*.jpg"))[:3]:
        shutil.copy(src, photos / src.name)
    env = {**os.environ, "SEGWB_PROJECTS": str(tmp / "projects"), "SEGWB_CACHE": str(tmp / "cache"),
           "SEGWB_DASHBOARD_TASK": "instance", "SEGWB_DASHBOARD_MODEL": str(Path(root) / "models/yolo26n-seg-coco-320/yolo26n-seg.xml"),
           "SEGWB_DASHBOARD_DATASET": str(photos), "SEGWB_DASHBOARD_BENCH_SECONDS": "0.5"}
    voila = VoilaServer(env, tmp / "voila.log")
    context = chromium.new_context(viewport={"width": 1500, "height": 1000})
    try:
        voila.wait_ready()
        browser = Browser(context.new_page())
        page = browser.page
        browser.open(voila)
        browser.tab("Optimize (INT8)")
        page.get_by_label("Fast bias correction").check()  # the full one: 23 s of NNCF's per-layer subgraphs
        page.get_by_role("button", name="3. Accuracy report").click()
        page.wait_for_selector('.segwb-status[data-state="done"], .segwb-status[data-state="failed"]', timeout=RUN_TIMEOUT_MS)
        browser.check_clean()
        assert '"fast_bias_correction": true' in page.locator(".segwb-quantized").inner_text()
        browser.tab("Performance")
        assert re.fullmatch(r"\d+\.\d\d× faster", page.locator(".segwb-speedup").inner_text().strip())
        browser.tab("Accuracy report")
        assert len([t for t in browser.cells("image") if t]) == 3
        assert page.locator(".segwb-sort", has_text="Agreement").count() == 1
        page.locator(".segwb-view").first.click()
        page.wait_for_selector('[role=tab][aria-selected=true]:has-text("Visualize")', timeout=30_000)
        page.wait_for_function(
            "() => [...document.querySelectorAll('img.segwb-overlay')].filter(i => i.complete && i.naturalWidth > 0).length == 3",
            timeout=30_000)
        assert "Score ≥" in page.locator(".segwb-viewer").inner_text()
        assert "0.80" in page.locator(".segwb-viewer").inner_text()
        browser.shot("10-instance-visualize")
        browser.tab("Accuracy report")
        page.get_by_role("button", name="Advanced").or_(page.get_by_role("radio", name="Advanced")).first.click()
        page.wait_for_selector(".segwb-sort:has-text('Predicted Class Average Precision')")
        browser.shot("11-instance-advanced")
        browser.check_clean()
    finally:
        context.close()
        voila.stop()
