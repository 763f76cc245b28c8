"""Decompression bombs written without ever holding their pixels: tiny files that decode to gigabytes."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(path: Path, width: int = 30000, height: int | None = None) -> Path:
    """A valid 1-bit greyscale PNG of ``width`` x ``height`` zeros, streamed row by row so that building it needs no
    memory: 30000² (900 MP) compresses to about 110 kB and decodes to 0.9 GB, 2.7 GB as BGR."""
    height = height or width
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte "none" + packed bits
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", body)
                     + png_chunk(b"IEND", b""))
    return path
