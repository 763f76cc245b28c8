"""The deployment package: a zip that runs a project's model without segwb.

It holds the IR and its model card, ``deploy.json`` (the settings segwb predicted with), ``infer.py``, the
``segwb_runtime`` package, ``requirements.txt`` pinned to the versions installed here, and a README.
``segwb_runtime`` is made of segwb's own pre- and post-processing modules, copied at packaging time, so the
package and segwb cannot drift apart; a module that starts importing more than the runtime has is refused.
"""

from __future__ import annotations

import ast
import importlib.metadata
import inspect
import io
import json
import shutil
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openvino as ov

from . import __version__
from .coco import to_result
from .datasets import load_image
from .errors import ModelError, SegwbError
from .modelcard import ModelCard, load_card
from .models import card_file, first_line, ir_digest
from .predict import compile_config, prediction_queue, save_class_map
from .project import Project
from .storage import atomic_path, read_json

RUNTIME = "segwb_runtime"
ROLES = ("parent", "optimized")
# segwb modules copied whole, per task; they may import only each other, the standard library and THIRD_PARTY.
MODULES = {"semantic": ("errors", "storage", "modelcard", "preprocess", "semantic"),
           "instance": ("errors", "storage", "modelcard", "preprocess", "instances", "instance_adapters")}
# Functions whose modules need more than the runtime has (e.g. datasets needs Pillow, predict the dataset code):
# their source goes into one generated module, PICKED_HEADER supplying the names they use.
PICKED: tuple[Callable[..., Any], ...] = (load_image, compile_config, prediction_queue, save_class_map, to_result,
                                          first_line)
PICKED_HEADER = '''from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import openvino as ov

from .errors import DatasetError
from .storage import write_bytes
'''
THIRD_PARTY = {"numpy", "cv2", "openvino", "yaml", "pycocotools"}
OPENCV_DISTRIBUTIONS = ("opencv-python-headless", "opencv-python", "opencv-contrib-python-headless",
                        "opencv-contrib-python")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed entry times: the same project gives the same zip


def build_package(project_root: Path, out_zip: Path | None = None, role: str = "optimized") -> Path:
    """Write the deployment zip of ``role``'s model (atomically) and return its path.

    The default path is ``<project>/deploy/<project name>-<role>-deploy.zip``; everything in the zip sits
    in one folder named like the zip. Raises :class:`SegwbError` when the project has no report or model,
    or when the model changed since the report was written (its predictions would not be the package's).
    """
    settings, xml, card = deploy_settings(Path(project_root), role)
    name = f"{Path(project_root).resolve().name}-{role}-deploy"
    out_zip = Path(out_zip) if out_zip else Path(project_root) / "deploy" / f"{name}.zip"
    folder = out_zip.name.removesuffix(".zip")
    files: dict[str, bytes | Path] = {
        "model/model.xml": xml, "model/model.bin": xml.with_suffix(".bin"), "model/model-card.yml": card_file(xml),
        "deploy.json": (json.dumps(settings, indent=2) + "\n").encode(),
        "infer.py": Path(__file__).with_name("deploy_infer.py"),
        "requirements.txt": requirements(settings["task"]).encode(),
        "README.md": readme(settings, card).encode(),
        **runtime_files(settings["task"]),
    }
    with atomic_path(out_zip) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for arcname, content in files.items():
            _add(archive, f"{folder}/{arcname}", content)
    return out_zip


def deploy_settings(root: Path, role: str) -> tuple[dict[str, Any], Path, ModelCard]:
    """``deploy.json``'s content from the project's report, and the IR and card it describes."""
    if role not in ROLES:
        raise SegwbError(f"role must be {' or '.join(ROLES)}, got {role!r}")
    if not root.is_dir():
        raise SegwbError("no such project folder", root)
    project = Project(root)
    if not project.report_json.is_file():
        raise SegwbError("no report.json: run `segwb tutorial semantic|instance --out DIR` on this project first",
                         project.report_json)
    try:
        report = read_json(project.report_json)
    except (OSError, ValueError) as exc:
        raise SegwbError(f"report.json is not readable JSON ({exc})", project.report_json) from exc
    try:
        task, comparison, expected = report["task"], report["comparison"], report[role]["digest"]
        precision = comparison[f"{role}_precision"]
        limits = {k: comparison[k] for k in ("min_score", "max_detections")} if task == "instance" else {}
    except (KeyError, TypeError) as exc:
        raise SegwbError(f"report.json has no {exc} entry: re-run the tutorial with this segwb version",
                         project.report_json) from exc
    xml = project.parent_xml if role == "parent" else project.optimized_xml
    for needed in (xml, xml.with_suffix(".bin"), card_file(xml)):
        if not needed.is_file():
            raise ModelError(f"the {role} model is missing: re-run the tutorial on this project", needed)
    digest = ir_digest(xml)
    if digest != expected:
        raise ModelError(f"the {role} model changed since report.json was written: re-run the tutorial so that "
                         "its predictions and the package agree", xml)
    card = load_card(card_file(xml))
    settings = {
        "task": task, "adapter": card.adapter, "role": role, "project": root.resolve().name, "model_digest": digest,
        # The same hints segwb predicted with (predict.compile_model): null = the CPU plugin's default precision.
        "inference_precision_hint": None if precision == "default" else precision,
        "performance_hint": "THROUGHPUT",
        "segwb_version": __version__, "openvino_version": ov.__version__,
        **limits,
    }
    return settings, xml, card


