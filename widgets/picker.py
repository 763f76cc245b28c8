"""Model & data picker: the zoo with its status, the user's model with a model-card form, the dataset."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as w

from segwb import tasks
from segwb.core.errors import SegwbError
from segwb.io.labels import read_labels
from segwb.io.model_card import COLOR_ORDERS, LAYOUTS, RESIZE_MODES, gather_fields
from segwb.io.uploads import (UploadError, extract_dataset_zip, save_image_uploads, save_model_upload, sweep_staging,
                              summarize_dataset, upload_limit)
from segwb.tasks.model_import import describe
from segwb.zoo.catalog import ENTRIES
from segwb.zoo.status import zoo_status

from .common import error_html, escape, input_error_html, note_html, ok_html, one_line, take_upload

MODEL_SOURCES = [("Tutorial default", "default"), ("Zoo model", "zoo"), ("My model file", "file")]
DATASET_SOURCES = [("Embedded sample photos", "embedded"), ("Folder on this machine", "folder"), ("Upload", "upload")]
STATE_COLOURS = {"cached": "#0b6e2e", "downloadable": "#1f5fa8", "unavailable": "#b00"}


def _in_background(fn: Callable[[], None]) -> None:
    """Short checks (reading a model, listing a dataset) off the kernel's main thread."""
    threading.Thread(target=fn, daemon=True).start()


def _numbers(text: str, field: str) -> float | list[float]:
    try:
        values = [float(v) for v in text.replace(" ", "").split(",") if v != ""]
    except ValueError:
        raise SegwbError(f"model card field '{field}': {text!r} is not a number or three numbers separated by commas") from None
    if len(values) not in (1, 3):
        raise SegwbError(f"model card field '{field}' needs one number or three, got {text!r}")
    return values[0] if len(values) == 1 else values


