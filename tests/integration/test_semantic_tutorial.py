"""The semantic tutorial end to end on the tiny models: report contract, saved predictions, caching, VOC, cancel."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from tiny_models import write_model
from tutorial_runs import predict_role
from tutorial_runs import semantic_tutorial as _tutorial

from segwb import cli
from segwb.core.compile import compile_model
from segwb.core.errors import Cancelled
from segwb.core.project import Project
from segwb.core.storage import read_json
from segwb.inference.feed import InputFeed
from segwb.io.datasets import open_dataset
from segwb.io.labels import VOC_LABELS
from segwb.tasks import get as get_task
from segwb.tasks.image_table import read as read_image_table
from segwb.tasks.base import DetectionLimits
from segwb.tutorial.options import TutorialOptions
from segwb.tutorial.run import run
from segwb.tutorial.steps import Model, step_import, step_report

LABELS = ("background", "person", "cat")
BENCH = ["--bench-seconds", "0.3"]


def _key(name: str) -> str:
    """Prediction file key of an image name: its path without suffix, folders joined by '__'."""
    return Path(name).with_suffix("").as_posix().replace("/", "__")


def _image_sizes(dataset: str | Path) -> dict[str, tuple[int, int]]:
    """Original (height, width) of every image, read with OpenCV, by image name."""
    return {s.name: cv2.imread(str(s.path), cv2.IMREAD_UNCHANGED).shape[:2] for s in open_dataset(dataset).samples}


def _hand_iou(reference: np.ndarray, prediction: np.ndarray, classes: int) -> tuple[float | None, float]:
    """Mean IoU over classes present in either map, and pixel agreement, over pixels with valid ids."""
    valid = (reference < classes) & (prediction < classes)
    ious = []
    for c in range(classes):
        ref, pred = (reference == c) & valid, (prediction == c) & valid
        union = np.count_nonzero(ref | pred)
        if union:
            ious.append(np.count_nonzero(ref & pred) / union)
    agreement = np.count_nonzero((reference == prediction) & valid) / np.count_nonzero(valid)
    return (float(np.mean(ious)) if ious else None), float(agreement)


def _check_contract(report: dict, out: Path) -> None:
    """Keys and types of report.json that the notebook and the HTML page read."""
    assert report["task"] == "semantic"
    assert report["parent"]["path"] == "models/parent/model.xml"  # inside the project: relative to it
    assert report["optimized"]["path"] == "models/optimized/model.xml"
    assert (out / report["parent"]["path"]).is_file() and (out / report["optimized"]["path"]).with_suffix(".bin").is_file()
    opt = report["optimized"]
    assert opt["preset"] == "performance"
    assert isinstance(opt["subset_size"], int) and opt["subset_size"] >= 1
    assert isinstance(opt["seconds"], float) and opt["seconds"] > 0
    perf = report["performance"]
    parent = perf["parent"]
    assert parent["fps"] > 0 and parent["latency_ms"]["median"] > 0
    assert parent["inference_precision"] == "f32" and parent["precision_requested"] == "f32"
    assert perf["optimized"]["fps"] > 0 and perf["optimized"]["latency_ms"]["median"] > 0
    assert perf["speedup"] == pytest.approx(perf["optimized"]["fps"] / parent["fps"])
    assert perf["seconds_per_run"] == 0.3
    comp = report["comparison"]
    assert comp["reference"] == "parent" and comp["num_classes"] == 3 and comp["parent_precision"] == "f32"
    assert comp["basic"] and comp["advanced"]
    for row in comp["basic"]:
        assert {"image", "average_result", "pixel_agreement"} <= set(row)
        assert isinstance(row["image"], str) and 0 <= row["average_result"] <= 1 and 0 <= row["pixel_agreement"] <= 1
        assert (out / row["overlay"]).is_file()
    for row in comp["advanced"]:
        assert set(row) == {"image", "class_id", "class_name", "result"}
        assert row["class_name"] == LABELS[row["class_id"]] and 0 <= row["result"] <= 1
    averages = [r["average_result"] for r in comp["basic"]]
    assert averages == sorted(averages)  # worst first
    assert comp["mean_average_result"] == pytest.approx(np.mean(averages))
    assert set(report["steps_cached"]) == {"import", "quantize", "benchmark", "predict_parent",
                                           "predict_optimized", "compare"}
    timing = report["report_seconds"]
    # One pass: the models infer each chunk in turn, the comparison runs beside them and ``compare`` is what is left.
    assert timing["total"] >= timing["predict_parent"] + timing["predict_optimized"] + timing["compare"]
    n = len(comp["basic"])
    assert timing["target"] == pytest.approx(1.1 * (n / perf["parent"]["fps"] + n / perf["optimized"]["fps"]) + 3)
    assert isinstance(report["optimized"]["graph_fixes"], list)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<script type="application/json" id="rows">' in html and "function render()" in html
    rows = html.split('<script type="application/json" id="rows">')[1].split("</script>")[0]
    assert len(json.loads(rows)["basic"]) == len(comp["basic"])


def _check_predictions(report: dict, out: Path, dataset: str | Path) -> None:
    """PNG class maps at each image's original size, and report rows recomputed from exactly those files."""
    sizes = _image_sizes(dataset)
    rows = {r["image"]: r for r in report["comparison"]["basic"]}
    assert set(rows) == set(sizes)
    for name, size in sizes.items():
        maps = {}
        for role in ("parent", "optimized"):
            png = out / "predictions" / role / f"{_key(name)}.png"
            maps[role] = cv2.imread(str(png), cv2.IMREAD_UNCHANGED)
            assert maps[role] is not None and maps[role].shape == size, png
            assert maps[role].dtype == np.uint8 and maps[role].max() < 3
        assert (out / "overlays" / f"{_key(name)}.jpg").is_file()
        average, agreement = _hand_iou(maps["parent"], maps["optimized"], 3)
        assert rows[name]["average_result"] == pytest.approx(average, abs=1e-12)
        assert rows[name]["pixel_agreement"] == pytest.approx(agreement, abs=1e-12)
        advanced = {r["class_id"]: r["result"] for r in report["comparison"]["advanced"] if r["image"] == name}
        present = set(np.unique(maps["parent"]).tolist()) | set(np.unique(maps["optimized"]).tolist())
        assert set(advanced) == present
    assert not list(out.rglob("*.tmp"))


