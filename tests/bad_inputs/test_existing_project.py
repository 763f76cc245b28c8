"""A refused input given an existing project as --out: the project stays byte for byte as it was (nothing is lost),
and no file is added to it."""

from __future__ import annotations

from collections.abc import Callable

import hostile_inputs as hi
import pytest
from bad_inputs_conftest import Baseline, Scratch, semantic_argv


def empty_model(s: Scratch, b: Baseline) -> tuple[list[str], str]:
    (s.models / "model.xml").write_bytes(b"")
    return semantic_argv(s.project, s.models / "model.xml", b.dataset), "model.xml"


def two_input_model(s: Scratch, b: Baseline) -> tuple[list[str], str]:
    xml = hi.write_two_inputs(s.models)
    return semantic_argv(s.project, xml, b.dataset), xml.name


def bad_card(s: Scratch, b: Baseline) -> tuple[list[str], str]:
    card = s.models / "card.yml"
    card.write_text('color_order: RGB\nresize: fit_pad\nscale: "abc"\n')
    return b.argv(s.project, "--model-card", str(card)), "card.yml"


def labels_not_utf8(s: Scratch, b: Baseline) -> tuple[list[str], str]:
    labels = s.models / "names.txt"
    labels.write_bytes(b"\xff\xfe\x00b\x00")
    return b.argv(s.project, "--labels", str(labels)), "names.txt"


def all_bad_dataset(s: Scratch, b: Baseline) -> tuple[list[str], str]:
    folder = s.data / "photos"
    folder.mkdir()
    (folder / "empty.jpg").write_bytes(b"")
    return semantic_argv(s.project, b.model, folder), "photos"


def missing_dataset(s: Scratch, b: Baseline) -> tuple[list[str], str]:
    return semantic_argv(s.project, b.model, s.data / "gone"), "gone"


def voc_bad_split(s: Scratch, b: Baseline) -> tuple[list[str], str]:
    voc = hi.voc_root(s.data / "voc")
    return semantic_argv(s.project, b.model, voc, "--split", "nonexistent"), "nonexistent"


def bench_seconds_zero(s: Scratch, b: Baseline) -> tuple[list[str], str]:
    return b.argv(s.project, "--bench-seconds", "0"), "--bench-seconds"


def subset_zero(s: Scratch, b: Baseline) -> tuple[list[str], str]:
    return b.argv(s.project, "--subset-size", "0"), ("--subset-size", "subset size")


def task_mismatch(s: Scratch, b: Baseline) -> tuple[list[str], str]:
    """The semantic project re-run as an instance tutorial with the semantic model: refused, the project kept."""
    return ["tutorial", "instance", "--model", str(b.model), "--dataset", str(b.dataset), "--out", str(s.project),
            *hi.FAST], (b.model.name, "project")


CASES: list[Callable[[Scratch, Baseline], tuple[list[str], str]]] = [
    empty_model, two_input_model, bad_card, labels_not_utf8, all_bad_dataset, missing_dataset, voc_bad_split,
    bench_seconds_zero, subset_zero, task_mismatch]


@pytest.mark.parametrize("case", CASES, ids=[c.__name__ for c in CASES])
def test_refused_input_leaves_an_existing_project_as_it_was(case: Callable, scratch: Scratch,
                                                            baseline: Baseline) -> None:
    baseline.copy_project(scratch.project)
    argv, name = case(scratch, baseline)
    scratch.refused(argv, name, allowed=[], early=True)  # allowed=[]: the project too must be unchanged
