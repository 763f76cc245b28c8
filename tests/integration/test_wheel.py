"""segwb installs as a regular wheel: built from the checkout, installed (not editable) into a fresh venv, it runs
a small semantic tutorial from an empty folder outside the checkout, and its dashboard module imports."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tiny_models import write_model
from venvs import clean_env, venv_without_checkout

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "setup.py", "README.md", "segwb", "widgets", "data")
CACHES = shutil.ignore_patterns("__pycache__", "*.pyc")

pytestmark = pytest.mark.slow


def _run(cmd: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{cmd}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed; its other packages are this venv's (linked, without segwb), so no
    download is needed. Returns its python."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"  # a copy: building writes build/ and *.egg-info beside the sources
    source.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=CACHES)
        else:
            shutil.copy(REPO / name, source / name)
    _run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(root / "dist"), str(source)],
         cwd=root)
    (wheel,) = (root / "dist").glob("segwb-*.whl")
    python = venv_without_checkout(root, with_pip=True)
    _run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", str(wheel)], cwd=root)
    return python


def test_the_installed_package_is_not_the_checkout(installed: Path, tmp_path: Path) -> None:
    """segwb, its data and templates, and the dashboard's widgets come from the venv's site-packages."""
    code = ("import segwb, widgets.dashboard; from importlib.resources import files; "
            "print(segwb.__file__); print(widgets.dashboard.__file__); "
            "print(files('segwb.data').joinpath('embedded-photos.json').is_file()); "
            "print(files('segwb.report.templates').joinpath('report.html.j2').is_file())")
    lines = _run([str(installed), "-c", code], cwd=tmp_path).stdout.split()
    for path in lines[:2]:
        assert "site-packages" in path and not path.startswith(str(REPO))
    assert lines[2:] == ["True", "True"]


def test_a_small_tutorial_runs_from_an_empty_folder(installed: Path, tmp_path: Path) -> None:
    """``segwb tutorial semantic`` (the installed entry point) on a tiny model and the embedded photos."""
    model = write_model(tmp_path / "model", "class_map")
    work = tmp_path / "empty"
    work.mkdir()
    segwb = installed.with_name("segwb")
    done = _run([str(segwb), "tutorial", "semantic", "--model", str(model), "--out", "project", "--bench-seconds", "0.2"],
                cwd=work)
    assert "Speedup over parent f32" in done.stdout
    assert (work / "project" / "report.json").is_file() and (work / "project" / "report.html").is_file()
    assert len(list((work / "project" / "overlays").glob("*.jpg"))) == 6  # the embedded photos, found in their packages
