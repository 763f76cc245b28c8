"""segwb.core.compile and cache: the compile settings of a run, what the compiled model reports, and OpenVINO's
model cache under $SEGWB_CACHE for repeated compiles."""

from __future__ import annotations

from pathlib import Path

from tiny_models import write_model

from segwb.core.cache import cache_dir, compiled_cache_dir
from segwb.core.compile import (
    REPORTED_PROPERTIES,
    compile_config,
    compile_model,
    compiled_properties,
)


def test_compile_config_pins_precision_only_when_asked() -> None:
    assert compile_config(None) == {"PERFORMANCE_HINT": "THROUGHPUT"}
    assert compile_config("f32", "LATENCY") == {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"}


def test_compiled_properties_are_read_back(tmp_path: Path) -> None:
    """The precision the plugin runs at, as the compiled model says it (not what was asked), as text."""
    props = compiled_properties(compile_model(write_model(tmp_path), "f32", "LATENCY"))
    assert props["INFERENCE_PRECISION_HINT"] == "f32" and props["PERFORMANCE_HINT"] == "LATENCY"
    assert set(props) <= set(REPORTED_PROPERTIES) and all(isinstance(v, str) for v in props.values())


def test_cached_compile_writes_the_blob_under_segwb_cache(tmp_path: Path, isolated_cache: Path) -> None:
    xml = write_model(tmp_path)
    compile_model(xml, "f32")
    assert not compiled_cache_dir().exists() or not any(compiled_cache_dir().iterdir())
    compile_model(xml, "f32", cached=True)
    assert compiled_cache_dir().parent == isolated_cache == cache_dir()
    assert any(p.suffix == ".blob" for p in compiled_cache_dir().iterdir())
