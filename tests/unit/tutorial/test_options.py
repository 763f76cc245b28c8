"""Tutorial options are checked in one place, before any long step: one line each."""

from __future__ import annotations

from pathlib import Path

import pytest

from segwb.core.errors import SegwbError
from segwb.optimize.settings import QuantizeSettings
from segwb.tutorial.options import TutorialOptions


@pytest.mark.parametrize(("changes", "words"), [
    ({"bench_seconds": 0}, "--bench-seconds"),
    ({"bench_seconds": -1}, "--bench-seconds"),
    ({"bench_seconds": float("nan")}, "--bench-seconds"),
    ({"bench_seconds": float("inf")}, "--bench-seconds"),
    ({"min_score": 1.5}, "--min-score"),
    ({"max_detections": 0}, "--max-detections"),
    ({"split": "../../etc"}, "--split"),
    ({"split": ""}, "--split"),
    ({"quantize": QuantizeSettings(subset="0")}, "subset size"),
    ({"quantize": QuantizeSettings(method="accuracy_aware", max_drop=50)}, "max accuracy drop"),
])
def test_bad_options_are_one_line(tmp_path: Path, changes: dict, words: str) -> None:
    options = TutorialOptions(out=tmp_path / "p", **changes)
    with pytest.raises(SegwbError, match=words) as info:
        options.check()
    assert "\n" not in str(info.value)


def test_the_project_must_be_a_folder_apart_from_the_dataset(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    (tmp_path / "file").write_text("x")
    for out, dataset in ((tmp_path / "file", "embedded"), (photos / "project", str(photos)), (tmp_path, str(photos))):
        with pytest.raises(SegwbError):
            TutorialOptions(out=out, dataset=dataset).check()
    TutorialOptions(out=tmp_path / "project", dataset=str(photos)).check()


def test_an_imported_project_runs_again_on_its_dataset_copy(tmp_path: Path) -> None:
    (tmp_path / "project" / "dataset").mkdir(parents=True)
    TutorialOptions(out=tmp_path / "project", dataset=str(tmp_path / "project" / "dataset")).check()
    (tmp_path / "project" / "dataset" / "sub").mkdir()
    with pytest.raises(SegwbError):
        TutorialOptions(out=tmp_path / "project", dataset=str(tmp_path / "project" / "dataset" / "sub")).check()


def test_optimized_refuses_what_it_cannot_mean(tmp_path: Path) -> None:
    """--optimized compares a model the user has: AccuracyAware has nothing to quantize, and a file of the project's
    own models folder is what its import overwrites."""
    given = str(tmp_path / "int8" / "model.xml")
    TutorialOptions(out=tmp_path / "p", optimized=given).check()
    for options, words in ((TutorialOptions(out=tmp_path / "p", optimized=given,
                                            quantize=QuantizeSettings(method="accuracy_aware")), "nothing to quantize"),
                           (TutorialOptions(out=tmp_path / "p", optimized=str(tmp_path / "p/models/optimized/model.xml")),
                            "own models folder"),
                           (TutorialOptions(out=tmp_path / "p", optimized=""), "needs a model file")):
        with pytest.raises(SegwbError, match=words) as info:
            options.check()
        assert "\n" not in str(info.value)
