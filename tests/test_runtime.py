"""segwb.runtime: host thread limits around inference, and OpenVINO's model cache for repeated compiles."""

from __future__ import annotations

from pathlib import Path

import cv2
from threadpoolctl import threadpool_info

from segwb.predict import compile_model
from segwb.runtime import compiled_cache_dir, single_threaded_host

from tiny_models import write_model


def test_single_threaded_host_limits_opencv_and_blas_then_restores() -> None:
    before_cv, before_blas = cv2.getNumThreads(), [p["num_threads"] for p in threadpool_info()]
    with single_threaded_host():
        assert cv2.getNumThreads() == 1
        assert all(p["num_threads"] == 1 for p in threadpool_info())
    assert cv2.getNumThreads() == before_cv
    assert [p["num_threads"] for p in threadpool_info()] == before_blas


def test_single_threaded_host_restores_after_an_error() -> None:
    before = cv2.getNumThreads()
    try:
        with single_threaded_host():
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert cv2.getNumThreads() == before


def test_cached_compile_writes_the_blob_under_segwb_cache(tmp_path: Path, isolated_cache: Path) -> None:
    xml = write_model(tmp_path)
    compile_model(xml, "f32")
    assert not compiled_cache_dir().exists() or not any(compiled_cache_dir().iterdir())
    compile_model(xml, "f32", cached=True)
    assert compiled_cache_dir().parent == isolated_cache
    assert any(p.suffix == ".blob" for p in compiled_cache_dir().iterdir())
