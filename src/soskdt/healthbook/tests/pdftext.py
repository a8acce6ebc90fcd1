"""Just enough PDF reading for tests (pypdf is not a dependency): objects, fonts, and the text shown.

Handles what fpdf2 writes: FlateDecode streams, Type0 fonts with a ToUnicode CMap of ``bfchar``/``bfrange``
entries, and 2-byte codes in literal or hex strings shown with ``Tj``/``TJ``.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

_OBJ_START_RE = re.compile(rb"(\d+) 0 obj\s*")
_HEAD_END_RE = re.compile(rb"stream\r?\n|endobj")
_LENGTH_RE = re.compile(rb"/Length\s+(\d+)(\s+0\s+R)?")
_ESCAPES = {
    b"n": b"\n",
    b"r": b"\r",
    b"t": b"\t",
    b"b": b"\b",
    b"f": b"\f",
    b"(": b"(",
    b")": b")",
    b"\\": b"\\",
}


@dataclass
class Pdf:
    objects: dict[int, bytes]
    streams: dict[int, bytes]

    def obj(self, ref: int) -> bytes:
        return self.objects[ref]


def parse(data: bytes) -> Pdf:
    """Read the objects in file order; a stream's bytes are taken by its ``/Length``, never by searching
    for ``endstream`` (compressed bytes may contain it, or end in a carriage return)."""
    objects: dict[int, bytes] = {}
    raw_streams: dict[int, tuple[bytes, bytes]] = {}
    pos = 0
    while match := _OBJ_START_RE.search(data, pos):
        ref, start = int(match.group(1)), match.end()
        end = _HEAD_END_RE.search(data, start)
        if end is None:
            break
        head = data[start : end.start()].rstrip()
        objects[ref] = head
        pos = end.end()
        if end.group(0).startswith(b"stream"):
            length = _LENGTH_RE.search(head)
            assert length is not None and not length.group(2), "fpdf2 writes direct stream lengths"
            size = int(length.group(1))
            raw_streams[ref] = (head, data[pos : pos + size])
            pos = data.index(b"endobj", pos + size) + len(b"endobj")
    streams = {
        ref: zlib.decompress(raw) if b"FlateDecode" in head else raw
        for ref, (head, raw) in raw_streams.items()
    }
    return Pdf(objects, streams)


def _cmap(text: bytes) -> dict[int, str]:
    mapping: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", text, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            mapping[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", text, re.S):
        for lo, hi, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            start = int(dst, 16)
            for offset, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                mapping[code] = chr(start + offset)
    return mapping


def font_maps(pdf: Pdf) -> dict[bytes, dict[int, str]]:
    """Font resource name (``/F1``) → code → text, from each font's ToUnicode CMap."""
    maps: dict[bytes, dict[int, str]] = {}
    for body in pdf.objects.values():
        for name, ref in re.findall(rb"/(F\d+)\s+(\d+) 0 R", body):
            font = pdf.objects.get(int(ref), b"")
            to_unicode = re.search(rb"/ToUnicode\s+(\d+) 0 R", font)
            if to_unicode:
                maps[name] = _cmap(pdf.streams[int(to_unicode.group(1))])
    return maps


def _literal(data: bytes, start: int) -> tuple[bytes, int]:
    out, depth, i = bytearray(), 1, start
    while i < len(data):
        ch = data[i : i + 1]
        if ch == b"\\":
            nxt = data[i + 1 : i + 2]
            if nxt in _ESCAPES:
                out += _ESCAPES[nxt]
                i += 2
                continue
            octal = re.match(rb"[0-7]{1,3}", data[i + 1 : i + 4])
            if octal:
                out.append(int(octal.group(), 8))
                i += 1 + len(octal.group())
                continue
            i += 2
            continue
        if ch == b"(":
            depth += 1
        elif ch == b")":
            depth -= 1
            if depth == 0:
                return bytes(out), i + 1
        out += ch
        i += 1
    return bytes(out), i


def page_texts(data: bytes) -> list[str]:
    """The text shown on each page, in content order, one line per ``Tj``."""
    pdf = parse(data)
    maps = font_maps(pdf)
    pages = []
    for body in pdf.objects.values():
        if re.search(rb"/Type\s*/Page\b", body):
            contents = re.search(rb"/Contents\s+(\d+) 0 R", body)
            if contents:
                pages.append(_show(pdf.streams[int(contents.group(1))], maps))
    return pages


def _show(content: bytes, maps: dict[bytes, dict[int, str]]) -> str:
    lines: list[str] = []
    font: dict[int, str] = {}
    i = 0
    token = re.compile(rb"/(F\d+)\s+[\d.]+\s+Tf|\(|<([0-9A-Fa-f]+)>")
    while True:
        match = token.search(content, i)
        if not match:
            break
        if match.group(1):
            font = maps.get(match.group(1), {})
            i = match.end()
            continue
        if match.group(0) == b"(":
            raw, i = _literal(content, match.end())
        else:
            raw, i = bytes.fromhex(match.group(2).decode()), match.end()
        codes = [int.from_bytes(raw[k : k + 2], "big") for k in range(0, len(raw) - 1, 2)]
        lines.append("".join(font.get(code, "") for code in codes))
    return "\n".join(lines)
