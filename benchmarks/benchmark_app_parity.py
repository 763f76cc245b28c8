"""Our in-process FPS against OpenVINO's benchmark_app on the same IR and settings; writes a JSON of ratios.

Usage: python benchmarks/benchmark_app_parity.py [--model XML ...] [--seconds S] [--out FILE]
Default models: the deeplabv3 fixture (parent) and, if a project exists, its INT8 child.
Both tools run alternately in the same process tree so that machine noise hits them alike, taking turns at going
first; target ratio 1 ± 5 %.
The ratio judged is the median over rounds of each round's ratio (the two tools back to back): on this shared
machine one tool's best run alone drifts by 10 % between rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import openvino as ov

from segwb.core.storage import write_json
from segwb.measure.benchmark import benchmark

BENCHMARK_APP = Path(sys.executable).with_name("benchmark_app")


def benchmark_app_fps(xml: Path, precision: str | None, seconds: float) -> dict:
    """Run benchmark_app (THROUGHPUT hint, JSON stats) and return its throughput and median latency."""
    with tempfile.TemporaryDirectory() as folder:
        cmd = [str(BENCHMARK_APP), "-m", str(xml), "-d", "CPU", "-hint", "throughput", "-t", str(int(seconds)),
               "-json_stats", "-report_type", "no_counters", "-report_folder", folder]
        if precision:
            cmd += ["-infer_precision", precision]
        subprocess.run(cmd, check=True, capture_output=True, text=True)
        stats = json.loads((Path(folder) / "benchmark_report.json").read_text())["execution_results"]
    return {"fps": float(stats["throughput"]), "latency_median_ms": float(stats["latency (ms)"]), "command": " ".join(cmd[:-2])}


def ours(xml: Path, precision: str | None, seconds: float) -> dict:
    model = ov.Core().read_model(xml)
    inp = model.input(0)
    # benchmark_app fills inputs with random data; so do we here, with the same shape and type
    import numpy as np

    rng = np.random.default_rng(0)
    dtype = inp.get_element_type().to_dtype()
    tensor = (rng.integers(0, 255, size=list(inp.get_shape())) if np.issubdtype(dtype, np.integer)
              else rng.random(size=list(inp.get_shape()))).astype(dtype)
    r = benchmark(xml, tensor, precision, seconds)
    return {"fps": r.fps, "latency_median_ms": r.latency_ms["median"], "properties": r.properties}


def main() -> int:
    fixtures = Path(os.environ.get("SEGWB_FIXTURES", "../shared/zoo"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, action="append")
    parser.add_argument("--project", type=Path, default=Path("projects/acceptance-deeplabv3"))
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/benchmark_app_parity.json"))
    args = parser.parse_args()
    models = args.model or [p for p in (fixtures / "models/deeplabv3-mnv2-voc-513/deeplabv3.xml",
                                        args.project / "models/optimized/model.xml") if p.is_file()]
    results = []
    for xml in models:
        for precision in ("f32", None):
            tools = (ours, benchmark_app_fps)
            pairs = []
            for round_ in range(args.rounds):  # the tools take turns going first, so an order effect cancels out
                order = tools if round_ % 2 == 0 else tools[::-1]
                got = {tool: tool(xml, precision, args.seconds) for tool in order}
                pairs.append((got[ours], got[benchmark_app_fps]))
            our_fps = max(p[0]["fps"] for p in pairs)
            app_fps = max(p[1]["fps"] for p in pairs)
            ratios = [p[0]["fps"] / p[1]["fps"] for p in pairs]
            ratio = statistics.median(ratios)
            results.append({"model": str(xml), "precision": precision or "default", "segwb_fps": our_fps,
                            "benchmark_app_fps": app_fps, "ratio_of_bests": our_fps / app_fps, "round_ratios": ratios,
                            "ratio": ratio, "within_5_percent": abs(ratio - 1) <= 0.05, "rounds": pairs})
            print(f"{xml.name} {precision or 'default':7} segwb {our_fps:7.1f} FPS  benchmark_app {app_fps:7.1f} FPS  "
                  f"median round ratio {ratio:.3f} ({', '.join(f'{r:.3f}' for r in ratios)})", flush=True)
    write_json(args.out, {"openvino": ov.__version__, "seconds": args.seconds, "results": results})
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