@dataclass
class Run:
    xml: Path
    out: Path
    report: dict
    seconds: float


@pytest.fixture(scope="module")
def embedded_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The class_map tiny model on the embedded photos, run once for the module."""
    tmp = tmp_path_factory.mktemp("embedded")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEGWB_CACHE", str(tmp / "cache"))
        xml = write_model(tmp / "model", "class_map")
        start = time.perf_counter()
        report = _tutorial(xml, "embedded", tmp / "out")
        return Run(xml, tmp / "out", report, time.perf_counter() - start)


def test_contract_class_map_embedded(embedded_run: Run) -> None:
    """report.json of a first run: contract keys, nothing cached, no ground truth for embedded photos."""
    out, report = embedded_run.out, embedded_run.report
    _check_contract(report, out)
    assert report["dataset"]["layout"] == "embedded" and report["dataset"]["images"] == 6
    assert not any(report["steps_cached"].values())
    assert report["ground_truth"] is None
    assert report["parent"]["card"]["adapter"] == "class_map"


def test_default_precision_runs_reported(embedded_run: Run) -> None:
    """Without --no-bf16 the parent's default-precision run is there, and the INT8 runs both hints."""
    perf = embedded_run.report["performance"]
    assert perf["parent_default"]["fps"] > 0 and perf["parent_default"]["precision_requested"] is None
    assert set(perf["optimized_runs"]) == {"default", "f32"}
    best = max(perf["optimized_runs"].values(), key=lambda r: r["fps"])
    assert perf["optimized"]["fps"] == best["fps"]


def test_predictions_match_report_embedded(embedded_run: Run) -> None:
    """Saved PNGs are at original size and the per-image metrics recompute from them exactly."""
    _check_predictions(embedded_run.report, embedded_run.out, "embedded")


