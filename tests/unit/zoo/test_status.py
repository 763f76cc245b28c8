"""Zoo status: cached / downloadable / unavailable and why; the network is probed only on request (locally here)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from dashboard_helpers import free_port

from segwb.zoo import catalog as zoo
from segwb.zoo.status import status, zoo_status


class _Ok(BaseHTTPRequestHandler):
    def do_HEAD(self) -> None:  # noqa: N802 (http.server's naming)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def local_server():
    server = HTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/file"
    server.shutdown()
    server.server_close()


def test_every_entry_is_listed_without_network(isolated_cache: Path) -> None:
    rows = zoo_status()
    assert [r.name for r in rows] == list(zoo.ENTRIES)
    assert all(r.state == "downloadable" and "not checked yet" in r.reason for r in rows)


def test_cached_when_the_files_are_there(isolated_cache: Path) -> None:
    (isolated_cache / "selfie_segmentation.tflite").parent.mkdir(parents=True, exist_ok=True)
    (isolated_cache / "selfie_segmentation.tflite").write_bytes(b"x")
    (isolated_cache / "deeplabv3").mkdir()
    (isolated_cache / "deeplabv3" / "deeplabv3.xml").write_text("<net/>")
    states = {r.name: r.state for r in zoo_status()}
    assert states["selfie-segmentation"] == "cached"
    assert states["deeplabv3"] == "downloadable"  # the .bin is missing


def test_mirror_counts_as_downloadable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEGWB_ZOO_MIRROR", str(tmp_path))
    (tmp_path / "selfie_segmentation.tflite").write_bytes(b"x")
    row = status("selfie-segmentation", check_network=True, urls={"selfie-segmentation": "http://127.0.0.1:9/"})
    assert row.state == "downloadable" and "mirror" in row.reason


def test_probe_reachable_and_unreachable(local_server: str) -> None:
    reachable = status("deeplabv3", check_network=True, urls={"deeplabv3": local_server})
    assert reachable.state == "downloadable" and "reachable" in reachable.reason
    closed = f"http://127.0.0.1:{free_port()}/file"
    gone = status("deeplabv3", check_network=True, timeout=2, urls={"deeplabv3": closed})
    assert gone.state == "unavailable" and "cannot reach 127.0.0.1" in gone.reason and "\n" not in gone.reason
