"""``python -m widgets.serve``: Voila with the dashboard's page template findable and its served folder known."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import voila.app

from dashboard_helpers import REPO
from widgets import serve


def test_the_template_ships_in_the_package() -> None:
    folder = Path(serve.template_root()) / "voila" / "templates" / "segwb"
    assert json.loads((folder / "conf.json").read_text()) == {"base_template": "lab"}
    page = (folder / "index.html.j2").read_text()
    assert "extends 'voila/templates/lab/index.html.j2'" in page and "fontawesome-free" in page  # the links it drops
    assert json.loads((REPO / "voila.json").read_text())["VoilaConfiguration"]["template"] == "segwb"


def test_main_makes_the_template_findable_and_says_where_voila_runs(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    started: list = []
    monkeypatch.setattr(voila.app, "main", lambda argv: started.append(argv))
    monkeypatch.setenv("JUPYTER_PATH", "/elsewhere")
    monkeypatch.delenv(serve.VOILA_ROOT, raising=False)
    monkeypatch.chdir(tmp_path)
    serve.main(["notebooks/dashboard.ipynb", "--port=1"])
    assert started == [["notebooks/dashboard.ipynb", "--port=1"]]
    assert os.environ["JUPYTER_PATH"].split(os.pathsep) == [serve.template_root(), "/elsewhere"]
    assert os.environ[serve.VOILA_ROOT] == str(tmp_path)
