"""The deployment package: a zip that runs a project's model without segwb.

It holds the IR and its model card, ``deploy.json`` (the settings segwb predicted with), ``infer.py``, the
``segwb_runtime`` package, ``requirements.txt`` pinned to the versions installed here, and a README.
``segwb_runtime`` is segwb's own pre- and post-processing: the task's runtime module and every module it and
``infer.py`` import, copied at packaging time with their place in segwb, so the package and segwb cannot drift
apart; a module that starts importing more than the runtime has is refused.
"""

from __future__ import annotations

import ast
import importlib.metadata
import io
import json
import shutil
import sys
import zipfile
from pathlib import Path
from typing import Any

import openvino as ov

from .. import __version__
from ..core.compile import DEFAULT_DEVICE
from ..core.errors import ModelError, SegwbError
from ..core.paths import is_within
from ..core.project import Project
from ..core.storage import atomic_path, read_json
from ..io.model_card import ModelCard, card_file
from ..io.model_file import ir_digest
from ..tasks import get as get_task
from ..tasks import load_card
from ..tasks.base import Task

RUNTIME = "segwb_runtime"
ROLES = ("parent", "optimized")
SEGWB = Path(__file__).resolve().parents[1]  # the installed segwb package
TEMPLATE = Path(__file__).with_name("infer_template.py")
# What the runtime modules may import besides each other and the standard library.
THIRD_PARTY = {"numpy", "cv2", "openvino", "yaml", "pycocotools", "PIL"}  # PIL: image sizes from the header
OPENCV_DISTRIBUTIONS = ("opencv-python-headless", "opencv-python", "opencv-contrib-python-headless",
                        "opencv-contrib-python")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed entry times: the same project gives the same zip
BASE_SETTINGS = ("task", "adapter", "role", "project", "model_digest", "runtime", "inference_precision_hint",
                 "performance_hint", "device", "device_name", "segwb_version",
                 "openvino_version")  # deploy.json's keys for every task


def build_package(project_root: Path, out_zip: Path | None = None, role: str = "optimized") -> Path:
    """Write the deployment zip of ``role``'s model (atomically) and return its path.

    The default path is ``<project>/deploy/<project name>-<role>-deploy.zip``; everything in the zip sits
    in one folder named like the zip. Raises :class:`SegwbError` when the project has no report or model,
    or when the model changed since the report was written (its predictions would not be the package's).
    """
    settings, xml, card = deploy_settings(Path(project_root), role)
    task = get_task(settings["task"])
    name = f"{Path(project_root).resolve().name}-{role}-deploy"
    out_zip = destination(Path(project_root), Path(out_zip) if out_zip else None, name)
    folder = out_zip.name.removesuffix(".zip")
    files: dict[str, bytes | Path] = {
        "model/model.xml": xml, "model/model.bin": xml.with_suffix(".bin"), "model/model-card.yml": card_file(xml),
        "deploy.json": (json.dumps(settings, indent=2) + "\n").encode(),
        "infer.py": TEMPLATE,
        "requirements.txt": requirements(task).encode(),
        "README.md": readme(settings, card, task).encode(),
        **runtime_files(task),
    }
    try:
        with atomic_path(out_zip) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            for arcname, content in files.items():
                _add(archive, f"{folder}/{arcname}", content)
    except OSError as exc:
        raise SegwbError(f"cannot write the package ({exc.strerror or exc})", out_zip) from exc
    return out_zip


def destination(root: Path, out: Path | None, name: str) -> Path:
    """Where the zip goes: the default under ``<root>/deploy/``, or ``out``: a new ``.zip`` in an existing folder, or
    an earlier package (which it replaces); inside the project only under ``deploy/``. Never a user's other file."""
    if out is None:
        return root / "deploy" / f"{name}.zip"
    if out.suffix.lower() != ".zip":
        raise SegwbError("the package is a zip: give a file name ending in .zip", out)
    if out.is_dir():
        raise SegwbError("is a folder: give the package's file name (e.g. model-deploy.zip)", out)
    if not out.parent.is_dir():
        raise SegwbError(f"cannot write the package: no such folder {out.parent}", out)
    if is_within(out, root) and not is_within(out, root / "deploy"):
        raise SegwbError("is inside the project: write the package outside it, or under its deploy/ folder", out)
    if (out.exists() or out.is_symlink()) and not _written_by_deploy(out):
        raise SegwbError("already exists and is not a deployment package: it is not replaced (name a new file)", out)
    return out


