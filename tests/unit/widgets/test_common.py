"""The shared pieces: escaping, one-line errors, the error panel, taking an upload, opening a project folder."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import ipywidgets as w
import pytest

from segwb.core.errors import DatasetError
from widgets.common import error_html, escape, existing_project, input_error_html, one_line, style, take_upload


def test_messages_are_escaped_and_one_line() -> None:
    assert escape('<b a="1">') == "&lt;b a=&quot;1&quot;&gt;"
    assert one_line(DatasetError("no images", "photos")) == "photos: no images"
    assert one_line(RuntimeError("Exception from src/x.cpp\nthe real reason\nmore")) == "OpenVINO: the real reason"
    try:
        raise ValueError("bad <value>")
    except ValueError as exc:
        panel = error_html(exc, "Checking")
    assert panel.startswith('<div class="segwb-error"><b>Checking failed: </b>internal error (ValueError: bad &lt;value&gt;)')
    assert "<details>" in panel and "Traceback" in panel
    assert input_error_html("x < 1") == '<span class="segwb-input-error">x &lt; 1</span>'
    assert ".segwb-error" in style().value


def _upload(name: str, data: bytes) -> dict:
    return {"name": name, "type": "", "size": len(data), "content": memoryview(data),
            "last_modified": datetime.now(timezone.utc)}


def test_take_upload_checks_the_size_first_and_drops_the_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    upload, message, taken = w.FileUpload(), w.HTML(""), []
    upload.value = (_upload("a.zip", b"x" * 100),)
    take_upload(upload, message, lambda files, limit: taken.append([f["name"] for f in files]))
    assert taken == [["a.zip"]] and upload.value == () and message.value == ""
    monkeypatch.setenv("SEGWB_UPLOAD_LIMIT_MB", "0.00001")
    upload.value = (_upload("big.zip", b"x" * 100),)
    take_upload(upload, message, lambda files, limit: taken.append(files))
    assert len(taken) == 1 and "big.zip" in message.value and "over the" in message.value and upload.value == ()

    def refuse(files: list, limit: int) -> None:
        raise DatasetError("no images in the archive", "empty.zip")

    monkeypatch.delenv("SEGWB_UPLOAD_LIMIT_MB")
    upload.value = (_upload("empty.zip", b"PK"),)
    take_upload(upload, message, refuse)
    assert "empty.zip: no images in the archive" in message.value and upload.value == ()


def test_existing_project_never_creates_the_folder(tmp_path: Path) -> None:
    assert existing_project(None) is None
    assert existing_project(tmp_path / "missing") is None and not (tmp_path / "missing").exists()
    project = existing_project(tmp_path)
    assert project is not None and project.optimized_xml == tmp_path / "models" / "optimized" / "model.xml"