def runtime_files(task: str) -> dict[str, bytes]:
    """``segwb_runtime/``: segwb's modules for ``task`` copied as they are, plus the picked functions."""
    here = Path(__file__).parent
    modules = MODULES[task]
    files = {f"{RUNTIME}/__init__.py": f'"""segwb {__version__} pre- and post-processing, copied by segwb deploy; '
                                       f'do not edit: rebuild the package."""\n'.encode()}
    for module in modules:
        path = here / f"{module}.py"
        source = path.read_text(encoding="utf-8")
        check_imports(source, path, set(modules))
        files[f"{RUNTIME}/{module}.py"] = source.encode()
    picked = []
    for function in PICKED:
        lines, start = inspect.getsourcelines(function)
        check_imports("".join(lines), Path(inspect.getfile(function)), set(modules), start)
        picked.append("".join(lines))
    origin = ", ".join(f"{f.__module__}.{f.__name__}" for f in PICKED)
    header = f'"""Picked from segwb {__version__} by segwb deploy: {origin}."""\n\n{PICKED_HEADER}\n\n'
    files[f"{RUNTIME}/picked.py"] = (header + "\n\n".join(picked)).encode()
    return files


def check_imports(source: str, path: Path, modules: set[str], first_lineno: int = 1) -> None:
    """Refuse runtime code (``source``, starting at line ``first_lineno`` of ``path``) that imports what the
    package will not have; imports inside functions count too."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level:
            names = [node.module] if node.module else [alias.name for alias in node.names]
            outside = [n for n in names if n not in modules]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            tops = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            outside = [n for n in tops if n.split(".")[0] not in THIRD_PARTY | sys.stdlib_module_names]
        else:
            continue
        if outside:
            has = ", ".join(sorted(modules | THIRD_PARTY))
            raise SegwbError(f"line {node.lineno + first_lineno - 1} imports {', '.join(outside)}, which the "
                             f"deployment package's runtime does not have (it has the standard library and {has})",
                             path)


def requirements(task: str) -> str:
    """``requirements.txt`` pinned to the distributions installed here (the ones segwb's results came from)."""
    opencv = next((d for d in OPENCV_DISTRIBUTIONS if _installed(d)), None)
    if opencv is None:
        raise SegwbError(f"no OpenCV distribution is installed (looked for {', '.join(OPENCV_DISTRIBUTIONS)})")
    names = ["openvino", "numpy", opencv, "PyYAML"] + (["pycocotools"] if task == "instance" else [])
    return "".join(f"{name}=={importlib.metadata.version(name)}\n" for name in names)


def _installed(distribution: str) -> bool:
    try:
        importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def readme(settings: dict[str, Any], card: ModelCard) -> str:
    """The package's README: what it is, how to run it, what it writes."""
    instance = settings["task"] == "instance"
    precision = settings["inference_precision_hint"]
    hint = f'"{precision}"' if precision else "null, the CPU plugin's default"
    role = settings["role"]
    outputs = ("`<image stem>.json`: the image's size and its detections, highest score first, each with "
               "`class_id`, `label`, `score`, `bbox` [x, y, width, height] in original pixels and `segmentation` "
               f"(COCO RLE of the full-size mask), as in the project's `predictions/{role}.json`; detections below "
               f"score {settings.get('min_score')} are dropped, at most {settings.get('max_detections')} per image."
               if instance else
               "`<image stem>.png`: the class map at the image's original size, one class id per pixel "
               f"(8-bit, 16-bit past 256 classes), byte for byte what segwb saved in `predictions/{role}/`.")
    labels = ", ".join(f"{i} {label}" for i, label in enumerate(card.labels)) or "none given (class ids only)"
    return f"""# {settings['role']} model of the segwb project `{settings['project']}`

{settings['task'].capitalize()} segmentation with OpenVINO, adapter `{settings['adapter']}`, input
{card.input_size[0]}x{card.input_size[1]} ({card.layout}, {card.color_order}, resize `{card.resize}`).
Classes: {labels}.

## Run

```bash
python -m venv .venv && .venv/bin/pip install -r requirements.txt
.venv/bin/python infer.py IMAGE [IMAGE...] [--out DIR] [--device CPU]
```

It prints one line per image, in the order given, and writes into the `--out` folder (default `out`):
{outputs}

Images run through an asynchronous queue with two requests per stream the THROUGHPUT hint picks, so a
multi-core CPU stays busy (the speed segwb benchmarked); the next image is read while the others infer.
An unreadable image stops the run with a one-line error naming it and exit code 2, after the images
before it are written.

## What is inside

- `model/`: the IR (`model.xml`, `model.bin`, sha256 digest `{settings['model_digest'][:16]}…`) and its model card.
- `deploy.json`: task, adapter, the precision hint (`inference_precision_hint`: {hint}) and performance hint
  segwb predicted and measured with{', min_score and max_detections' if instance else ''}, and the versions used.
- `infer.py` and `segwb_runtime/`: segwb {settings['segwb_version']}'s own pre- and post-processing code,
  copied when the package was built (not maintained separately; rebuild the package after updating segwb).
- `requirements.txt`: the exact versions segwb ran with.

With these versions on a CPU like the one segwb ran on, the outputs equal segwb's predictions. Another
OpenVINO version or CPU (e.g. without bf16 or VNNI) can change a few pixels or scores; `infer.py` warns
when the OpenVINO version differs from {settings['openvino_version']}.
"""


def _add(archive: zipfile.ZipFile, arcname: str, content: bytes | Path) -> None:
    """One entry with a fixed time; files are streamed, so a large .bin is never held in memory."""
    info = zipfile.ZipInfo(arcname, ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    source = io.BytesIO(content) if isinstance(content, bytes) else open(content, "rb")
    with source, archive.open(info, "w") as entry:
        shutil.copyfileobj(source, entry, 1 << 20)
