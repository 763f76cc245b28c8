"""Overlay viewer: parent | optimized | disagreement side by side at one zoom, opacity, badges, legend, next/previous.

Pictures are drawn by :mod:`segwb.viewer` and sent as JPEG bytes in ``ipywidgets.Image`` (no file serving).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ipywidgets as w

from segwb import viewer as draw

from .common import error_html, escape

PANEL_WIDTH = "32%"


def _panel(title: str) -> tuple[w.VBox, w.Image, w.HTML]:
    caption = w.HTML(f"<b>{escape(title)}</b>")
    image = w.Image(format="jpeg", layout=w.Layout(width="100%", height="auto"))
    image.add_class("segwb-overlay")
    box = w.VBox([caption, image], layout=w.Layout(width=PANEL_WIDTH))
    return box, image, caption


class OverlayViewer:
    """Shows one report image at a time; ``open(name)`` selects it (the table's View buttons call this)."""

    def __init__(self) -> None:
        self.report: dict[str, Any] | None = None
        self.root: Path | None = None
        self.task = "semantic"
        self.labels: list[str] = []
        self.refs: dict[str, draw.ImageRef] = {}
        self.instances: draw.InstanceData | None = None
        self.hidden: set[int] = set()  # semantic: class ids toggled off
        self.hidden_instances: dict[str, set[int]] = {"parent": set(), "optimized": set()}
        self.image = w.Dropdown(description="Image", layout=w.Layout(width="420px"))
        self.prev_button = w.Button(description="previous", icon="chevron-left", layout=w.Layout(width="110px"))
        self.next_button = w.Button(description="next", icon="chevron-right", layout=w.Layout(width="110px"))
        self.opacity = w.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.05, description="Opacity", readout_format=".2f")
        self.zoom = w.IntSlider(value=320, min=160, max=800, step=40, description="Height (px)")
        self.threshold = w.FloatSlider(value=0.8, min=0.0, max=1.0, step=0.05, description="Score ≥", readout_format=".2f",
                                       layout=w.Layout(display="none"))
        self.badges = w.VBox([])
        self.legend = w.HTML("")
        self.info = w.HTML('<span class="segwb-note">No report yet.</span>')
        self.error = w.HTML("")
        box_p, self.parent_image, _ = _panel("Parent model predictions")
        box_o, self.optimized_image, _ = _panel("Optimized (INT8) model predictions")
        box_d, self.disagreement_image, self.disagreement_caption = _panel("Disagreement")
        self.panels = w.HBox([box_p, box_o, box_d], layout=w.Layout(width="100%", justify_content="space-between"))
        self.image.observe(lambda _: self._image_changed(), "value")
        for control in (self.opacity, self.zoom, self.threshold):
            control.observe(lambda _: self.redraw(), "value")
        self.threshold.observe(lambda _: self._build_badges(), "value")
        self.prev_button.on_click(lambda _: self.step(-1))
        self.next_button.on_click(lambda _: self.step(1))
        self.widget = w.VBox([w.HBox([self.prev_button, self.image, self.next_button]),
                              w.HBox([self.opacity, self.zoom, self.threshold]),
                              self.info, self.badges, self.legend, self.error, self.panels])
        self.widget.add_class("segwb-viewer")

    def show(self, report: dict[str, Any] | None, project_root: Path | None) -> None:
        """Load a report's images; opens the first (worst) one."""
        self.report, self.root = report, Path(project_root) if project_root else None
        self.error.value = ""
        if not report or self.root is None:
            self.image.options = []
            self.info.value = '<span class="segwb-note">No report yet.</span>'
            return
        self.task = report["task"]
        self.labels = list(report["parent"]["card"].get("labels") or [])
        instance = self.task == "instance"
        self.threshold.layout.display = None if instance else "none"
        self.disagreement_caption.value = "<b>Both (parent blue, optimized orange)</b>" if instance else "<b>Disagreement</b>"
        try:
            if instance:
                self.instances = draw.instance_data(self.root, self.labels)
                names = [r["image"] for r in report["comparison"]["basic"]]
            else:
                self.refs = draw.semantic_images(report)
                names = list(self.refs)
        except Exception as exc:  # a report folder edited by hand: say which file is missing
            self.error.value = error_html(exc, "Loading the pictures")
            return
        self.hidden = draw.default_hidden(self.labels)
        self._badge_key = None
        with self.image.hold_trait_notifications():
            self.image.options = names
            self.image.value = None
        if names:
            self.image.value = names[0]  # triggers a redraw

    def open(self, name: str) -> None:
        """Show image ``name``."""
        if name in self.image.options:
            self.image.value = name

    def step(self, delta: int) -> None:
        """Next (+1) or previous (-1) image, wrapping around."""
        options = list(self.image.options)
        if options:
            index = options.index(self.image.value) if self.image.value in options else 0
            self.image.value = options[(index + delta) % len(options)]

    def toggle_class(self, class_id: int) -> None:
        """Show or hide one class's overlay (semantic)."""
        self.hidden ^= {class_id}
        self.redraw()

    def toggle_instance(self, role: str, index: int) -> None:
        """Show or hide one instance (instance reports)."""
        self.hidden_instances[role] ^= {index}
        self.redraw()

    # --- drawing ---------------------------------------------------------------------------------

    def _image_changed(self) -> None:
        self.hidden_instances = {"parent": set(), "optimized": set()}
        self.redraw()
        if self.task == "instance":
            self._build_badges()

    def redraw(self) -> None:
        """Render the three panels for the current image and settings."""
        name = self.image.value
        if not name or self.root is None or self.report is None:
            return
        try:
            if self.task == "instance":
                assert self.instances is not None
                ref = self.instances.images[name]
                panels = draw.instance_panels(ref, self.instances.of("parent", name), self.instances.of("optimized", name),
                                              self.threshold.value, self.opacity.value, self.hidden_instances["parent"],
                                              self.hidden_instances["optimized"], self.zoom.value)
                self._instance_info(name)
            else:
                panels = draw.semantic_panels(self.root, self.refs[name], self.opacity.value, self.hidden, self.zoom.value)
                self._semantic_badges(panels.classes)
                self._semantic_info(name, panels)
        except Exception as exc:
            self.error.value = error_html(exc, f"Drawing {name}")
            return
        self.error.value = ""
        if not panels.photo_found:  # e.g. a project imported without its dataset: the predictions still show
            ref = self.instances.images[name] if self.task == "instance" else self.refs[name]  # type: ignore[union-attr]
            self.info.value += f'<br><span class="segwb-note">Photo not found at {escape(ref.path)}: drawn on grey.</span>'
        width = f"{panels.parent.shape[1]}px"
        for widget, picture in ((self.parent_image, panels.parent), (self.optimized_image, panels.optimized),
                                (self.disagreement_image, panels.disagreement)):
            widget.value = draw.encode_jpeg(picture)
            widget.layout.max_width = width  # same zoom for the three: each is drawn at the same height

    def _semantic_info(self, name: str, panels: draw.Panels) -> None:
        row = next((r for r in self.report["comparison"]["basic"] if r["image"] == name), {})  # type: ignore[index]
        avg, agree = row.get("average_result"), row.get("pixel_agreement")
        share = panels.disagreement_fraction
        self.info.value = (f'<span class="segwb-note"><b>{escape(name)}</b>: average result '
                           f"{'N/A' if avg is None else f'{avg:.4f}'}, pixel agreement "
                           f"{'N/A' if agree is None else f'{100 * agree:.2f} %'}; red = pixels where the models disagree "
                           f"({'N/A' if share is None else f'{100 * share:.2f} %'} of the pixels of the shown classes)."
                           "</span>")

    def _semantic_badges(self, classes: list[int]) -> None:
        key = (tuple(classes), frozenset(self.hidden))
        if key == getattr(self, "_badge_key", None):
            return  # opacity or zoom changed: the badges stay
        self._badge_key = key
        buttons = []
        for cid in classes:
            name = self.labels[cid] if cid < len(self.labels) else f"class {cid}"
            shown = cid not in self.hidden
            button = w.Button(description=f"{'✓' if shown else '✗'} {name}", tooltip="click to show or hide this class",
                              layout=w.Layout(width="auto"))
            button.style.button_color = draw.class_colour(cid) if shown else "#e0e0e0"
            button.style.text_color = "white" if shown and cid else "black"
            button.add_class("segwb-badge")
            button.on_click(lambda _, c=cid: self.toggle_class(c))
            buttons.append(button)
        self.badges.children = [w.HBox(buttons, layout=w.Layout(flex_flow="row wrap"))]
        self.legend.value = "<span class=segwb-note>Legend:</span>" + "".join(
            f'<span class="segwb-swatch" style="background:{draw.class_colour(c)}"></span>'
            f"{escape(self.labels[c] if c < len(self.labels) else f'class {c}')}" for c in classes)

    def _instance_info(self, name: str) -> None:
        row = next((r for r in self.report["comparison"]["basic"] if r["image"] == name), {})  # type: ignore[index]
        self.info.value = (f'<span class="segwb-note"><b>{escape(name)}</b>: optimized {row.get("optimized_detections")} '
                           f'instances, parent {row.get("parent_detections")}, {row.get("matches")} matches '
                           f"(mask IoU ≥ 0.5). Instances below the score threshold are hidden on both sides.</span>")

    def _build_badges(self) -> None:
        if self.task != "instance" or self.instances is None or not self.image.value:
            return
        rows = []
        for role, title in (("optimized", "Optimized"), ("parent", "Parent")):
            buttons = []
            for d in draw.visible_detections(self.instances.of(role, self.image.value), self.threshold.value):
                shown = d.index not in self.hidden_instances[role]
                button = w.Button(description=f"{'✓' if shown else '✗'} {d.badge}", layout=w.Layout(width="auto"))
                button.style.button_color = draw.class_colour(d.class_id, instance=True) if shown else "#e0e0e0"
                button.style.text_color = "white" if shown else "black"
                button.add_class("segwb-badge")
                button.on_click(lambda _, r=role, i=d.index: (self.toggle_instance(r, i), self._build_badges()))
                buttons.append(button)
            label = w.HTML(f"<b>{title}</b> ({len(buttons)} at score ≥ {self.threshold.value:.2f}):")
            rows.append(w.HBox([label, *buttons], layout=w.Layout(flex_flow="row wrap")))
        self.badges.children = rows
        classes = sorted({d.class_id for role in ("parent", "optimized") for d in self.instances.of(role, self.image.value)})
        self.legend.value = "<span class=segwb-note>Legend:</span>" + "".join(
            f'<span class="segwb-swatch" style="background:{draw.class_colour(c, instance=True)}"></span>'
            f"{escape(self.labels[c] if c < len(self.labels) else f'class {c}')}" for c in classes)
