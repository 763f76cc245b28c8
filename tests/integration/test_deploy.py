"""The deployment package: unpacked, its infer.py runs on a Python without segwb and reproduces segwb's predictions."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest
from tiny_models import write_model
from tutorial_runs import instance_tutorial, semantic_tutorial
from venvs import clean_env, venv_without_checkout

from segwb.core.errors import SegwbError
from segwb.core.project import Project
from segwb.core.storage import read_json, write_json
from segwb.ship import deploy
from segwb.tasks.model_import import import_model

@pytest.fixture(scope="module")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv that sees this venv's packages except segwb."""
    return venv_without_checkout(tmp_path_factory.mktemp("bare"))


def _unpack(zip_path: Path, dest: Path) -> Path:
    """Extract the package; return its single top folder."""
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(dest)
    (folder,) = dest.iterdir()
    return folder


def _infer(python: Path, folder: Path, *args: str) -> subprocess.CompletedProcess:
    """``python infer.py ARGS`` in the unpacked folder, as a user would run it."""
    return subprocess.run([str(python), "infer.py", *args], cwd=folder, env=clean_env(), capture_output=True, text=True,
                          timeout=120)


def test_semantic_package_reproduces_predictions(tmp_path: Path, photo_folder: Path, bare_python: Path) -> None:
    """Parent and INT8 packages: the PNGs infer.py writes are byte for byte the project's predictions."""
    project = tmp_path / "project"
    report = semantic_tutorial(write_model(tmp_path / "model", "scores"), photo_folder, project)
    images = {"a": photo_folder / "a.jpg", "c": photo_folder / "sub" / "c.jpg"}
    for role in ("parent", "optimized"):
        zip_path = deploy.build_package(project, tmp_path / f"{role}.zip", role=role)
        folder = _unpack(zip_path, tmp_path / f"unpacked-{role}")
        settings = read_json(folder / "deploy.json")
        hint = report["comparison"][f"{role}_precision"]
        assert settings["inference_precision_hint"] == (None if hint == "default" else hint)
        assert settings["model_digest"] == report[role]["digest"] and settings["adapter"] == "scores"
        copied = [p.relative_to(folder / "segwb_runtime").as_posix() for p in (folder / "segwb_runtime").rglob("*.py")
                  if p.name != "__init__.py"]
        assert "tasks/semantic/runtime.py" in copied and "tasks/instance/runtime.py" not in copied
        for module in copied:  # copies, not a second implementation
            assert (folder / "segwb_runtime" / module).read_bytes() == (deploy.SEGWB / module).read_bytes()
        pins = (folder / "requirements.txt").read_text().split()
        assert [p.split("==")[0] for p in pins][:2] == ["openvino", "numpy"] and all("==" in p for p in pins)
        assert not any(p.startswith("pycocotools") for p in pins)
        run = _infer(bare_python, folder, *map(str, images.values()), "--out", "masks")
        assert run.returncode == 0, run.stderr
        assert len(run.stdout.splitlines()) == 2 and "background" in run.stdout
        saved = {"a": project / "predictions" / role / "a.png", "c": project / "predictions" / role / "sub__c.png"}
        for stem, png in saved.items():
            assert (folder / "masks" / f"{stem}.png").read_bytes() == png.read_bytes(), (role, stem)
    default = deploy.build_package(project)
    assert default == project / "deploy" / "project-optimized-deploy.zip"
    assert "project-optimized-deploy/infer.py" in zipfile.ZipFile(default).namelist()
    assert not list((project / "deploy").glob(".*.tmp"))
    bad = tmp_path / "bad.jpg"
    bad.write_text("not a picture")
    run = _infer(bare_python, folder, str(images["a"]), str(bad), str(images["c"]))
    assert run.returncode == 2 and run.stderr.strip() == f"infer.py: error: {bad}: not a readable image"
    assert [line.split(": ")[0] for line in run.stdout.splitlines()] == [str(images["a"])]  # finished before the error
    # Many images in flight at once (one request per stream): outputs as one at a time, summaries in input order.
    copies = []
    for i in range(9):
        copies.append(tmp_path / "many" / f"{i}-{'ac'[i % 2]}.jpg")
        copies[-1].parent.mkdir(exist_ok=True)
        copies[-1].write_bytes(images["ac"[i % 2]].read_bytes())
    run = _infer(bare_python, folder, *map(str, copies), "--out", "many")
    assert run.returncode == 0, run.stderr
    assert [line.split(": ")[0] for line in run.stdout.splitlines()] == [str(c) for c in copies]
    for copy in copies:
        assert (folder / "many" / f"{copy.stem}.png").read_bytes() == (folder / "masks" / f"{copy.stem[-1]}.png").read_bytes()


