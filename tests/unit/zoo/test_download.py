"""segwb.zoo.download against a throwaway HTTP server on 127.0.0.1; nothing leaves the machine."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from segwb.core.errors import Cancelled, DownloadError
from segwb.zoo.download import Artifact, cache_dir, fetch, fetch_wheel_member

DATA = bytes(range(256)) * 1024  # 256 KiB: several read chunks, so truncation lands mid-stream
SHA256 = hashlib.sha256(DATA).hexdigest()

Responder = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Server:
    """Routes to answer and the (path, headers) of every request seen."""

    port: int
    routes: dict[str, Responder] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append((self.path, dict(self.headers)))
            respond = state.routes.get(self.path)
            if respond is None:
                self.send_error(404)
            else:
                respond(self)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = httpd.server_port
    # A short poll keeps shutdown() from adding half a second to every test.
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private cache and no mirror, so no test sees ~/.cache or the caller's mirror."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("SEGWB_CACHE", str(folder))
    monkeypatch.delenv("SEGWB_ZOO_MIRROR", raising=False)
    return folder


def serve(data: bytes, *, ranges: bool = True, cuts: list[int] | None = None, content_type: str = "") -> Responder:
    """Serve ``data``, honouring Range if ``ranges``; the n-th response sends only ``cuts[n]`` bytes, then hangs up."""
    cuts = list(cuts or [])

    def respond(handler: BaseHTTPRequestHandler) -> None:
        start = 0
        header = handler.headers.get("Range")
        if ranges and header:
            start = int(header.removeprefix("bytes=").removesuffix("-"))
            if start >= len(data):
                handler.send_error(416)
                return
        body = data[start:]
        handler.send_response(206 if start else 200)
        if start:
            handler.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("Content-Type", content_type or "application/octet-stream")
        handler.end_headers()
        if cuts:
            handler.wfile.write(body[: cuts.pop(0)])
            handler.close_connection = True
        else:
            handler.wfile.write(body)

    return respond


def artifact(url: str, *, digest: str = SHA256, size: int | None = len(DATA)) -> Artifact:
    return Artifact(name="model.tar.gz", url=url, algorithm="sha256", digest=digest, size=size)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_cache_dir_follows_env(cache: Path) -> None:
    assert cache_dir() == cache
    assert cache.is_dir()


def test_good_file_then_cache_hit(server: Server, cache: Path) -> None:
    server.routes["/m"] = serve(DATA)
    path = fetch(artifact(server.url("/m")), progress=False)
    assert path == cache / "model.tar.gz"
    assert path.read_bytes() == DATA
    assert fetch(artifact(server.url("/m")), progress=False) == path
    assert len(server.requests) == 1


def test_progress_bar_goes_to_stderr(server: Server, capsys: pytest.CaptureFixture[str]) -> None:
    server.routes["/m"] = serve(DATA)
    fetch(artifact(server.url("/m")), progress=True)
    out, err = capsys.readouterr()
    assert out == ""
    assert "model.tar.gz" in err


def test_wrong_checksum_leaves_nothing(server: Server, cache: Path) -> None:
    server.routes["/m"] = serve(DATA)
    wrong = "0" * 64
    with pytest.raises(DownloadError) as info:
        fetch(artifact(server.url("/m"), digest=wrong), progress=False)
    message = str(info.value)
    assert server.url("/m") in message and wrong in message and SHA256 in message
    assert "\n" not in message
    assert list(cache.iterdir()) == []


def test_wrong_size_leaves_nothing(server: Server, cache: Path) -> None:
    server.routes["/m"] = serve(DATA)
    with pytest.raises(DownloadError, match="size mismatch"):
        fetch(artifact(server.url("/m"), size=len(DATA) + 1), progress=False)
    assert list(cache.iterdir()) == []


def test_truncated_transfer_resumes_with_range(server: Server) -> None:
    server.routes["/m"] = serve(DATA, cuts=[1000, 70_000])
    path = fetch(artifact(server.url("/m")), progress=False, retries=3)
    assert path.read_bytes() == DATA
    ranges = [headers.get("Range") for _, headers in server.requests]
    assert ranges == [None, "bytes=1000-", "bytes=71000-"]


def test_truncated_transfer_without_range_support_errors(server: Server, cache: Path) -> None:
    server.routes["/m"] = serve(DATA, ranges=False, cuts=[1000, 1000, 1000])
    with pytest.raises(DownloadError, match="ended early 3 times"):
        fetch(artifact(server.url("/m")), progress=False, retries=2)
    assert not (cache / "model.tar.gz").exists()
    assert len(server.requests) == 3


def test_existing_part_is_resumed_with_range(server: Server, cache: Path) -> None:
    cache.mkdir()
    (cache / "model.tar.gz.part").write_bytes(DATA[:5000])
    server.routes["/m"] = serve(DATA)
    path = fetch(artifact(server.url("/m")), progress=False)
    assert path.read_bytes() == DATA
    assert [headers.get("Range") for _, headers in server.requests] == ["bytes=5000-"]
    assert not (cache / "model.tar.gz.part").exists()


def test_cancel_keeps_the_part_and_the_next_fetch_resumes(server: Server, cache: Path) -> None:
    """A cancel between chunks stops with Cancelled; what arrived stays as the part and is resumed, not refetched."""
    server.routes["/m"] = serve(DATA)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled, match="model.tar.gz cancelled"):
        fetch(artifact(server.url("/m")), progress=False, cancel=cancel)
    assert not (cache / "model.tar.gz").exists()
    assert (cache / "model.tar.gz.part").stat().st_size < len(DATA)
    (cache / "model.tar.gz.part").write_bytes(DATA[:5000])  # as if the cancel had come after 5000 bytes
    assert fetch(artifact(server.url("/m")), progress=False).read_bytes() == DATA
    assert [headers.get("Range") for _, headers in server.requests] == [None, "bytes=5000-"]


def test_part_restarted_when_server_ignores_range(server: Server, cache: Path) -> None:
    cache.mkdir()
    (cache / "model.tar.gz.part").write_bytes(b"stale bytes from another file")
    server.routes["/m"] = serve(DATA, ranges=False)
    assert fetch(artifact(server.url("/m")), progress=False).read_bytes() == DATA


def test_part_discarded_on_416(server: Server, cache: Path) -> None:
    cache.mkdir()
    (cache / "model.tar.gz.part").write_bytes(DATA + b"extra")
    server.routes["/m"] = serve(DATA)
    # Without a known size the client cannot tell the part is too long; the server's 416 tells it.
    assert fetch(artifact(server.url("/m"), size=None), progress=False).read_bytes() == DATA
    assert [headers.get("Range") for _, headers in server.requests] == [f"bytes={len(DATA) + 5}-", None]


def test_part_larger_than_size_discarded(server: Server, cache: Path) -> None:
    cache.mkdir()
    (cache / "model.tar.gz.part").write_bytes(DATA + b"extra")
    server.routes["/m"] = serve(DATA)
    assert fetch(artifact(server.url("/m")), progress=False).read_bytes() == DATA
    assert [headers.get("Range") for _, headers in server.requests] == [None]


def test_corrupt_cache_entry_is_fetched_again(server: Server, cache: Path) -> None:
    cache.mkdir()
    (cache / "model.tar.gz").write_bytes(b"corrupt")
    server.routes["/m"] = serve(DATA)
    assert fetch(artifact(server.url("/m")), progress=False).read_bytes() == DATA
    assert len(server.requests) == 1


def test_server_error(server: Server, cache: Path) -> None:
    server.routes["/m"] = lambda handler: handler.send_error(500)
    with pytest.raises(DownloadError) as info:
        fetch(artifact(server.url("/m")), progress=False)
    assert "500" in str(info.value) and server.url("/m") in str(info.value)
    assert list(cache.iterdir()) == []


def test_not_found(server: Server) -> None:
    with pytest.raises(DownloadError, match="404"):
        fetch(artifact(server.url("/missing")), progress=False)


def test_unreachable_host_says_offline() -> None:
    with pytest.raises(DownloadError) as info:
        fetch(artifact(f"http://127.0.0.1:{closed_port()}/m"), progress=False, timeout=5)
    message = str(info.value)
    assert "offline" in message and "model.tar.gz" in message and "SEGWB_ZOO_MIRROR" in message
    assert "\n" not in message


def test_mirror_good(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "model.tar.gz").write_bytes(DATA)
    monkeypatch.setenv("SEGWB_ZOO_MIRROR", str(mirror))
    path = fetch(artifact(f"http://127.0.0.1:{closed_port()}/m"), progress=False)
    assert path == cache / "model.tar.gz"
    assert path.read_bytes() == DATA


def test_mirror_bad(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "model.tar.gz").write_bytes(DATA[:-1])
    monkeypatch.setenv("SEGWB_ZOO_MIRROR", str(mirror))
    with pytest.raises(DownloadError) as info:
        fetch(artifact(f"http://127.0.0.1:{closed_port()}/m"), progress=False)
    assert str(mirror / "model.tar.gz") in str(info.value)
    assert not (cache / "model.tar.gz").exists()


def test_unsupported_algorithm() -> None:
    with pytest.raises(ValueError, match="md5"):
        Artifact(name="x", url="http://127.0.0.1/x", algorithm="md5", digest="0")


# --- fetch_wheel_member: a PEP 503 index served by the test server, read by a real pip ---

MEMBER = "fakepkg/model.tflite"
MEMBER_DATA = b"tiny model bytes"
MEMBER_SHA384 = hashlib.sha384(MEMBER_DATA).hexdigest()
WHEEL_NAME = "fakepkg-1.0-py3-none-any.whl"


def make_wheel() -> bytes:
    """A wheel pip accepts: pip reads dist-info METADATA and WHEEL even for ``download --no-deps``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr(MEMBER, MEMBER_DATA)
        archive.writestr("fakepkg-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: fakepkg\nVersion: 1.0\n")
        archive.writestr(
            "fakepkg-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        archive.writestr("fakepkg-1.0.dist-info/RECORD", "")
    return buf.getvalue()


@pytest.fixture
def index(server: Server, monkeypatch: pytest.MonkeyPatch) -> Server:
    """Serve fakepkg from a simple index and point an isolated pip at it."""
    wheel = make_wheel()
    link = f'<a href="/files/{WHEEL_NAME}#sha256={hashlib.sha256(wheel).hexdigest()}">{WHEEL_NAME}</a>'
    server.routes["/simple/fakepkg/"] = serve(f"<html><body>{link}</body></html>".encode(), content_type="text/html")
    server.routes[f"/files/{WHEEL_NAME}"] = serve(wheel)
    # This machine's pip config adds extra indexes and find-links; keep pip to our index only.
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    monkeypatch.delenv("PIP_EXTRA_INDEX_URL", raising=False)
    monkeypatch.setenv("PIP_INDEX_URL", server.url("/simple"))
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    return server


def test_wheel_member_via_pip_then_cache(index: Server, cache: Path) -> None:
    path = fetch_wheel_member("fakepkg==1.0", MEMBER, "fake.tflite", "sha384", MEMBER_SHA384, progress=False)
    assert path == cache / "fake.tflite"
    assert path.read_bytes() == MEMBER_DATA
    seen = len(index.requests)
    assert f"/files/{WHEEL_NAME}" in [p for p, _ in index.requests]
    assert fetch_wheel_member("fakepkg==1.0", MEMBER, "fake.tflite", "sha384", MEMBER_SHA384, progress=False) == path
    assert len(index.requests) == seen
    assert sorted(p.name for p in cache.iterdir()) == ["fake.tflite"]


def test_wheel_member_cancel_stops_pip(index: Server, cache: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled, match="fakepkg==1.0 cancelled"):
        fetch_wheel_member("fakepkg==1.0", MEMBER, "fake.tflite", "sha384", MEMBER_SHA384, progress=False, cancel=cancel)
    assert list(cache.iterdir()) == []


def test_wheel_member_wrong_checksum(index: Server, cache: Path) -> None:
    with pytest.raises(DownloadError, match="checksum mismatch for fakepkg/model.tflite"):
        fetch_wheel_member("fakepkg", MEMBER, "fake.tflite", "sha384", "0" * 96, progress=False)
    assert list(cache.iterdir()) == []


def test_wheel_member_missing(index: Server) -> None:
    with pytest.raises(DownloadError, match="has no file fakepkg/absent.bin"):
        fetch_wheel_member("fakepkg", "fakepkg/absent.bin", "absent.bin", "sha384", MEMBER_SHA384, progress=False)


def test_wheel_member_pip_failure_quotes_pip(index: Server) -> None:
    with pytest.raises(DownloadError) as info:
        fetch_wheel_member("fakepkg==2.0", MEMBER, "fake.tflite", "sha384", MEMBER_SHA384, progress=False)
    message = str(info.value)
    assert "pip could not download fakepkg==2.0" in message and "No matching distribution" in message
    assert "\n" not in message


def test_wheel_member_from_mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "fake.tflite").write_bytes(MEMBER_DATA)
    monkeypatch.setenv("SEGWB_ZOO_MIRROR", str(mirror))
    # An unreachable index proves pip never runs.
    monkeypatch.setenv("PIP_INDEX_URL", f"http://127.0.0.1:{closed_port()}/simple")
    path = fetch_wheel_member("fakepkg", MEMBER, "fake.tflite", "sha384", MEMBER_SHA384, progress=False)
    assert path == cache / "fake.tflite" and path.read_bytes() == MEMBER_DATA
