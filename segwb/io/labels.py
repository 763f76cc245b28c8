"""Class labels: the label sets segwb knows by name, label files, and the one rule by which names are compared."""

from __future__ import annotations

import re
from pathlib import Path

from ..core.errors import ModelError

VOC_LABELS = ("background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair",
              "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa",
              "train", "tvmonitor")
VOC_VOID = 255
COCO80 = ("person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
          "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
          "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
          "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
          "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
          "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
          "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard",
          "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase",
          "scissors", "teddy bear", "hair drier", "toothbrush")
# Official COCO category ids of the 80 classes, in the contiguous order most models use.
COCO80_IDS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28, 31, 32,
              33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59,
              60, 61, 62, 63, 64, 65, 67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90)


# Pascal VOC and COCO name four of their shared classes differently; both sides of every match are normalised,
# so a VOC model is scored on COCO or YOLO annotations of those objects instead of calling them unknown.
SYNONYMS = {"aeroplane": "airplane", "motorbike": "motorcycle", "sofa": "couch", "tvmonitor": "tv"}


def normalise(name: str) -> str:
    """A label name as compared with another: case-folded, letters and digits only, of any script ("Potted Plant" =
    "pottedplant", "行人" = "行人"), VOC's names for COCO's classes as COCO's ("tvmonitor" = "tv"); a name of
    punctuation only becomes "" and matches nothing."""
    key = re.sub(r"[\W_]+", "", name.casefold())
    return SYNONYMS.get(key, key)


MAX_LABELS_BYTES = 1 << 20


def read_labels(path: Path) -> list[str]:
    """One label per line; the line number minus one is the class id."""
    if path.exists() and not path.is_file():
        raise ModelError("labels must be a text file, not a folder", path)
    try:
        if path.stat().st_size > MAX_LABELS_BYTES:
            raise ModelError(f"labels file is over {MAX_LABELS_BYTES // 1024} KB: not a list of class names", path)
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise ModelError(f"labels file is not UTF-8 text (byte {exc.start})", path) from exc
    except OSError as exc:
        raise ModelError(f"cannot read labels ({exc.strerror or exc})", path) from exc
    labels = [line.strip() for line in lines]
    while labels and not labels[-1]:
        labels.pop()
    if not labels:
        raise ModelError("labels file holds no class names", path)
    # A blank line keeps its id unnamed (COCO-91 style files leave the unused ids blank); it matches no dataset class.
    return [name or f"class {i}" for i, name in enumerate(labels)]


def is_coco80(labels: tuple[str, ...]) -> bool:
    """True when ``labels`` are COCO's 80 classes in their usual contiguous order."""
    return tuple(normalise(n) for n in labels) == tuple(normalise(n) for n in COCO80)