def _written_by_deploy(path: Path) -> bool:
    """Whether ``path`` is a package :func:`build_package` wrote: a zip of one folder with its ``deploy.json``."""
    if path.is_symlink():
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False
    tops = {n.split("/")[0] for n in names}
    return len(tops) == 1 and f"{next(iter(tops))}/deploy.json" in names


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
        task, comparison, expected = get_task(report["task"]), report["comparison"], report[role]["digest"]
        precision = comparison[f"{role}_precision"]
        task_settings = task.runtime_settings(comparison)
    except (KeyError, TypeError) as exc:
        raise SegwbError(f"report.json has no {exc} entry: re-run the tutorial with this segwb version",
                         project.report_json) from exc
    xml = project.model_xml(role)
    for needed in (xml, xml.with_suffix(".bin"), card_file(xml)):
        if not needed.is_file():
            raise ModelError(f"the {role} model is missing: re-run the tutorial on this project", needed)
    digest = ir_digest(xml)
    if digest != expected:
        raise ModelError(f"the {role} model changed since report.json was written: re-run the tutorial so that "
                         "its predictions and the package agree", xml)
    card = load_card(card_file(xml))
    performance = report.get("performance") or {}  # reports have one; a report.json edited by hand may not
    settings = {
        "task": task.name, "adapter": card.adapter, "role": role, "project": root.resolve().name, "model_digest": digest,
        "runtime": _module_name(task.runtime_module),
        # The same hints segwb predicted with (core.compile.compile_model): null = the device's default precision.
        "inference_precision_hint": None if precision == "default" else precision,
        "performance_hint": "THROUGHPUT",
        # infer.py's default --device: where segwb measured and predicted with the model
        "device": str(performance.get("device", DEFAULT_DEVICE)),
        "device_name": str(performance.get("device_name", "")),
        "segwb_version": __version__, "openvino_version": ov.__version__,
        **task_settings,
    }
    return settings, xml, card


def _module_name(path: str) -> str:
    """``tasks/semantic/runtime.py`` as the runtime package's module ``segwb_runtime.tasks.semantic.runtime``."""
    return ".".join([RUNTIME, *Path(path).with_suffix("").parts])


def runtime_files(task: Task) -> dict[str, bytes]:
    """``segwb_runtime/``: the task's runtime module and everything it and ``infer.py`` import from segwb, at their
    places in segwb, with an empty ``__init__.py`` per folder (segwb's own would import the whole of segwb)."""
    modules = runtime_closure([*template_imports(), task.runtime_module])
    files = {f"{RUNTIME}/__init__.py": f'"""segwb {__version__} pre- and post-processing, copied by segwb deploy; '
                                       f'do not edit: rebuild the package."""\n'.encode()}
    for module in modules:
        for parent in Path(module).parents:
            if parent != Path("."):
                files.setdefault(f"{RUNTIME}/{parent.as_posix()}/__init__.py", b"")
        files[f"{RUNTIME}/{module}"] = (SEGWB / module).read_bytes()
    return files


