"""``segwb explore`` from the command line: estimate, a measured cell cached in the project, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from tiny_models import write_model

from segwb import cli


def test_explore_measures_and_caches(tmp_path: Path, capsys) -> None:
    """One cell (1 stream, batch 2) lands in PROJECT/explorer and is reused on the second call."""
    models = tmp_path / "project" / "models" / "parent"
    xml = write_model(models, "scores")
    argv = ["explore", str(xml), "--streams", "1", "--batch", "2", "--seconds", "0.2", "--threshold-ms", "1000"]
    assert cli.main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["sweet_spot"]["batch"] == 2 and summary["sweet_spot"]["streams_used"] == 1
    cached = list((tmp_path / "project" / "explorer").glob("*.json"))
    assert len(cached) == 1
    stamp = cached[0].stat().st_mtime_ns
    assert cli.main(argv) == 0 and cached[0].stat().st_mtime_ns == stamp


def test_explore_estimate_only_and_errors(tmp_path: Path, capsys) -> None:
    xml = write_model(tmp_path / "m", "scores")
    assert cli.main(["explore", str(xml), "--streams", "1", "--batch", "1", "--estimate-only"]) == 0
    assert not (tmp_path / "m" / "explorer").exists() or not list((tmp_path / "m" / "explorer").glob("*.json"))
    capsys.readouterr()
    assert cli.main(["explore", str(tmp_path / "none.xml")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "none.xml: no such model file" in err[0]