def test_second_run_fully_cached(embedded_run: Run) -> None:
    """Same inputs again: every step reused, prediction files untouched, and much faster."""
    out, first = embedded_run.out, embedded_run.report
    stamps = {p: p.stat().st_mtime_ns for p in (out / "predictions").rglob("*.png")}
    start = time.perf_counter()
    report = _tutorial(embedded_run.xml, "embedded", out)
    seconds = time.perf_counter() - start
    assert all(report["steps_cached"].values()), report["steps_cached"]
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    assert report["performance"] == first["performance"] and report["comparison"] == first["comparison"]
    assert seconds < embedded_run.seconds / 3, (seconds, embedded_run.seconds)


def test_scores_model_on_photo_folder(tmp_path: Path, photo_folder: Path) -> None:
    """The scores tiny model on a nested image folder: contract, original-size PNGs, recomputed metrics."""
    xml = write_model(tmp_path / "model", "scores")
    out = tmp_path / "out"
    report = _tutorial(xml, photo_folder, out)
    _check_contract(report, out)
    _check_predictions(report, out, photo_folder)
    assert report["ground_truth"] is None and report["dataset"]["layout"] == "images"
    assert report["parent"]["card"]["adapter"] == "scores"
    assert (out / "predictions" / "parent" / "sub__c.png").is_file()


