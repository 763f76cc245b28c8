"""The same models benchmarked on each device segwb can use here (``--device``): what was asked, what ran, how fast.

Usage:
    python benchmarks/devices.py [--devices CPU AUTO ...] [--seconds 2] [--rounds 3] [--out benchmarks/results/devices.json]

For the tiny semantic model built in code (tests/helpers/tiny_models.py) and, with ``$SEGWB_FIXTURES``, the deeplabv3
fixture: ``segwb.measure.benchmark.benchmark`` at the f32 pin and at the device's default precision, on each device,
in interleaved rounds (the best round kept, as the tutorial's benchmark does). Records the FPS, the median latency and
the properties the compiled model reported (``EXECUTION_DEVICES``, precision, streams), and each device's full name.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

import openvino as ov

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "helpers"))
from tiny_models import write_model  # noqa: E402 - the helpers folder is put on the path above

from segwb.core.devices import check_device, device_name, device_names, execution_devices  # noqa: E402
from segwb.measure.benchmark import benchmark  # noqa: E402
from segwb.measure.inputs import random_input  # noqa: E402

DEEPLABV3 = "models/deeplabv3-mnv2-voc-513/deeplabv3.xml"


def models(tmp: Path) -> dict[str, Path]:
    """The tiny model, and the deeplabv3 fixture when ``$SEGWB_FIXTURES`` has it."""
    found = {"tiny (64x64 u8, one 3x3 convolution)": write_model(tmp / "tiny")}
    fixture = Path(os.environ.get("SEGWB_FIXTURES", "/nonexistent")) / DEEPLABV3
    if fixture.is_file():
        found["deeplabv3 fixture (f32 IR, 513x513)"] = fixture
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", nargs="+", default=["CPU", "AUTO"], help="as --device takes them (default CPU AUTO)")
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "devices.json")
    args = parser.parse_args()
    devices = [check_device(d) for d in args.devices]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, xml in models(Path(tmp)).items():
            inp = ov.Core().read_model(xml).input(0)
            tensor = random_input(inp.get_shape(), inp.get_element_type().to_dtype())
            measured: dict[tuple[str, str], list] = {}
            for _ in range(args.rounds):
                for device in devices:
                    for precision in ("f32", None):
                        result = benchmark(xml, tensor, precision, args.seconds, device=device)
                        measured.setdefault((device, precision or "default"), []).append(result)
            for (device, precision), results in measured.items():
                best = max(results, key=lambda r: r.fps)
                rows.append({"model": label, "device": device,
                             "device_name": device_name(device, execution_devices(best.properties)),
                             "precision_requested": precision, "fps": best.fps,
                             "rounds_fps": [r.fps for r in results], "median_latency_ms": best.latency_ms["median"],
                             "properties": best.properties})
                print(f"{label:40} {device:12} {precision:8} {best.fps:9.1f} FPS  "
                      f"ran on {best.properties.get('EXECUTION_DEVICES')} at {best.inference_precision}")
    result = {"openvino_version": ov.__version__, "python": platform.python_version(), "machine": platform.machine(),
              "devices": device_names(), "seconds_per_run": args.seconds, "rounds": args.rounds, "rows": rows}
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