def test_instance_package_reproduces_predictions(tmp_path: Path, tiny_yolo: Path, coco_root: Path,
                                                 bare_python: Path) -> None:
    """infer.py's detections (class, score, box, mask RLE) are exactly the INT8 model's saved COCO results."""
    project = tmp_path / "project"
    report = instance_tutorial(tiny_yolo, coco_root / "images", project)
    folder = _unpack(deploy.build_package(project), tmp_path / "unpacked")
    settings = read_json(folder / "deploy.json")
    assert (settings["task"], settings["adapter"]) == ("instance", "yolo_e2e")
    assert (settings["min_score"], settings["max_detections"]) == (0.1, 100)
    assert "pycocotools==" in (folder / "requirements.txt").read_text()
    names = ["a.jpg", "c.jpg"]
    run = _infer(bare_python, folder, *(str(coco_root / "images" / n) for n in names))
    assert run.returncode == 0, run.stderr
    assert len(run.stdout.splitlines()) == 2
    ids = {i["name"]: i["image_id"] for i in read_json(project / "predictions" / "images.json")}
    saved = read_json(project / "predictions" / "optimized.json")
    labels = report["parent"]["card"]["labels"]
    for name in names:
        expected = [{"class_id": r["class_id"], "label": labels[r["class_id"]], "score": r["score"], "bbox": r["bbox"],
                     "segmentation": r["segmentation"]} for r in saved if r["image_id"] == ids[name]]
        written = read_json(folder / "out" / f"{Path(name).stem}.json")
        assert expected and written == {"height": 48, "width": 64, "detections": expected}


def test_project_without_report_or_model(tmp_path: Path) -> None:
    """No folder, no report, no model, a model changed since the report, a bad role: one-line errors naming the file."""
    with pytest.raises(SegwbError, match="no such project folder"):
        deploy.build_package(tmp_path / "missing")
    project = Project(tmp_path / "project")
    with pytest.raises(SegwbError, match="no report.json") as info:
        deploy.build_package(project.root)
    assert str(project.report_json) in str(info.value)
    write_json(project.report_json, {"task": "semantic", "optimized": {"digest": "0" * 64},
                                     "comparison": {"optimized_precision": "default"}})
    with pytest.raises(SegwbError, match="the optimized model is missing") as info:
        deploy.build_package(project.root)
    assert str(project.optimized_xml) in str(info.value)
    import_model(write_model(tmp_path / "model"), project.optimized_xml)
    with pytest.raises(SegwbError, match="changed since report.json was written"):
        deploy.build_package(project.root)
    with pytest.raises(SegwbError, match="role must be parent or optimized"):
        deploy.build_package(project.root, role="int8")
    assert not (project.root / "deploy").exists()


def test_runtime_modules_may_not_import_more(tmp_path: Path) -> None:
    """The runtime copies what its modules import, transitively; an import of segwb code by absolute name, of a module
    that is not there, or of a new dependency is refused by name and line."""
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "a.py").write_text("import json\nfrom .sub import b\nimport numpy as np\n")
    (tmp_path / "pkg" / "sub" / "b.py").write_text("from ..c import x\n")
    (tmp_path / "pkg" / "c.py").write_text("x = 1\n")
    assert deploy.runtime_closure(["pkg/a.py"], tmp_path) == ["pkg/a.py", "pkg/c.py", "pkg/sub/b.py"]
    for source, culprit in (("def f():\n    import matplotlib\n", "matplotlib"), ("from segwb import zoo\n", "segwb"),
                            ("from .missing import y\n", "missing"), ("from . import nothing\n", "nothing")):
        (tmp_path / "pkg" / "bad.py").write_text(source)
        with pytest.raises(SegwbError, match=f"line \\d+ imports .*{culprit}.*, which the deployment package"):
            deploy.runtime_closure(["pkg/bad.py"], tmp_path)


@pytest.mark.parametrize("task", ["semantic", "instance"])
def test_each_runtime_is_what_infer_py_and_the_task_need(task: str) -> None:
    """Every task's runtime closes over infer.py's imports and its own module, without the dataset code (Pillow)."""
    from segwb.tasks import get as get_task

    modules = deploy.runtime_closure([*deploy.template_imports(), get_task(task).runtime_module])
    assert get_task(task).runtime_module in modules and "io/model_card.py" in modules
    assert not [m for m in modules if m.startswith(("io/datasets", "tutorial/", "report/", "optimize/"))]