def test_relative_dataset_is_recorded_absolute_and_the_table_with_the_report(
        tmp_path: Path, photo_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--dataset photos`` from the folder holding it: the report names the absolute folder (a relative one would be
    read against the project later); a cancelled re-run keeps the image table of the report that is there."""
    monkeypatch.chdir(photo_folder.parent)
    xml = write_model(tmp_path / "model", "class_map")
    report = _tutorial(xml, "photos", tmp_path / "out")
    assert report["dataset"]["path"] == str(photo_folder.resolve())
    project = Project(tmp_path / "out")
    viewer = get_task("semantic").viewer(project, report)
    assert all(viewer.panels(n, set(), 0.5, 0.8, 64).photo_found for n in viewer.names)
    before = project.images_json.read_bytes()
    (photo_folder / "e.jpg").write_bytes((photo_folder / "a.jpg").read_bytes())
    cancel = threading.Event()
    cancel.set()
    options = TutorialOptions(out=project.root, model=str(xml), dataset=str(photo_folder), bench_seconds=0.3)
    with pytest.raises(Cancelled):
        run(options, cancel=cancel)
    assert project.images_json.read_bytes() == before and len(read_image_table(project, report)) == len(report["comparison"]["basic"])


def test_no_bf16(tmp_path: Path, photo_folder: Path) -> None:
    """--no-bf16: no default-precision runs; INT8 measured and predicted at f32."""
    report = _tutorial(write_model(tmp_path / "model", "class_map"), photo_folder, tmp_path / "out", "--no-bf16")
    perf = report["performance"]
    assert perf["parent_default"] is None and set(perf["optimized_runs"]) == {"f32"}
    assert perf["optimized_precision"] == "f32" and perf["optimized"]["inference_precision"] == "f32"
    assert report["comparison"]["optimized_precision"] == "f32"
    assert read_json(tmp_path / "out" / "steps" / "predict-optimized.json")["result"]["precision"] == "f32"


# --- Pascal VOC with ground truth --------------------------------------------------------------

VOC_IDS = {name: i for i, name in enumerate(VOC_LABELS)}


def _voc(root: Path) -> Path:
    """Three images with palette masks holding background, aeroplane (unmapped), cat, person and void."""
    for sub in ("JPEGImages", "SegmentationClass", "ImageSets/Segmentation"):
        (root / sub).mkdir(parents=True)
    rng = np.random.default_rng(5)
    palette = [int(v) for v in rng.integers(0, 255, 256 * 3)]
    ids = []
    for i in range(3):
        h, w = 40 + 4 * i, 56 - 4 * i
        image = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
        cv2.circle(image, (w // 3, h // 2), 9, (20, 200, 40), -1)
        mask = np.zeros((h, w), np.uint8)
        mask[: h // 2, : w // 2] = VOC_IDS["person"]
        mask[h // 2:, w // 2:] = VOC_IDS["cat"]
        mask[: h // 4, w // 2:] = VOC_IDS["aeroplane"]
        mask[0, :] = mask[:, 0] = 255  # void border
        image_id = f"2007_00000{i}"
        cv2.imwrite(str(root / "JPEGImages" / f"{image_id}.jpg"), image)
        png = Image.fromarray(mask, mode="P")
        png.putpalette(palette)
        png.save(root / "SegmentationClass" / f"{image_id}.png")
        ids.append(image_id)
    (root / "ImageSets" / "Segmentation" / "val.txt").write_text("\n".join(ids) + "\n")
    return root


def test_voc_ground_truth(tmp_path: Path) -> None:
    """VOC masks are mapped to the model's labels by name; mean IoU recomputes from the saved PNGs."""
    voc = _voc(tmp_path / "voc")
    out = tmp_path / "out"
    report = _tutorial(write_model(tmp_path / "model", "class_map"), voc, out)
    _check_contract(report, out)
    gt = report["ground_truth"]
    assert gt["images"] == 3 and gt["void"] == "ignored"
    assert gt["unmapped_classes"] == [n for n in VOC_LABELS if n not in LABELS]
    lut = np.full(256, 255, np.int64)
    lut[: len(VOC_LABELS)] = 0  # unknown VOC classes count as the model's background
    lut[VOC_IDS["person"]], lut[VOC_IDS["cat"]] = 1, 2
    for role in ("parent", "optimized"):
        assert 0 <= gt[role]["mean_iou"] <= 1
        assert set(gt[role]["per_class_iou"]) <= set(LABELS)
        inter, union = np.zeros(3), np.zeros(3)
        for mask_png in sorted((voc / "SegmentationClass").glob("*.png")):
            truth = lut[np.asarray(Image.open(mask_png))]
            pred = cv2.imread(str(out / "predictions" / role / mask_png.name), cv2.IMREAD_UNCHANGED)
            assert pred.shape == truth.shape
            valid = truth < 3
            for c in range(3):
                inter[c] += np.count_nonzero((truth == c) & (pred == c) & valid)
                union[c] += np.count_nonzero(((truth == c) | (pred == c)) & valid)
        assert gt[role]["mean_iou"] == pytest.approx(np.mean(inter[union > 0] / union[union > 0]))


# --- step subcommands --------------------------------------------------------------------------

def test_quantize_and_benchmark_subcommands(tmp_path: Path, photo_folder: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """``segwb quantize`` / ``segwb benchmark`` print their step record as JSON (stdout is only JSON)."""
    args = ["--model", str(write_model(tmp_path / "model", "class_map")), "--dataset", str(photo_folder),
            "--out", str(tmp_path / "out"), "--subset-size", "2", *BENCH, "--no-bf16"]
    assert cli.main(["quantize", *args]) == 0
    quantized = json.loads(capsys.readouterr().out)
    assert quantized["step"] == "quantize" and quantized["result"]["subset_size"] == 2
    assert (tmp_path / "out" / "models" / "optimized" / "model.xml").is_file()
    assert not (tmp_path / "out" / "report.json").exists()
    assert cli.main(["benchmark", *args]) == 0
    measured = json.loads(capsys.readouterr().out)
    assert measured["step"] == "benchmark" and measured["result"]["parent"]["fps"] > 0
    assert measured["inputs"]["optimized"] == quantized["result"]["digest"]
    assert not (tmp_path / "out" / "predictions").exists()


# --- cancel ------------------------------------------------------------------------------------

@pytest.fixture
def imported(tmp_path: Path, photo_folder: Path):
    """The semantic report job of a project with the tiny class_map model imported, on the photo folder."""
    project = Project(tmp_path / "out")
    options = TutorialOptions(out=project.root, model=str(write_model(tmp_path / "model", "class_map")))
    parent = step_import(project, options)
    return get_task("semantic").report_job(project, open_dataset(photo_folder), parent.card, DetectionLimits()), parent


def _predict(job, parent, **kwargs) -> None:
    predict_role(job, "parent", compile_model(parent.xml, "f32"), InputFeed(job.image_paths(), parent.card),
                 kwargs.get("progress"), kwargs.get("cancel"))


def test_cancel_before_predict_writes_nothing(imported) -> None:
    """An already-set cancel event: Cancelled, no PNG and no temporary file."""
    job, parent = imported
    cancel = threading.Event()
    cancel.set()
    folder = job.project.predictions("parent")
    with pytest.raises(Cancelled):
        _predict(job, parent, cancel=cancel)
    assert not list(folder.rglob("*.png")) and not list(job.project.root.rglob("*.tmp"))


def test_cancelled_step_is_not_recorded_and_resumes(imported) -> None:
    """step_report cancelled: no step record; the next call computes every class map and the comparison."""
    job, parent = imported
    project = job.project
    models = {role: Model(parent.xml, parent.digest, "f32") for role in ("parent", "optimized")}
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        step_report(job, models, InputFeed(job.image_paths(), parent.card), cancel=cancel)
    for step in ("predict-parent", "predict-optimized", "compare"):
        assert not project.step_record(step).exists()
    assert not list(project.root.rglob("*.tmp")) and not list(project.predictions("parent").rglob("*.png"))
    predicted, compared = step_report(job, models, InputFeed(job.image_paths(), parent.card))
    assert predicted["parent"]["cached"] is False and compared["cached"] is False
    assert len(list(project.predictions("parent").rglob("*.png"))) == len(job.dataset)
    again, compared_again = step_report(job, models, InputFeed(job.image_paths(), parent.card))
    assert again["parent"]["cached"] and again["optimized"]["cached"] and compared_again["cached"]


def test_cancel_midway_leaves_only_complete_pngs(imported) -> None:
    """Cancel from the progress callback after the first map: every PNG left is whole, none half-written."""
    job, parent = imported
    cancel = threading.Event()
    folder = job.project.predictions("parent")
    with pytest.raises(Cancelled):
        _predict(job, parent, progress=lambda done, total: cancel.set(), cancel=cancel)
    sizes = {s.key: cv2.imread(str(s.path)).shape[:2] for s in job.dataset.samples}
    written = list(folder.rglob("*.png"))
    assert written and not list(job.project.root.rglob("*.tmp"))
    for png in written:
        assert cv2.imread(str(png), cv2.IMREAD_UNCHANGED).shape == sizes[png.relative_to(folder).with_suffix("").as_posix()]


def test_overlays_only_for_the_worst_images(imported, monkeypatch: pytest.MonkeyPatch) -> None:
    """OVERLAYS worst rows get a picture (the table's first rows), the others none; an earlier run's pictures of
    other images are removed, and a deleted picture makes the comparison run again."""
    from segwb.tasks import report_pass

    job, parent = imported
    project = job.project
    models = {"parent": Model(parent.xml, parent.digest, "f32"),
              "optimized": Model(write_model(project.root.parent / "other", "class_map", seed=3), "other", "f32")}
    stale = project.overlay("gone")
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"old")
    monkeypatch.setattr(report_pass, "OVERLAYS", 2)
    _, compared = step_report(job, models, InputFeed(job.image_paths(), parent.card))
    rows = compared["comparison"]["basic"]
    assert [("overlay" in r) for r in rows] == [True, True] + [False] * (len(rows) - 2)
    assert sorted(p.name for p in project.overlays.rglob("*.jpg")) == sorted(Path(r["overlay"]).name for r in rows[:2])
    assert all(cv2.imread(str(project.root / r["overlay"])) is not None for r in rows[:2])
    (project.root / rows[0]["overlay"]).unlink()
    _, again = step_report(job, models, InputFeed(job.image_paths(), parent.card))
    assert not again["cached"] and (project.root / again["comparison"]["basic"][0]["overlay"]).is_file()
    assert step_report(job, models, InputFeed(job.image_paths(), parent.card))[1]["cached"]
