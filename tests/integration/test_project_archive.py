"""Project export and import (segwb.ship.archive_*): round trips on real tiny runs, description.txt, and archives
that must be refused before anything is written."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import shutil
import tarfile
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import openvino as ov
import pytest
from tiny_models import write_model, yolo_e2e_model

from segwb.core.errors import SegwbError
from segwb.core.project import Project
from segwb.core.storage import file_digest, read_json, write_json
from segwb.io.datasets import open_dataset
from segwb.io.model_file import ir_digest, save_ir
from segwb.measure import explorer
from segwb.ship.archive_export import dataset_entries, export_project
from segwb.ship.archive_format import MANIFEST, NOT_INCLUDED
from segwb.ship.archive_import import import_project
from segwb.tasks import get as get_task
from segwb.tutorial.options import TutorialOptions
from segwb.tutorial.run import run as run_tutorial

PATH_KEYS = ("parent", "optimized")


@dataclasses.dataclass(frozen=True)
class Run:
    """A finished tutorial run: its options (project folder, model, dataset) and report."""

    options: TutorialOptions
    report: dict

    @property
    def root(self) -> Path:
        return Path(self.options.out)


def _photos(folder: Path) -> Path:
    """Three small photos, one in a subfolder (its key and dataset path have a folder part)."""
    (folder / "sub").mkdir(parents=True)
    for i, name in enumerate(["a.jpg", "b.png", "sub/c.jpg"]):
        image = np.full((40 + 8 * i, 56, 3), 50 * i, np.uint8)
        cv2.circle(image, (28, 20), 9 + i, (40, 200, 90), -1)
        cv2.imwrite(str(folder / name), image)
    return folder


@pytest.fixture(scope="module")
def semantic_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """The semantic tutorial on the tiny model and three photos, run once for the module."""
    base = tmp_path_factory.mktemp("semantic")
    options = TutorialOptions(out=base / "project", model=str(write_model(base / "model")),
                              dataset=str(_photos(base / "photos")), bench_seconds=0.2)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEGWB_CACHE", str(base / "cache"))
        yield Run(options, read_json(run_tutorial(options)))


def _moved(run: Run, tmp: Path) -> Run:
    """The run's project and photos copied under ``tmp`` and run again there: every step is cached, and the
    report now names the copies, which a test may delete (as on a machine that never had them)."""
    project, photos = tmp / "origin" / "project", tmp / "origin" / "photos"
    shutil.copytree(run.root, project)
    shutil.copytree(run.options.dataset, photos)
    options = dataclasses.replace(run.options, out=project, dataset=str(photos))
    report = read_json(run_tutorial(options))
    assert all(report["steps_cached"].values())
    return Run(options, report)


def _snapshot(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): file_digest(p) for p in sorted(root.rglob("*")) if p.is_file()}


def test_round_trip_with_dataset_on_a_fresh_machine(semantic_run: Run, tmp_path: Path) -> None:
    """Export with the dataset, delete the original project and photos, import elsewhere: the same files, none
    rewritten (paths inside a project are relative to it) but report.json's dataset path (now the copy) and the
    page made from it, the photos found in the project's dataset copy, the dashboard shows the results, and a re-run
    reuses every step."""
    run = _moved(semantic_run, tmp_path)
    archive = export_project(run.root, include_dataset=True)
    assert archive == run.root / "export" / "project.tar.gz"
    assert [p.name for p in archive.parent.iterdir()] == ["project.tar.gz"]  # written atomically, no leftovers
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert all(n.startswith("project/") for n in names)
    assert {"project/description.txt", "project/archive.json", "project/report.json", "project/models/parent/model.bin",
            "project/models/optimized/model.xml", "project/steps/compare.json", "project/predictions/parent/sub__c.png",
            "project/overlays/a.jpg", "project/dataset/a.jpg", "project/dataset/sub/c.jpg"} <= set(names)
    assert not any("/export/" in n for n in names)
    archive = Path(shutil.move(archive, tmp_path / archive.name))  # carried to another machine …
    before = _snapshot(run.root)
    digest = open_dataset(run.options.dataset).digest
    shutil.rmtree(run.root)  # … which never had the project or the photos
    shutil.rmtree(run.options.dataset)

    dest = tmp_path / "elsewhere" / "imported"
    assert import_project(archive, dest) == dest
    assert [p.name for p in dest.parent.iterdir()] == ["imported"]  # the staging folder is gone
    after = _snapshot(dest)
    rewritten = ("report.json", "report.html")  # dataset.path: the copy, not a folder of the exporting machine
    assert {k: v for k, v in after.items() if not k.startswith("dataset/")
            and k not in ("archive.json", "description.txt", *rewritten)} \
        == {k: v for k, v in before.items() if not k.startswith(("export/", ".")) and k not in rewritten}  # nothing else
    report = read_json(dest / "report.json")
    for role in PATH_KEYS:
        assert report[role]["path"] == f"models/{role}/model.xml"
    assert report["dataset"]["path"] == "dataset"
    assert report == {**run.report, "dataset": {**run.report["dataset"], "path": "dataset"}}
    assert open_dataset(dest / "dataset").digest == digest  # the copy is the dataset the report used

    viewer = get_task("semantic").viewer(Project(dest), report)
    assert sorted(viewer.names) == ["a.jpg", "b.png", "sub/c.jpg"]
    panels = viewer.panels("sub/c.jpg", viewer.initially_hidden(), 0.5, 0.8, 320)
    assert panels.photo_found and panels.parent.shape[0] == 320

    from widgets.dashboard import Dashboard

    app = Dashboard(tmp_path / "dashboard")
    app.open_project(dest)
    assert app.table.visible_rows() and app.viewer.image.value == report["comparison"]["basic"][0]["image"]
    assert app.viewer.error.value == "" and app.viewer.parent_image.value
    assert app.performance.performance["speedup"] == report["performance"]["speedup"]

    photos = Path(shutil.copytree(dest / "dataset", tmp_path / "photos-again"))  # a run's dataset is outside its project
    again = read_json(run_tutorial(dataclasses.replace(run.options, out=dest, dataset=str(photos))))
    assert all(again["steps_cached"].values())

    second = import_project(export_project(dest, tmp_path / "again.tar.gz", include_dataset=True), tmp_path / "third")
    assert read_json(second / "report.json")["dataset"] == {**again["dataset"], "path": "dataset"}
    assert open_dataset(second / "dataset").digest == digest
    listed = [e["path"] for e in read_json(second / MANIFEST)["files"]]
    assert listed.count("description.txt") == 1 and MANIFEST not in listed  # regenerated, never carried over


def _lines(archive: Path) -> list[str]:
    with tarfile.open(archive) as tar:
        member = tar.extractfile(f"{tar.getnames()[0].split('/')[0]}/description.txt")
        assert member is not None
        return member.read().decode().splitlines()


def test_description_from_the_benchmark_then_from_the_explorer(semantic_run: Run, tmp_path: Path) -> None:
    """Without explorer results: the tutorial's benchmark (batch 1, streams of the THROUGHPUT hint); with a
    faster explorer cell: that cell's throughput, latency, batch and streams. Dataset left out: the imported report
    says so instead of naming a folder of the exporting machine."""
    run = _moved(semantic_run, tmp_path)
    perf = run.report["performance"]
    best, parent = perf["optimized"], perf["parent"]
    lines = _lines(export_project(run.root))
    assert lines[0] == "segwb project: project" and lines[1] == "Task: semantic segmentation"
    assert f"Dataset: {run.options.dataset} (images, 3 images, not annotated); not included in this archive" in lines
    latency, parent_latency = best["latency_ms"]["median"], parent["latency_ms"]["median"]
    assert f"Best throughput: {best['fps']:.2f} FPS at a median latency of {latency:.3f} ms" in lines
    assert (f"  batch 1, streams {best['properties']['NUM_STREAMS']}, {best['inference_precision']} inference "
            "precision, optimized model, measured by the tutorial's benchmark (THROUGHPUT hint)") in lines
    assert (f"Parent model (f32): {parent['fps']:.2f} FPS at a median latency of {parent_latency:.3f} ms; "
            f"best throughput / parent: {perf['speedup']:.2f}x on CPU ({perf['device_name']})") in lines
    opt = run.report["optimized"]
    assert f"Optimization: Default (NNCF post-training quantization), performance preset, {opt['subset_size']} calibration images" in lines
    comp = run.report["comparison"]
    at = lines.index("Accuracy (parent as reference):")
    assert lines[at + 1:at + 3] == [f"  Mean Optimized Model Average Result: {comp['mean_average_result']:.4f}",
                                    f"  Mean pixel agreement: {100 * comp['mean_pixel_agreement']:.2f} %"]
    versions = next(line for line in lines if line.startswith("Tool versions: "))
    assert f"segwb 0.1.0, OpenVINO {ov.__version__}, NNCF " in versions and ", Python 3." in versions

    xml = run.root / "models" / "optimized" / "model.xml"
    cell = {"model": str(xml), "digest": ir_digest(xml), "streams": 3, "batch": 4, "streams_used": 3,
            "precision_requested": None, "config": {"NUM_STREAMS": "3"}, "seconds_requested": 1.0,
            "throughput": 1e6, "latency_ms": {"median": 2.5, "average": 2.6, "min": 2.0, "max": 3.0},
            "properties": {"INFERENCE_PRECISION_HINT": "bf16", "NUM_STREAMS": "3"}, "openvino_version": ov.__version__}
    write_json(explorer.cache_file(run.root / "explorer", cell["digest"], explorer.Cell(3, 4), None), cell)
    archive = export_project(run.root)
    lines = _lines(archive)
    assert "Best throughput: 1000000.00 FPS at a median latency of 2.500 ms" in lines
    assert ("  batch 4, streams 3, bf16 inference precision, optimized model, measured by the inference-configuration "
            "explorer (1 configurations)") in lines

    dest = import_project(archive, tmp_path / "imported")
    report = read_json(dest / "report.json")
    assert report["dataset"]["path"] == NOT_INCLUDED  # not carried: no folder named, the description still says it
    assert f"Dataset: {run.options.dataset} (images, 3 images, not annotated); not included in this archive" in \
        (dest / "description.txt").read_text().splitlines()
    assert report["optimized"]["path"] == "models/optimized/model.xml"
    [record] = explorer.load_results(dest / "models" / "optimized" / "model.xml", dest / "explorer")
    assert record["digest"] == cell["digest"] and record["throughput"] == 1e6


def test_instance_round_trip_finds_the_photos_in_the_copy(tmp_path: Path) -> None:
    """Instance projects record each image's place in the dataset (predictions/images.json): the imported project's
    viewer draws the photos from its dataset copy."""
    coco = tmp_path / "coco"
    (coco / "images").mkdir(parents=True)
    (coco / "annotations").mkdir()
    images = []
    for image_id, name in ((7, "a.jpg"), (9, "b.jpg")):
        photo = np.zeros((48, 64, 3), np.uint8)
        cv2.circle(photo, (32, 24), 10, (255, 255, 255), -1)
        cv2.imwrite(str(coco / "images" / name), photo)
        images.append({"id": image_id, "file_name": name, "width": 64, "height": 48})
    annotations = [{"id": i + 1, "image_id": img["id"], "category_id": 1, "iscrowd": 0, "area": 400.0,
                    "bbox": [22, 14, 20, 20], "segmentation": [[22, 14, 42, 14, 42, 34, 22, 34]]}
                   for i, img in enumerate(images)]
    (coco / "annotations" / "instances_val.json").write_text(json.dumps(
        {"images": images, "annotations": annotations, "categories": [{"id": 1, "name": "person"}]}))
    xml = tmp_path / "model" / "tiny_yolo.xml"
    save_ir(yolo_e2e_model(np.float32([[8, 8, 24, 24, 0.9, 0, 1, 0]])), xml)
    (xml.parent / "labels.txt").write_text("person\ncat\n")
    options = TutorialOptions(out=tmp_path / "project", task="instance", model=str(xml), dataset=str(coco),
                              bench_seconds=0.2)
    run_tutorial(options)
    digest = open_dataset(coco).digest

    archive = Path(shutil.move(export_project(options.out, include_dataset=True), tmp_path / "instance.tar.gz"))
    shutil.rmtree(coco)
    dest = import_project(archive, tmp_path / "imported")
    report = read_json(dest / "report.json")
    table = read_json(dest / "predictions" / "images.json")
    assert [i["file"] for i in table] == ["images/a.jpg", "images/b.jpg"]  # relative to the dataset folder
    assert open_dataset(dest / "dataset").digest == digest
    viewer = get_task("instance").viewer(Project(dest), report)
    panels = viewer.panels("a.jpg", set(), 0.3, 0.8, 320)
    assert panels.photo_found and panels.parent.shape[0] == 320


def test_voc_copy_lists_exactly_the_images_used(tmp_path: Path) -> None:
    """A VOC copy holds the used images and masks and a list of their ids, so it opens as the same dataset;
    a dataset that changed since the report is refused."""
    voc = tmp_path / "voc"
    for folder in ("JPEGImages", "SegmentationClass", "ImageSets/Segmentation"):
        (voc / folder).mkdir(parents=True)
    for stem in ("x1", "x2", "x3"):
        cv2.imwrite(str(voc / "JPEGImages" / f"{stem}.jpg"), np.full((20, 30, 3), 90, np.uint8))
        cv2.imwrite(str(voc / "SegmentationClass" / f"{stem}.png"), np.zeros((20, 30), np.uint8))
    (voc / "ImageSets" / "Segmentation" / "train.txt").write_text("x1\nx2\nx3\n")
    (voc / "ImageSets" / "Segmentation" / "val.txt").write_text("x3\nx1\n")
    report = {"dataset": {"path": str(voc), "layout": "voc"}}
    entries = dataset_entries(tmp_path / "project", report)
    copy = tmp_path / "copy"
    for name, source in entries:
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_bytes(source if isinstance(source, bytes) else source.read_bytes())
    assert sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*.*")) == [
        "dataset/ImageSets/Segmentation/val.txt", "dataset/JPEGImages/x1.jpg", "dataset/JPEGImages/x3.jpg",
        "dataset/SegmentationClass/x1.png", "dataset/SegmentationClass/x3.png"]
    assert open_dataset(copy / "dataset").digest == open_dataset(voc).digest

    write_json(tmp_path / "project" / "steps" / "predict-parent.json", {"inputs": {"dataset": "0" * 64}})
    with pytest.raises(SegwbError, match="not the ones the report was made from"):
        dataset_entries(tmp_path / "project", report)


# --- archives that must be refused ----------------------------------------------------------------

def _member(name: str, data: bytes = b"x", kind: bytes = tarfile.REGTYPE,
            link: str = "") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, link, len(data) if kind == tarfile.REGTYPE else 0
    return info, data


def _write_tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes]]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return path


@pytest.fixture(scope="module")
def good_archive(semantic_run: Run) -> Path:
    return export_project(semantic_run.root, semantic_run.root.parent / "good.tar.gz")


def _rebuilt(good: Path, out: Path, change) -> Path:
    """``good`` with ``change(name, data)`` applied to every member (returning None drops it)."""
    members = []
    with tarfile.open(good) as tar:
        for info in tar.getmembers():
            data = tar.extractfile(info).read()  # type: ignore[union-attr]
            changed = change(info.name, data)
            if changed is not None:
                info.size = len(changed)
                members.append((info, changed))
    return _write_tar(out, members)


def _flip_last_byte(name: str, data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 1]) if name.endswith("report.html") else data


HEADER_CASES = {
    "absolute": ([_member("/tmp/evil.txt")], "member '/tmp/evil.txt' has an absolute path"),
    "dotdot": ([_member("p/../../evil.txt")], "member 'p/../../evil.txt' has a '..' component"),
    "leading dotdot": ([_member("../evil.txt")], "member '../evil.txt' has a '..' component"),
    "symlink": ([_member("p/report.json", kind=tarfile.SYMTYPE, link="/etc/passwd")],
                "member 'p/report.json' is a symbolic link to '/etc/passwd'"),
    "hardlink": ([_member("p/a", b"1"), _member("p/b", kind=tarfile.LNKTYPE, link="p/a")],
                 "member 'p/b' is a hard link to 'p/a'"),
    "device": ([_member("p/dev", kind=tarfile.CHRTYPE)], "member 'p/dev' is a device"),
    "fifo": ([_member("p/pipe", kind=tarfile.FIFOTYPE)], "member 'p/pipe' is a FIFO"),
    "two projects": ([_member("p/a"), _member("q/b")], "member 'q/b' is outside the top folder 'p'"),
    "duplicate": ([_member("p/a"), _member("p/a")], "member 'p/a' appears twice"),
    "no manifest": ([_member("p/report.json", b"{}")], "no p/archive.json: not a segwb project archive"),
}


@pytest.mark.parametrize("case", list(HEADER_CASES))
def test_unsafe_members_are_refused_before_extraction(case: str, tmp_path: Path) -> None:
    members, message = HEADER_CASES[case]
    archive = _write_tar(tmp_path / "bad.tar.gz", members)
    dest = tmp_path / "out" / "project"
    with pytest.raises(SegwbError, match="^" + re.escape(f"{archive}: ")) as caught:
        import_project(archive, dest)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == ["bad.tar.gz", "out"]


def test_limits_checksums_and_manifest(good_archive: Path, tmp_path: Path) -> None:
    """Size and count limits, a member altered after export, one the manifest does not list, and one it
    lists that is missing: each a one-line error naming the archive and the member; nothing left behind."""
    dest = tmp_path / "out" / "project"
    cases = [
        (good_archive, {"max_member_bytes": 300},
         r"member 'project/description\.txt' is \d+ bytes, over the limit of 300"),
        (good_archive, {"max_total_bytes": 1000},
         r"members up to 'project/\S+' hold \d+ bytes, over the limit of 1000"),
        (good_archive, {"max_members": 3}, "more than 3 members"),
        (_rebuilt(good_archive, tmp_path / "altered.tar.gz", _flip_last_byte), {},
         r"member 'project/report\.html' does not match its sha256 in archive\.json"),
        (_rebuilt(good_archive, tmp_path / "dropped.tar.gz", lambda n, d: None if n.endswith("overlays/a.jpg") else d), {},
         r"'project/overlays/a\.jpg', listed in archive\.json, is missing from the archive"),
    ]
    with tarfile.open(good_archive) as tar:
        members = [(i, tar.extractfile(i).read()) for i in tar.getmembers()]  # type: ignore[union-attr]
    extra = _write_tar(tmp_path / "extra.tar.gz", [*members, _member("project/extra.txt")])
    cases.append((extra, {}, r"member 'project/extra\.txt' is not listed in archive\.json"))
    for archive, limits, message in cases:
        with pytest.raises(SegwbError) as caught:
            import_project(archive, dest, **limits)
        assert str(caught.value).startswith(f"{archive}: ") and re.search(message, str(caught.value)), str(caught.value)
        assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_destination_must_be_new_or_empty_and_archive_readable(good_archive: Path, tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    with pytest.raises(SegwbError, match="taken: already exists and is not empty"):
        import_project(good_archive, taken)
    assert [p.name for p in taken.iterdir()] == ["notes.txt"] and [p.name for p in tmp_path.iterdir()] == ["taken"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert (import_project(good_archive, empty) / "report.json").is_file()
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not an archive at all")
    with pytest.raises(SegwbError, match="junk.tar.gz: not a readable .tar.gz archive"):
        import_project(junk, tmp_path / "new")
    assert not (tmp_path / "new").exists()
