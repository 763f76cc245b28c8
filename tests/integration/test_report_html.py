"""report.html from the Jinja2 templates: every value a user can influence (file, folder and class names, the
model's name) is escaped in the page and intact in the page's data; the page needs no network."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import cv2
import numpy as np
from tiny_models import write_model

from segwb.tutorial.options import TutorialOptions
from segwb.tutorial.run import run

HOSTILE = ("<script>alert(1)<!--", 'a&b "x" \'y\'', "<img src=x onerror=alert(2)>")  # file names: no "/"


class Tags(HTMLParser):
    """Every start tag of a page, with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.data: dict[str, str] = {}
        self._script: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, dict(attrs)))
        self._script = dict(attrs).get("id") if tag == "script" else None

    def handle_data(self, data: str) -> None:
        if self._script:
            self.data[self._script] = self.data.get(self._script, "") + data


def test_hostile_names_are_escaped_and_kept(tmp_path: Path) -> None:
    photos = tmp_path / "photos <b>bold & co"
    photos.mkdir()
    for i, name in enumerate(HOSTILE):
        image = np.full((40, 50, 3), 60 * i, np.uint8)
        cv2.circle(image, (25, 20), 8 + i, (200, 100, 50), -1)
        cv2.imwrite(str(photos / f"{name}.png"), image)
    model = write_model(tmp_path / "model")
    (model.parent / "labels.txt").write_text("background\n<i>person</i>\ncat</script>\n")
    options = TutorialOptions(out=tmp_path / "project", model=str(model), dataset=str(photos), bench_seconds=0.2)
    report = json.loads(run(options).read_text())
    page = (tmp_path / "project" / "report.html").read_text()

    for raw in (*HOSTILE, "<b>bold", "<i>person</i>", "cat</script>"):
        assert raw not in page, raw
    assert "photos &lt;b&gt;bold &amp; co" in page  # the dataset path, shown escaped
    parsed = Tags()
    parsed.feed(page)
    assert [t for t, _ in parsed.tags if t in ("script", "img", "b", "i")].count("script") == 3  # rows, tables, code
    assert not [a for t, a in parsed.tags if t == "img"]  # the page makes its overlay images itself, on a click
    rows = json.loads(parsed.data["rows"])
    assert sorted(r["image"] for r in rows["basic"]) == sorted(f"{n}.png" for n in HOSTILE)
    assert {r["class_name"] for r in rows["advanced"]} <= {"background", "<i>person</i>", "cat</script>"}
    assert rows["basic"] == report["comparison"]["basic"]
    tables = json.loads(parsed.data["tables"])
    assert [c["title"] for c in tables["basic"]["columns"]] == ["Image Name", "Optimized Model Average Result",
                                                                  "Pixel Agreement"]
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", page)  # nothing fetched from the network