def template_imports() -> list[str]:
    """The segwb modules ``infer.py`` imports (``from segwb_runtime.x.y import ...``), as paths under segwb/."""
    found = []
    for node in ast.walk(ast.parse(TEMPLATE.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(f"{RUNTIME}."):
            found.append("/".join(node.module.split(".")[1:]) + ".py")
    return found


def runtime_closure(roots: list[str], package: Path = SEGWB) -> list[str]:
    """``roots`` and every module of ``package`` they import, transitively (paths under it, sorted); any import the
    deployment package will not have is refused with the line that makes it."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        todo += module_imports(module, package)
    return sorted(seen)


def module_imports(module: str, package_root: Path = SEGWB) -> list[str]:
    """The modules of ``package_root`` that ``module`` (a path under it) imports, relatively; imports inside
    functions count. Absolute imports must be of the standard library or :data:`THIRD_PARTY`."""
    path = package_root / module
    package = Path(module).parent.parts
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - (node.level - 1)] if node.level > 1 else package
            target = [*base, *(node.module.split(".") if node.module else [])]
            as_module = "/".join(target) + ".py"
            as_package = "/".join(target) + "/__init__.py"  # a sub-package (tasks/instance/adapters)
            if (package_root / as_module).is_file() or (node.module and (package_root / as_package).is_file()):
                found.append(as_module if (package_root / as_module).is_file() else as_package)
                continue
            # "from . import x": x must be a module of the package (the runtime's __init__ files are empty)
            for alias in node.names:
                candidate = "/".join([*target, alias.name]) + ".py"
                if not (package_root / candidate).is_file():
                    _refuse(path, node.lineno, f"{'.' * node.level}{node.module or ''} import {alias.name}")
                found.append(candidate)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            tops = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            outside = [n for n in tops if n.split(".")[0] not in THIRD_PARTY | sys.stdlib_module_names]
            if outside:
                _refuse(path, node.lineno, ", ".join(outside))
    return found


def _refuse(path: Path, line: int, what: str) -> None:
    raise SegwbError(f"line {line} imports {what}, which the deployment package's runtime does not have (it has the "
                     f"standard library, {', '.join(sorted(THIRD_PARTY))} and segwb modules it copies)", path)


def requirements(task: Task) -> str:
    """``requirements.txt`` pinned to the distributions installed here (the ones segwb's results came from)."""
    opencv = next((d for d in OPENCV_DISTRIBUTIONS if _installed(d)), None)
    if opencv is None:
        raise SegwbError(f"no OpenCV distribution is installed (looked for {', '.join(OPENCV_DISTRIBUTIONS)})")
    names = ["openvino", "numpy", opencv, "PyYAML", "Pillow", *task.runtime_requirements]
    return "".join(f"{name}=={importlib.metadata.version(name)}\n" for name in names)


def _installed(distribution: str) -> bool:
    try:
        importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def readme(settings: dict[str, Any], card: ModelCard, task: Task) -> str:
    """The package's README: what it is, how to run it, what it writes."""
    precision = settings["inference_precision_hint"]
    hint = f'"{precision}"' if precision else "null, the device's default"
    measured = settings["device"] + (f" ({settings['device_name']})" if settings["device_name"] else "")
    outputs = task.runtime_outputs(settings)
    extra = " and ".join(k for k in settings if k not in BASE_SETTINGS)  # the task's own, e.g. the detection limits
    labels = ", ".join(f"{i} {label}" for i, label in enumerate(card.labels)) or "none given (class ids only)"
    return f"""# {settings['role']} model of the segwb project `{settings['project']}`

{task.title} with OpenVINO, adapter `{settings['adapter']}`, input
{card.input_size[0]}x{card.input_size[1]} ({card.layout}, {card.color_order}, resize `{card.resize}`).
Classes: {labels}.

## Run

```bash
python -m venv .venv && .venv/bin/pip install -r requirements.txt
.venv/bin/python infer.py IMAGE [IMAGE...] [--out DIR] [--device {settings['device']}]
```

`--device` defaults to {settings['device']}, the OpenVINO device segwb measured this model on ({measured});
any other device OpenVINO lists on your machine works too (e.g. `--device GPU`, `--device AUTO`).

It prints one line per image, in the order given, and writes into the `--out` folder (default `out`):
{outputs}

Images run through an asynchronous queue with two requests per stream the THROUGHPUT hint picks, so a
multi-core CPU stays busy (the speed segwb benchmarked); the next image is read while the others infer.
An unreadable image stops the run with a one-line error naming it and exit code 2, after the images
before it are written.

## What is inside

- `model/`: the IR (`model.xml`, `model.bin`, sha256 digest `{settings['model_digest'][:16]}…`) and its model card.
- `deploy.json`: task, adapter, the precision hint (`inference_precision_hint`: {hint}) and performance hint
  segwb predicted and measured with{f', {extra}' if extra else ''}, and the versions used.
- `infer.py` and `segwb_runtime/`: segwb {settings['segwb_version']}'s own pre- and post-processing code,
  copied when the package was built (not maintained separately; rebuild the package after updating segwb).
- `requirements.txt`: the exact versions segwb ran with.

With these versions on a device like the one segwb ran on, the outputs equal segwb's predictions. Another
OpenVINO version or device (e.g. a CPU without bf16 or VNNI) can change a few pixels or scores; `infer.py` warns
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