class ModelDataPicker:
    """What to optimize and on which images; ``model_spec()`` and ``dataset_spec()`` feed TutorialOptions."""

    def __init__(self, uploads_root: Path, fetch: Callable[[str], None] | None = None) -> None:
        self.uploads_root = uploads_root
        sweep_staging(uploads_root)  # what a killed kernel's upload left
        self.fetch_callback = fetch
        # One button per registered task; ToggleButtons are 70 px wide by default, which cut "Semantic segmenta…"
        self.task = w.ToggleButtons(options=[(t.title, t.name) for t in tasks.REGISTRY.values()],
                                    value=tasks.names()[0], description="Task", style={"button_width": "auto"})
        self.task.add_class("segwb-task")
        # zoo
        self.zoo_table = w.HTML("")
        self.zoo_table.add_class("segwb-zoo")
        self.check_button = w.Button(description="Check availability", icon="wifi",
                                     tooltip="Ask each source whether it can be reached (3 s at most)")
        self.fetch_choice = w.Dropdown(options=list(ENTRIES), description="Zoo model", layout=w.Layout(width="420px"))
        self.fetch_button = w.Button(description="Fetch", icon="download", tooltip="Download (or copy from the mirror) into the cache")
        self.check_button.on_click(lambda _: self.refresh_zoo(check_network=True))
        self.fetch_button.on_click(lambda _: self.fetch_callback and self.fetch_callback(self.fetch_choice.value))
        # model
        self.model_source = w.RadioButtons(options=MODEL_SOURCES, value="default", description="Model")
        self.model_path = w.Text(placeholder="/path/to/model.xml | .onnx | .tflite | .pb | SavedModel folder",
                                 description="Model file", layout=w.Layout(width="640px"))
        self.model_upload = w.FileUpload(accept=".xml,.bin,.onnx,.tflite,.pb,.yml,.yaml,.txt", multiple=True,
                                         description="Upload model files")
        self.card_path = w.Text(placeholder="optional: model card YAML", description="Model card", layout=w.Layout(width="640px"))
        self.card_fields = {
            "color_order": w.Dropdown(options=[("inferred / from the card", "")] + [(c, c) for c in COLOR_ORDERS], description="Colour order"),
            "layout": w.Dropdown(options=[("inferred / from the card", "")] + [(c, c) for c in LAYOUTS], description="Layout"),
            "resize": w.Dropdown(options=[("inferred / from the card", "")] + [(c, c) for c in RESIZE_MODES], description="Resize"),
            "mean": w.Text(description="Mean", placeholder="e.g. 0 or 123.7,116.3,103.5"),
            "scale": w.Text(description="Scale", placeholder="e.g. 255 or 58.4,57.1,57.4"),
            "pad_value": w.Text(description="Pad value", placeholder="e.g. 0 or 114"),
            "input_size": w.Text(description="Input size", placeholder="height,width (dynamic inputs)"),
            "labels": w.Text(description="Labels file", placeholder="labels.txt: one class name per line"),
        }
        self.check_model_button = w.Button(description="Check model", icon="check",
                                           tooltip="Read the model and resolve its card (inferred fields shown)")
        self.check_model_button.on_click(lambda _: self.check_model())
        self.model_upload.observe(lambda _: self._model_uploaded(), "value")
        self.model_message = w.HTML("")
        self.model_message.add_class("segwb-model-message")
        self.card_view = w.HTML("")
        self.file_box = w.VBox([w.HBox([self.model_path, self.model_upload]), self.card_path,
                                w.HTML(note_html("Model card fields the graph cannot tell (leave empty to infer or read them "
                                                 "from the card file):")),
                                w.GridBox(list(self.card_fields.values()), layout=w.Layout(grid_template_columns="repeat(2, 340px)")),
                                self.check_model_button, self.card_view])
        self.zoo_model = w.Dropdown(options=self._zoo_models(), description="Zoo model", layout=w.Layout(width="420px"))
        # dataset
        self.dataset_source = w.RadioButtons(options=DATASET_SOURCES, value="embedded", description="Dataset")
        self.dataset_path = w.Text(placeholder="/path/to/images | VOC root | COCO root", description="Folder",
                                   layout=w.Layout(width="640px"))
        self.dataset_upload = w.FileUpload(accept=".zip,.jpg,.jpeg,.png,.bmp", multiple=True,
                                           description="Upload zip or images")
        self.dataset_upload.observe(lambda _: self._dataset_uploaded(), "value")
        self.dataset_upload.add_class("segwb-dataset-upload")
        self.model_upload.add_class("segwb-model-upload")
        self.check_dataset_button = w.Button(description="Check dataset", icon="check")
        self.check_dataset_button.on_click(lambda _: self.check_dataset())
        self.dataset_message = w.HTML("")
        self.dataset_message.add_class("segwb-dataset-message")
        self.model_source.observe(lambda _: self._layout(), "value")
        self.dataset_source.observe(lambda _: self._layout(), "value")
        self.task.observe(lambda _: self._task_changed(), "value")
        self.default_note = w.HTML("")
        self.widget = w.VBox([
            self.task,
            w.HTML("<h3>Model zoo</h3>"), self.zoo_table, w.HBox([self.check_button, self.fetch_choice, self.fetch_button]),
            w.HTML("<h3>Model</h3>"), self.model_source, self.default_note, self.zoo_model, self.file_box, self.model_message,
            w.HTML("<h3>Dataset</h3>"), self.dataset_source, w.HBox([self.dataset_path, self.check_dataset_button]),
            self.dataset_upload,
            w.HTML(note_html(f"Uploads: a .zip of an image folder, a Pascal VOC or a COCO root, or image files; at most "
                             f"{upload_limit() / (1 << 20):.0f} MB.")),
            self.dataset_message,
        ])
        self.widget.add_class("segwb-picker")
        self.refresh_zoo()
        self._layout()

    # --- what the tutorial gets ------------------------------------------------------------------

    def model_spec(self) -> tuple[str | None, str | None, dict[str, Any]]:
        """(model, model card path, card overrides) for TutorialOptions; bad form values raise SegwbError."""
        source = self.model_source.value
        if source == "default":
            return None, None, {}
        if source == "zoo":
            return self.zoo_model.value, None, {}
        path = self.model_path.value.strip()
        if not path:
            raise SegwbError("no model file given: type its path or upload it, or choose the tutorial default")
        card = self.card_path.value.strip() or None
        return path, card, self.overrides()

    def overrides(self) -> dict[str, Any]:
        """The card form as overrides (empty fields are left to the card file and the graph)."""
        f = {k: v.value.strip() if isinstance(v.value, str) else v.value for k, v in self.card_fields.items()}
        out: dict[str, Any] = {k: f[k] for k in ("color_order", "layout", "resize") if f[k]}
        for key in ("mean", "scale"):
            if f[key]:
                out[key] = _numbers(f[key], key)
        if f["pad_value"]:
            value = _numbers(f["pad_value"], "pad_value")
            if isinstance(value, list):
                raise SegwbError("model card field 'pad_value' is one number")
            out["pad_value"] = value
        if f["input_size"]:
            size = [v for v in f["input_size"].replace("x", ",").split(",") if v.strip()]
            if len(size) != 2 or not all(v.strip().isdigit() and int(v) > 0 for v in size):
                raise SegwbError(f"model card field 'input_size': {f['input_size']!r} is not height,width")
            out["input_size"] = [int(v) for v in size]
        if f["labels"]:
            out["labels"] = read_labels(Path(f["labels"]))
        return out

    def dataset_spec(self) -> str:
        """``"embedded"`` or a dataset folder."""
        if self.dataset_source.value == "embedded":
            return "embedded"
        path = self.dataset_path.value.strip()
        if not path:
            raise SegwbError("no dataset folder given: type its path, upload a zip, or choose the embedded photos")
        return path

    def state(self) -> dict[str, Any]:
        """The picker's settings, stored with the last run so a reload shows the same choice."""
        return {"task": self.task.value, "model_source": self.model_source.value, "zoo_model": self.zoo_model.value,
                "model_path": self.model_path.value, "card_path": self.card_path.value,
                "card_fields": {k: v.value for k, v in self.card_fields.items()},
                "dataset_source": self.dataset_source.value, "dataset_path": self.dataset_path.value}

    def restore(self, state: dict[str, Any]) -> None:
        """Put back what :meth:`state` returned (unknown or outdated values are ignored)."""
        def put(widget: w.ValueWidget, value: Any) -> None:
            options = getattr(widget, "options", None)
            values = [o[1] if isinstance(o, tuple) else o for o in options] if options is not None else None
            if value is not None and (values is None or value in values):
                widget.value = value

        put(self.task, state.get("task"))
        put(self.model_source, state.get("model_source"))
        put(self.zoo_model, state.get("zoo_model"))
        put(self.model_path, state.get("model_path"))
        put(self.card_path, state.get("card_path"))
        for k, v in (state.get("card_fields") or {}).items():
            if k in self.card_fields:
                put(self.card_fields[k], v)
        put(self.dataset_source, state.get("dataset_source"))
        put(self.dataset_path, state.get("dataset_path"))

    # --- zoo -------------------------------------------------------------------------------------

    def refresh_zoo(self, check_network: bool = False) -> None:
        """Redraw the zoo table; with ``check_network`` the sources are probed in the background."""
        def work() -> None:
            try:
                rows = zoo_status(check_network=check_network)
            except Exception as exc:
                self.zoo_table.value = error_html(exc, "Listing the zoo")
                return
            body = "".join(
                f'<tr data-zoo="{escape(s.name)}"><td><b>{escape(s.name)}</b></td><td>{escape(s.task)}</td>'
                f"<td>{escape(s.summary)}</td>"
                f'<td><b class="segwb-zoo-state" style="color:{STATE_COLOURS[s.state]}">{escape(s.state)}</b></td>'
                f"<td class=segwb-note>{escape(s.reason)}</td></tr>" for s in rows)
            self.zoo_table.value = ('<table class="segwb-kv"><tr><th>Name</th><th>Task</th><th>Model</th><th>Status</th>'
                                    f"<th>Why</th></tr>{body}</table>")
            self.check_button.disabled = False

        if check_network:
            self.check_button.disabled = True
            _in_background(work)
        else:
            work()

    # --- checks and uploads ----------------------------------------------------------------------

    def check_model(self) -> None:
        """Read the user's model and show its resolved card: each field given, or inferred / defaulted."""
        self.card_view.value = ""
        try:
            path, card_path, overrides = self.model_spec()
        except SegwbError as exc:
            self.model_message.value = input_error_html(one_line(exc))
            return
        if self.model_source.value != "file":
            self.model_message.value = ok_html(f"{path or 'the tutorial default'}: a zoo model, its card is known.")
            return
        self.model_message.value = note_html(f"Reading {path}…")

        def work() -> None:
            try:
                _, card = describe(path, card_path, {**overrides, "task": self.task.value})
                given = gather_fields(Path(path), Path(card_path) if card_path else None, overrides)
            except Exception as exc:
                self.model_message.value = input_error_html(one_line(exc))
                return
            rows = "".join(
                f"<tr><td>{escape(k)}</td><td>{escape(_short(v))}</td>"
                f"<td class=segwb-note>{'given' if k in given else 'inferred from the graph or default'}</td></tr>"
                for k, v in card.to_dict().items())
            self.card_view.value = f'<table class="segwb-kv segwb-card"><tr><th>Field</th><th>Value</th><th>Source</th></tr>{rows}</table>'
            self.model_message.value = ok_html(f"{path}: OK, the model card is complete.")

        _in_background(work)

    def check_dataset(self) -> None:
        """Open the dataset and show its layout and size."""
        try:
            spec = self.dataset_spec()
        except SegwbError as exc:
            self.dataset_message.value = input_error_html(one_line(exc))
            return
        self.dataset_message.value = note_html(f"Reading {spec}…")

        def work() -> None:
            try:
                summary = summarize_dataset(spec)
            except Exception as exc:
                self.dataset_message.value = input_error_html(one_line(exc))
                return
            self.dataset_message.value = ok_html(f"{summary.path}: {summary.line()}")

        _in_background(work)

    def _model_uploaded(self) -> None:
        def handle(files: list[dict[str, Any]], limit: int) -> None:
            path = save_model_upload([(f["name"], bytes(f["content"])) for f in files], self.uploads_root / "models", limit)
            self.model_source.value = "file"
            self.model_path.value = str(path)
            self.model_message.value = ok_html(f"uploaded to {path}; press Check model.")

        take_upload(self.model_upload, self.model_message, handle)

    def _dataset_uploaded(self) -> None:
        def handle(files: list[dict[str, Any]], limit: int) -> None:
            items = [(f["name"], bytes(f["content"])) for f in files]
            zips = [i for i in items if i[0].lower().endswith(".zip")]
            if zips and len(items) > 1:
                raise UploadError("upload one .zip archive, or image files, not both", ", ".join(n for n, _ in items))
            root = self.uploads_root / "datasets"
            folder = extract_dataset_zip(*zips[0], root, limit) if zips else save_image_uploads(items, root, limit)
            summary = summarize_dataset(folder)
            self.dataset_source.value = "folder"
            self.dataset_path.value = str(folder)
            self.dataset_message.value = ok_html(f"uploaded to {folder}: {summary.line()}")

        take_upload(self.dataset_upload, self.dataset_message, handle)

    def _layout(self) -> None:
        source = self.model_source.value
        self.zoo_model.layout.display = None if source == "zoo" else "none"
        self.file_box.layout.display = None if source == "file" else "none"
        folder = self.dataset_source.value == "folder"
        self.dataset_path.layout.display = self.check_dataset_button.layout.display = None if folder else "none"
        self.dataset_upload.layout.display = None if self.dataset_source.value == "upload" else "none"
        first, *fallbacks = tasks.get(self.task.value).zoo_defaults
        self.default_note.value = note_html(f"Tutorial default: {first}" + (
            f" when it can be fetched, else {', else '.join(fallbacks)} (the run says which and why)." if fallbacks else "."))

    def _zoo_models(self) -> list[str]:
        """The zoo models of the chosen task (a model of another task would fail its import)."""
        return [name for name, entry in ENTRIES.items() if entry.task == self.task.value]

    def _task_changed(self) -> None:
        self.zoo_model.options = self._zoo_models()
        self._layout()


def _short(value: Any) -> str:
    if isinstance(value, list) and len(value) > 8:
        return ", ".join(map(str, value[:8])) + f", … ({len(value)} in all)"
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
