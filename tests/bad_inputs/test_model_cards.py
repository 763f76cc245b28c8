"""Model cards (``<stem>.yml`` next to the model, ``labels.txt``, ``--model-card``) with values that are wrong, of the
wrong type, or hostile: each refused on one line naming the card, before anything is quantized."""

from __future__ import annotations

from pathlib import Path

import hostile_inputs as hi
import pytest
from bad_inputs_conftest import (
    Scratch,
    assert_clean_failure,
    assert_went_on,
    semantic_argv,
)

GOOD = "color_order: RGB\nresize: fit_pad\n"
CARD = f"{hi.SEMANTIC_STEM}.yml"

# (id, card text appended to the good card or raw bytes replacing it)
CARD_CASES = [
    ("scale_abc", 'scale: "abc"\n'),  # must not become three scales 'a', 'b', 'c'
    ("scale_zero", "scale: 0\n"),  # input = pixel / 0: infinities
    ("scale_two_values", "scale: [1, 2]\n"),
    ("scale_inf", "scale: .inf\n"),  # every input 0: silently wrong
    ("mean_four_values", "mean: [1, 2, 3, 4]\n"),
    ("mean_nan", "mean: [.nan, 0, 0]\n"),
    ("mean_string", 'mean: "1,2,3"\n'),
    ("pad_value_word", "pad_value: zero\n"),
    ("threshold_word", "threshold: high\n"),
    ("threshold_two", "threshold: 2\n"),  # a probability threshold past 1 marks nothing foreground
    ("threshold_nan", "threshold: .nan\n"),
    ("input_size_word", "input_size: big\n"),
    ("input_size_zero", "input_size: [0, 10]\n"),
    ("input_size_three", "input_size: [64, 64, 3]\n"),
    ("input_size_float", "input_size: [64.7, 64]\n"),  # silently truncated to 64 otherwise
    ("labels_number", "labels: 5\n"),
    ("labels_string", 'labels: "abc"\n'),  # must not become the 3 labels 'a', 'b', 'c'
    ("labels_nested", "labels: [[a, b], {c: 1}, d]\n"),
    ("labels_file_number", "labels_file: 42\n"),
    ("layout_number", "layout: 5\n"),
    ("unknown_key", "colour_order: RGB\n"),
    ("task_nonsense", "task: nonsense\n"),  # a card naming a task that does not exist is wrong, even if --task wins
    ("adapter_nonsense", "adapter: nonsense\n"),
    ("resize_nonsense", "resize: squash\n"),
    ("invalid_yaml", "scale: [1, 2\n"),
    ("not_a_mapping", None),
    ("not_utf8", None),
    ("yaml_python_tag", "scale: !!python/object/apply:os.system ['echo pwned']\n"),
]


def _card_bytes(case: str, extra: str | None) -> bytes:
    if case == "not_a_mapping":
        return b"- color_order\n- RGB\n"
    if case == "not_utf8":
        return b"color_order: RGB\nresize: fit_pad\nlabels: [caf\xe9, \xff\xfe]\n"
    return (GOOD + extra).encode()


@pytest.mark.parametrize("case,extra", CARD_CASES, ids=[c for c, _ in CARD_CASES])
def test_bad_card_field_is_refused(case: str, extra: str | None, scratch: Scratch, semantic_model: Path,
                                   photos: Path) -> None:
    card = semantic_model.with_name(CARD)
    card.write_bytes(_card_bytes(case, extra))
    scratch.refused(semantic_argv(scratch.project, semantic_model, photos), CARD, early=True)


def test_labels_file_outside_the_model_folder_is_refused(scratch: Scratch, semantic_model: Path, photos: Path) -> None:
    """``labels_file: ../../etc/passwd`` (climbing to the real /etc/passwd): a card may not make segwb read a file
    outside the model's folder as class names."""
    depth = len(semantic_model.parent.resolve().parts) - 1
    climb = "../" * depth + "etc/passwd"
    assert (semantic_model.parent / climb).resolve() == Path("/etc/passwd")
    semantic_model.with_name(CARD).write_text(GOOD + f"labels_file: {climb}\n")
    scratch.refused(semantic_argv(scratch.project, semantic_model, photos), (CARD, "passwd"), early=True)


def test_labels_txt_not_utf8_is_refused(scratch: Scratch, semantic_model: Path, photos: Path) -> None:
    semantic_model.with_name("labels.txt").write_bytes(b"background\npers\xf6n\n\xff\xfecat\n")
    scratch.refused(semantic_argv(scratch.project, semantic_model, photos), "labels.txt", early=True)


def test_labels_flag_not_utf8_is_refused(scratch: Scratch, semantic_model: Path, photos: Path) -> None:
    labels = scratch.models / "names.txt"
    labels.write_bytes(b"\x80\x81\x82\n")
    scratch.refused(semantic_argv(scratch.project, semantic_model, photos, "--labels", str(labels)), "names.txt",
                    early=True)


def test_labels_txt_that_is_a_folder_is_not_silent(scratch: Scratch, semantic_model: Path, photos: Path) -> None:
    """A folder named labels.txt: refused naming it, or (the model runs without class names) a warning naming it —
    not silently a report without the names the user put there."""
    (semantic_model.parent / "labels.txt").unlink()
    (semantic_model.parent / "labels.txt").mkdir()
    result = scratch.run(semantic_argv(scratch.project, semantic_model, photos))
    if result.code == 0:
        assert_went_on(result)
        assert any("labels.txt" in ln for ln in result.lines), f"labels.txt was skipped silently: {result.describe()}"
    else:
        assert_clean_failure(result.code, result.stderr, ["labels.txt"])


def test_model_card_flag_missing_file_is_refused(scratch: Scratch, semantic_model: Path, photos: Path) -> None:
    missing = scratch.models / "no-such-card.yml"
    scratch.refused(semantic_argv(scratch.project, semantic_model, photos, "--model-card", str(missing)),
                    "no-such-card.yml", early=True)


def test_model_card_flag_is_a_folder_is_refused(scratch: Scratch, semantic_model: Path, photos: Path) -> None:
    folder = scratch.models / "cards"
    folder.mkdir()
    scratch.refused(semantic_argv(scratch.project, semantic_model, photos, "--model-card", str(folder)), "cards",
                    early=True)


def test_labels_shorter_than_the_model_classes_is_not_silent(scratch: Scratch, semantic_model: Path,
                                                             photos: Path) -> None:
    """Two names for a model of three classes: an error naming labels.txt, or a warning naming it while the run goes
    on — never a silent report over the classes that happen to have names."""
    semantic_model.with_name("labels.txt").write_text("background\nperson\n")
    result = scratch.run(semantic_argv(scratch.project, semantic_model, photos))
    if result.code == 0:
        assert_went_on(result)
        warnings = [ln for ln in result.lines if "labels.txt" in ln]
        report_text = (scratch.project / "report.json").read_text()
        assert warnings or "labels.txt" in report_text, \
            f"labels.txt names 2 classes of 3, and nothing says so: {result.describe()}"
    else:
        assert_clean_failure(result.code, result.stderr, ["labels.txt"])
