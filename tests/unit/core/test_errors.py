"""One line for every failure: what the CLI and the dashboard say."""

from __future__ import annotations

import json

import pytest
import yaml

from segwb.core.errors import DatasetError, describe


def test_segwb_errors_are_expected_and_name_the_file() -> None:
    exc = DatasetError("not a readable image", "photos/a.jpg")
    assert describe(exc) == ("photos/a.jpg: not a readable image", True)
    assert exc.reason == "not a readable image"


def test_os_errors_name_the_file() -> None:
    assert describe(PermissionError(13, "Permission denied", "/ro/report.json")) == \
        ("/ro/report.json: Permission denied", True)


def test_decoding_errors_are_expected() -> None:
    with pytest.raises(UnicodeDecodeError) as info:
        b"ok \xff".decode("utf-8")
    assert describe(info.value) == ("not UTF-8 text (byte 3: b'\\xff')", True)
    with pytest.raises(json.JSONDecodeError) as jinfo:
        json.loads("{")
    assert describe(jinfo.value)[1]
    with pytest.raises(yaml.YAMLError) as yinfo:
        yaml.safe_load("a: [")
    message, expected = describe(yinfo.value)
    assert expected and "\n" not in message


def test_anything_else_is_an_internal_error_in_one_line() -> None:
    message, expected = describe(KeyError("boom\nsecond line"))
    assert not expected and "\n" not in message
    assert message.startswith("internal error (KeyError") and "--debug" in message


def test_openvino_errors_are_expected_and_shortened() -> None:
    import openvino as ov

    with pytest.raises(RuntimeError) as info:
        ov.Core().compile_model("nonexist.xml", "CPU")
    message, expected = describe(info.value)
    assert expected and message.startswith("OpenVINO: ") and "\n" not in message and "nonexist" in message


def test_a_newline_in_a_file_name_stays_one_line() -> None:
    message, _ = describe(DatasetError("not a readable image", "photos/evil\nname\x1b[31m.jpg"))
    assert message == "photos/evil\\nname\\x1b[31m.jpg: not a readable image"
