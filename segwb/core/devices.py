"""The OpenVINO device a run uses: ``--device`` checked in one place against the devices this machine has, and the
full names the dashboard lists and the report records."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from .compile import DEFAULT_DEVICE, core
from .errors import SegwbError

AUTO = "AUTO"
# Devices that run a model on other devices: AUTO alone picks among this machine's; all three take a list of them.
VIRTUAL = (AUTO, "MULTI", "HETERO")
NAME = re.compile(r"[A-Z][A-Z0-9_]*(\.[0-9]+)?")  # CPU, GPU, GPU.1, NPU: as OpenVINO spells them (case matters)
PLAIN = re.compile(r"[\w.]+(:[\w.]+(,[\w.]+)*)?")  # a spec an error message can show unquoted


def device_names() -> dict[str, str]:
    """This machine's devices with their full names (``FULL_DEVICE_NAME``), e.g. ``{"CPU": "Intel(R) Xeon(R) ..."}``."""
    return {device: full_name(device) for device in core().available_devices}


def full_name(device: str) -> str:
    """A physical device's full name, or the device itself when its plugin does not say."""
    try:
        return str(core().get_property(device, "FULL_DEVICE_NAME"))
    except RuntimeError:  # a plugin without the property: the short name is still a name
        return device


def device_choices() -> list[tuple[str, str]]:
    """(label, device) for a picker: this machine's devices with their full names, then AUTO."""
    names = device_names()
    return [(f"{device} ({name})", device) for device, name in names.items()] + [
        (f"{AUTO} (OpenVINO picks among {', '.join(names)})", AUTO)]


def check_device(spec: str) -> str:
    """``spec`` when it names devices of this machine: one of them, ``AUTO``, or ``AUTO:``/``MULTI:``/``HETERO:`` and a
    comma list of them; else a one-line :class:`SegwbError` that lists the devices there are."""
    if not isinstance(spec, str) or not spec or not spec.isprintable() or spec.strip() != spec:
        raise SegwbError(f"--device must name an OpenVINO device, e.g. CPU or AUTO, got {spec!r}")
    head, colon, rest = spec.partition(":")
    flag = f"--device {spec if PLAIN.fullmatch(spec) else repr(spec)}"  # quoted when its end or gaps would not show
    if head in VIRTUAL and colon:
        listed = rest.split(",")
        if not rest:
            raise SegwbError(f"{flag}: lists no devices; e.g. {head}:{DEFAULT_DEVICE}")
    elif head == AUTO:
        return spec
    elif head in VIRTUAL:
        raise SegwbError(f"{flag}: needs the devices to use, e.g. {head}:{DEFAULT_DEVICE}")
    elif colon:
        raise SegwbError(f"{flag}: only {', '.join(VIRTUAL)} take a list of devices after ':'")
    else:
        listed = [spec]
    for device in listed:
        if colon and device.upper().split(".")[0] in VIRTUAL:
            raise SegwbError(f"{flag}: {device} runs on other devices; list the devices themselves, e.g. {DEFAULT_DEVICE}")
        if not NAME.fullmatch(device.upper()):
            raise SegwbError(f"{flag}: {device!r} is not a device name (e.g. CPU, GPU.1)")
    if len(set(listed)) < len(listed):
        raise SegwbError(f"{flag}: names a device twice")
    available = list(core().available_devices)
    missing = [device for device in listed if not _present(device, available)]
    if missing:
        hint = [d for d in (*available, *VIRTUAL) if d.upper() == missing[0].upper()]
        raise SegwbError(f"{flag}: {'' if spec == missing[0] else ', '.join(missing) + ' '}not on this machine"
                         f"{f' (did you mean {hint[0]}?)' if hint else ''}; available: {_available_text()}")
    return spec


def _present(device: str, available: Sequence[str]) -> bool:
    """GPU matches GPU.0 and GPU.1: OpenVINO numbers the devices of a kind when there are several, and takes the
    plain name for the first (the CPU plugin refuses CPU.0, so a lone device's number is not made up)."""
    return any(device in (have, have.split(".")[0]) for have in available)


def _available_text() -> str:
    return ", ".join([f"{device} ({name})" for device, name in device_names().items()] + [AUTO])


def device_name(spec: str, executing: Sequence[str]) -> str:
    """The full name a record keeps: a physical device's own, or for AUTO, MULTI and HETERO the devices the compiled
    model ran on (its ``EXECUTION_DEVICES``), e.g. ``"executed on CPU: Intel(R) Xeon(R) ..."``."""
    if spec.partition(":")[0] not in VIRTUAL:
        return full_name(spec)
    return "executed on " + (", ".join(f"{device}: {full_name(device)}" for device in executing) or "no device reported")


def execution_devices(properties: Mapping[str, str]) -> list[str]:
    """The devices a run's compiled properties (:func:`segwb.core.compile.compiled_properties`) say it ran on."""
    return [d for d in properties.get("EXECUTION_DEVICES", "").split(",") if d]


def device_label(record: Mapping[str, Any]) -> str:
    """How a report names its device: ``"CPU (Intel(R) Xeon(R) ...)"``; records from before device names: ``"CPU"``."""
    device = str(record.get("device") or DEFAULT_DEVICE)
    name = record.get("device_name")
    return f"{device} ({name})" if name and name != device else device
