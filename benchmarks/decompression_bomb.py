"""A decompression bomb in a dataset: the run drops the picture by its header and ends in seconds, in little memory.

Usage:
    python benchmarks/decompression_bomb.py [--side 30000] [--out benchmarks/results/decompression_bomb.json]

Builds a folder with two ordinary photos and one 8-bit greyscale PNG of side x side black pixels (0.9 MB on disk at
30000, 0.9 GB decoded, 2.7 GB as BGR), and runs ``segwb tutorial semantic`` on it with a tiny model built in
code (tests/helpers/tiny_models.py), in a subprocess; records the exit code, the wall time, the child's peak RSS
(``getrusage(RUSAGE_CHILDREN)``) and what the report says it dropped. Before segwb read sizes from the header, the
same folder took 108 s and about 14 GB (issue 17).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "helpers"))
from bombs import bomb_png  # noqa: E402 - the helpers folder is put on the path above
from tiny_models import write_model  # noqa: E402


def build(folder: Path, side: int) -> tuple[Path, Path]:
    """The tiny model and the dataset folder with the bomb."""
    xml = write_model(folder / "model", "class_map")
    photos = folder / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    for n in range(2):
        cv2.imwrite(str(photos / f"photo{n}.jpg"), rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))
    bomb_png(photos / "bomb.png", side)  # streamed: this process never holds the pixels (a fork would count them)
    return xml, photos


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=30000)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "decompression_bomb.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        xml, photos = build(Path(tmp), args.side)
        project = Path(tmp) / "project"
        cmd = [sys.executable, "-m", "segwb", "tutorial", "semantic", "--model", str(xml), "--dataset", str(photos),
               "--out", str(project), "--bench-seconds", "0.5"]
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
        report = json.loads((project / "report.json").read_text()) if (project / "report.json").is_file() else {}
        result = {
            "what": "segwb tutorial semantic on 2 photos + a decompression-bomb PNG, tiny model, --bench-seconds 0.5",
            "bomb": {"side": args.side, "file_bytes": (photos / "bomb.png").stat().st_size},
            "exit_code": done.returncode, "wall_seconds": round(seconds, 2),
            "peak_rss_mib": round(peak_kib / 1024, 1), "goal": "peak RSS < 1024 MiB, seconds",
            "images_in_report": report.get("dataset", {}).get("images"),
            "dropped": report.get("dataset", {}).get("dropped"),
            "machine": {"python": platform.python_version(), "processor": platform.processor() or platform.machine()},
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    if done.returncode:
        print(done.stderr[-2000:], file=sys.stderr)


if __name__ == "__main__":
    main()
