"""Fresh virtual environments that see this venv's packages except the checkout's own, so tests can run code
where segwb is not importable (the deployment package) or only as an installed wheel, with no download."""

from __future__ import annotations

import os
import subprocess
import sysconfig
import venv
from pathlib import Path

CHECKOUT = ("segwb", "widgets", "__editable__")  # the checkout's packages, installed or through the editable hook


def clean_env() -> dict[str, str]:
    """This environment without anything that could put the checkout on a Python's path (and pip offline)."""
    drop = {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP"}
    return {**{k: v for k, v in os.environ.items() if k not in drop}, "PYTHONNOUSERSITE": "1", "PIP_NO_INDEX": "1"}


def venv_without_checkout(root: Path, with_pip: bool = False) -> Path:
    """A venv in ``root/venv`` whose .pth lists a folder of links to this venv's site-packages entries minus the
    checkout's; .pth files of a folder listed that way are not run, so no editable-install hook brings segwb
    back. Returns its python."""
    deps = root / "deps"
    deps.mkdir(parents=True)
    for lib in {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}:
        for entry in Path(lib).iterdir():
            if not entry.name.startswith(CHECKOUT) and entry.suffix != ".pth" and not (deps / entry.name).exists():
                (deps / entry.name).symlink_to(entry)
    venv.EnvBuilder(with_pip=with_pip, symlinks=True).create(root / "venv")
    python = root / "venv" / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             env=clean_env(), capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "deps.pth").write_text(f"{deps}\n")
    probe = subprocess.run([python, "-c", "import segwb"], cwd=root, env=clean_env(), capture_output=True, text=True)
    assert probe.returncode != 0 and "No module named 'segwb'" in probe.stderr, probe.stderr
    return python
