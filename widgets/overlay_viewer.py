"""Overlay viewer: parent | optimized | a third panel side by side at one zoom, opacity, badges, legend, next/previous.

What is drawn is the report task's :class:`segwb.tasks.base.Viewer` (its images, badges, legend and panels); this
widget only lays them out, so it is the same for every task. Pictures are sent as JPEG bytes in ``ipywidgets.Image``
(no file serving).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ipywidgets as w

from segwb import tasks
from segwb.core.project import Project
from segwb.io.images import encode_jpeg
from segwb.tasks.base import Badge, Viewer

from .common import error_html, escape, note_html

PANEL_WIDTH = "32%"
HIDDEN_COLOUR = "#e0e0e0"
NO_REPORT = "No report yet."


def _panel(title: str) -> tuple[w.VBox, w.Image, w.HTML]:
    caption = w.HTML(f"<b>{escape(title)}</b>")
    image = w.Image(format="jpeg", layout=w.Layout(width="100%", height="auto"))
    image.add_class("segwb-overlay")
    box = w.VBox([caption, image], layout=w.Layout(width=PANEL_WIDTH))
    return box, image, caption


def text_colour(background: str) -> str:
    """Black or white, whichever reads better on ``background`` (``#rrggbb``)."""
    r, g, b = (int(background[i:i + 2], 16) for i in (1, 3, 5))
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "white"


class OverlayViewer:
    """Shows one report image at a time; ``open(name)`` selects it (the table's View buttons call this)."""

    def __init__(self) -> None:
        self.view: Viewer | None = None
        self.hidden: set[Any] = set()  # the badge keys toggled off, for the image shown
        self.image = w.Dropdown(description="Image", layout=w.Layout(width="420px"))
        self.prev_button = w.Button(description="previous", icon="chevron-left", layout=w.Layout(width="110px"))
        self.next_button = w.Button(description="next", icon="chevron-right", layout=w.Layout(width="110px"))
        self.opacity = w.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.05, description="Opacity", readout_format=".2f")
        self.zoom = w.IntSlider(value=320, min=160, max=800, step=40, description="Height (px)")
        # 0.8 at first, as in the Workbench; shown only for a task whose viewer is scored
        self.threshold = w.FloatSlider(value=0.8, min=0.0, max=1.0, step=0.05, description="Score ≥", readout_format=".2f",
                                       layout=w.Layout(display="none"))
        self.badges = w.VBox([])
        self.legend = w.HTML("")
        self.info = w.HTML(note_html(NO_REPORT))
        self.error = w.HTML("")
        box_p, self.parent_image, _ = _panel("Parent model predictions")
        box_o, self.optimized_image, _ = _panel("Optimized (INT8) model predictions")
        box_t, self.third_image, self.third_caption = _panel("")
        self.panels = w.HBox([box_p, box_o, box_t], layout=w.Layout(width="100%", justify_content="space-between"))
        self.image.observe(lambda _: self._image_changed(), "value")
        for control in (self.opacity, self.zoom):
            control.observe(lambda _: self.redraw(), "value")
        self.threshold.observe(lambda _: self.refresh(), "value")
        self.prev_button.on_click(lambda _: self.step(-1))
        self.next_button.on_click(lambda _: self.step(1))
        self.widget = w.VBox([w.HBox([self.prev_button, self.image, self.next_button]),
                              w.HBox([self.opacity, self.zoom, self.threshold]),
                              self.info, self.badges, self.legend, self.error, self.panels])
        self.widget.add_class("segwb-viewer")

    def show(self, report: dict[str, Any] | None, project_root: Path | None) -> None:
        """Load a report's images (``project_root``: its project folder); opens the first (worst) one."""
        self.error.value = ""
        self.view = None
        if not report or project_root is None:
            self._clear(NO_REPORT)
            return
        try:
            view = tasks.get(report["task"]).viewer(Project(project_root), report)
            names = view.names
        except Exception as exc:  # a report folder edited by hand: say which file is missing
            self._clear("")
            self.error.value = error_html(exc, "Loading the pictures")
            return
        self.view = view
        self.hidden = set(view.initially_hidden())
        self.threshold.layout.display = None if view.scored else "none"
        self.third_caption.value = f"<b>{escape(view.third_title)}</b>"
        with self.image.hold_trait_notifications():
            self.image.options = names
            self.image.value = None
        if names:
            self.image.value = names[0]  # draws it

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

    def toggle(self, key: Any) -> None:
        """Show or hide the badge ``key`` (a class, or an instance) in the image shown."""
        self.hidden ^= {key}
        self.refresh()

    def refresh(self) -> None:
        """Rebuild the badges and the legend, then redraw (after the image, a toggle or the threshold changed)."""
        name = self.image.value
        if self.view is None or not name:
            return
        try:
            badges = self.view.badges(name, self.hidden, self.threshold.value)
            # every group keeps its row when the threshold hides all of its badges ("Optimized (0 at score ≥ 0.80)")
            every = self.view.badges(name, self.hidden, 0.0) if self.view.scored else badges
            legend = self.view.legend(name)
        except Exception as exc:
            self.error.value = error_html(exc, f"Drawing {name}")
            return
        groups = dict.fromkeys(b.group for b in every)
        self.badges.children = [self._badge_row(group, [b for b in badges if b.group == group]) for group in groups]
        self.legend.value = '<span class="segwb-note">Legend:</span>' + "".join(
            f'<span class="segwb-swatch" style="background:{escape(colour)}"></span>{escape(label)}' for colour, label in legend)
        self.redraw()

    def redraw(self) -> None:
        """Render the three panels for the current image and settings."""
        name = self.image.value
        if self.view is None or not name:
            return
        try:
            panels = self.view.panels(name, self.hidden, self.opacity.value, self.threshold.value, self.zoom.value)
            pictures = [encode_jpeg(p) for p in (panels.parent, panels.optimized, panels.third)]
        except Exception as exc:
            self.error.value = error_html(exc, f"Drawing {name}")
            return
        self.error.value = ""
        info = note_html(panels.info)
        if not panels.photo_found:  # e.g. a project imported without its dataset: the predictions still show
            info += "<br>" + note_html("Photo not found where the report's dataset was: the predictions are drawn on grey.")
        self.info.value = info
        width = f"{panels.parent.shape[1]}px"
        for widget, picture in zip((self.parent_image, self.optimized_image, self.third_image), pictures):
            widget.value = picture
            widget.layout.max_width = width  # same zoom for the three: each is drawn at the same height

    # --- internals -------------------------------------------------------------------------------

    def _clear(self, message: str) -> None:
        with self.image.hold_trait_notifications():
            self.image.options = []
        self.badges.children = []
        self.legend.value = ""
        self.info.value = note_html(message) if message else ""
        for widget in (self.parent_image, self.optimized_image, self.third_image):
            widget.value = b""

    def _image_changed(self) -> None:
        # Where badge keys belong to one image (an instance is a rank within its image), each image starts afresh;
        # classes toggled off stay off from image to image.
        if self.view is not None and self.view.keys_per_image:
            self.hidden = set(self.view.initially_hidden())
        self.refresh()

    def _badge_row(self, group: str, badges: list[Badge]) -> w.HBox:
        buttons = []
        for badge in badges:
            button = w.Button(description=f"{'✓' if badge.shown else '✗'} {badge.label}", tooltip="click to show or hide",
                              layout=w.Layout(width="auto"))
            colour = badge.colour if badge.shown else HIDDEN_COLOUR
            button.style.button_color = colour
            button.style.text_color = text_colour(colour)
            button.add_class("segwb-badge")
            button.on_click(lambda _, key=badge.key: self.toggle(key))
            buttons.append(button)
        head: list[w.Widget] = []
        if group:
            scope = f" at score ≥ {self.threshold.value:.2f}" if self.view is not None and self.view.scored else ""
            head = [w.HTML(f"<b>{escape(group)}</b> ({len(buttons)}{scope}):")]
        return w.HBox([*head, *buttons], layout=w.Layout(flex_flow="row wrap"))
