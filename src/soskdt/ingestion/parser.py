"""Read a QĐ 130 envelope (GIAMDINHHS) HOSO by HOSO, in bounded memory, refusing hostile XML.

``iter_visits(source, file_name=..., limits=...)`` yields, in file order:

* ``ParsedVisit`` for every HOSO whose inner documents could be read (nothing is checked yet: see validation);
* ``Problem`` for a HOSO that could not be read (bad base64, inner DOCTYPE, wrong inner root …): no visit is
  yielded for it, ``extra["index"]`` is its 1-based position and ``record`` its MA_LK when XML1 was readable;
* ``FileProblem`` for the whole file (empty, not XML, DOCTYPE, truncated …). Errors of this kind stop the
  iteration, except ENVELOPE_FACILITY_* (reported, reading goes on) and ENVELOPE_NO_VISITS (at the end);
  warnings (ENVELOPE_COUNT_MISMATCH, ENVELOPE_DATE_INVALID, at the end) never stop it.

With ``hand_off``, the HOSO that ``only`` leaves out are not skipped but given, as ``RawHoso`` (their FILEHOSO as
text), to a callable: another process finishes them with ``read_hoso`` exactly as ``iter_visits`` would, without
reading the file itself.

No exception escapes. Hardening: lxml with ``resolve_entities=False, no_network=True, load_dtd=False,
dtd_validation=False, huge_tree=False``; any DOCTYPE refuses the file (outer) or the visit (inner document);
size, depth, HOSO and row limits come from ``ParserLimits`` (settings ``SOSKDT["INGEST_LIMITS"]``).
"""

from __future__ import annotations

import binascii
import datetime as dt
import functools
import io
import os
import re
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, fields, replace
from typing import IO, Any, TypeAlias

from lxml import etree

from soskdt.core.errors import Problem
from soskdt.core.identifiers import IdentifierError, parse_facility_code
from soskdt.ingestion import errors as E
from soskdt.ingestion.catalogue import TableSpec, load_catalogue
from soskdt.ingestion.records import EnvelopeInfo, FileProblem, ParsedVisit

Source = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes]

READ_CHUNK = 256 * 1024
_BOM = b"\xef\xbb\xbf"
_TABLE_TYPE_RE = re.compile(r"^XML[0-9]{1,2}$")
_XML_DECLARATION_RE = re.compile(r"^\s*<\?xml[^>]*\?>")
_DOCTYPE = b"<!DOCTYPE"
# libxml2 errors that, at the very end of the input, mean "the file stops in the middle".
_END_OF_INPUT_CODES = frozenset({4, 5, 9, 23, 34, 38, 39, 40, 41, 43, 45, 46, 63, 65, 68, 73, 74, 76, 77})
_PREMATURE_END = 77  # XML_ERR_TAG_NOT_FINISHED: "Premature end of data in tag …"
_RESOURCE_LIMIT = 114  # XML_ERR_RESOURCE_LIMIT (text node too long, depth …) without huge_tree


@dataclass(frozen=True, slots=True)
class ParserLimits:
    """Bounds on what one file may cost; override with ``settings.SOSKDT["INGEST_LIMITS"]`` (same names)."""

    max_file_bytes: int = 2 * 1024**3
    max_inner_bytes: int = 50 * 1024**2
    max_depth: int = 64
    max_visits: int = 200_000
    max_rows_per_table: int = 20_000

    @classmethod
    def from_settings(cls) -> ParserLimits:
        """Return the defaults updated with ``settings.SOSKDT["INGEST_LIMITS"]`` when Django is configured."""
        try:
            from django.conf import settings

            overrides = (getattr(settings, "SOSKDT", None) or {}).get("INGEST_LIMITS") or {}
        except Exception:  # settings not configured: plain-Python use (bench, scripts)
            overrides = {}
        names = {f.name for f in fields(cls)}
        return replace(cls(), **{k: int(v) for k, v in overrides.items() if k in names})


def _hardened_options() -> dict[str, Any]:
    return {
        "resolve_entities": False,
        "no_network": True,
        "load_dtd": False,
        "dtd_validation": False,
        "huge_tree": False,
        "remove_comments": True,
        "remove_pis": True,
    }


class _Fatal(Exception):
    """Stop reading the file with this problem."""

    def __init__(self, problem: FileProblem) -> None:
        super().__init__(problem.code)
        self.problem = problem


class _HandOffFailed(Exception):
    """``hand_off`` raised ``error``: it goes to the caller as it is."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(repr(error))
        self.error = error


class _Reader:
    """File-like wrapper handed to lxml: counts bytes, refuses DOCTYPE, remembers where the input ended."""

    __slots__ = (
        "_raw",
        "_pending",
        "_limit",
        "_tail",
        "_recent",
        "size",
        "eof",
        "too_large",
        "doctype",
        "lines",
        "last_line_bytes",
    )

    def __init__(self, raw: IO[bytes], first: bytes, limit: int) -> None:
        self._raw = raw
        self._pending = first
        self._limit = limit
        self._tail = b""
        self._recent: tuple[bytes, bytes] = (b"", b"")
        self.size = 0
        self.eof = False
        self.too_large = False
        self.doctype = False
        self.lines = 0
        self.last_line_bytes = 0

    def read(self, n: int = -1) -> bytes:
        if self.eof:
            return b""
        if self._pending:
            chunk, self._pending = self._pending, b""
        else:
            chunk = self._raw.read(n if n and n > 0 else READ_CHUNK)
        if not chunk:
            self.eof = True
            return b""
        self.size += len(chunk)
        if self.size > self._limit:
            self.too_large = True
            self.eof = True
            return b""
        if _DOCTYPE in chunk or _DOCTYPE in self._tail + chunk[:16]:
            # Refused before lxml sees it, so no DTD (internal subset, entities) is ever parsed.
            self.doctype = True
            self.eof = True
            return b""
        self._tail = chunk[-16:]
        newlines = chunk.count(b"\n")
        if newlines:
            self.lines += newlines
            self.last_line_bytes = len(chunk) - chunk.rfind(b"\n") - 1
        else:
            self.last_line_bytes += len(chunk)
        self._recent = (self._recent[1], chunk)
        return chunk

    def ends_at(self, line: int, column: int) -> bool:
        """Tell whether libxml2's error position (1-based line, column in characters) is the end of the input."""
        if line != self.lines + 1:
            return False
        recent = self._recent[0] + self._recent[1]
        tail = recent[len(recent) - self.last_line_bytes :] if self.last_line_bytes <= len(recent) else recent
        # Characters of the last line; bytes before the retained tail are counted as one character each.
        chars = len(tail.decode("utf-8", "ignore")) + max(0, self.last_line_bytes - len(tail))
        return column >= chars - 2


def _local(tag: Any) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2] if tag[:1] == "{" else tag


_ENVELOPE_TAGS = ("{*}HOSO", "{*}MACSKCB", "{*}NGAYLAP", "{*}SOLUONGHOSO", "{*}CHUKYDONVI")
_PROLOG_ROOT_RE = re.compile(rb"\A(?:\s+|<\?.*?\?>|<!--.*?-->)*<([^\s/>!?]+)", re.S)


def _prolog_root(first: bytes) -> str | None:
    """Name of the root element read from the first bytes, or None if it cannot be told from them."""
    head = first[:65536]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", "ignore").encode("utf-8")
    match = _PROLOG_ROOT_RE.match(head.removeprefix(_BOM))
    return _local(match.group(1).decode("utf-8", "replace")) if match else None


@dataclass(frozen=True, slots=True)
class RawHoso:
    """A HOSO as one process read it from the envelope, for another to finish with ``read_hoso``.

    ``files`` holds its FILEHOSO in order as (LOAIHOSO as read, whether there is a NOIDUNGFILE, its text).
    ``facility_code`` is the envelope's MACSKCB and ``index`` the HOSO's 1-based position in the file.
    """

    index: int
    facility_code: str | None
    files: tuple[tuple[str, bool, str | None], ...]


class _Text:
    """A NOIDUNGFILE handed over as text: all of the element that reading a text inner document looks at."""

    __slots__ = ("text",)

    def __init__(self, text: str | None) -> None:
        self.text = text


_Content: TypeAlias = etree._Element | _Text


def _files_of(hoso: etree._Element) -> list[tuple[str, etree._Element | None]]:
    """The (LOAIHOSO, NOIDUNGFILE element or None) of every FILEHOSO of a HOSO, in order."""
    files: list[tuple[str, etree._Element | None]] = []
    for filehoso in hoso:
        if _local(filehoso.tag) != "FILEHOSO":
            continue
        kind = ""
        content = None
        for child in filehoso:
            name = _local(child.tag)
            if name == "LOAIHOSO":
                kind = (child.text or "").strip().upper()
            elif name == "NOIDUNGFILE":
                content = child
        files.append((kind, content))
    return files


class _HosoReader:
    """Reads the FILEHOSO of one HOSO into a ``ParsedVisit``, or the problems that refuse it."""

    def __init__(self, file_name: str, limits: ParserLimits) -> None:
        self.file_name = file_name
        self.limits = limits
        self._inner_parser = etree.XMLParser(remove_blank_text=True, collect_ids=False, **_hardened_options())
        cat = load_catalogue()
        self._tables = cat.tables
        self._by_root = cat.by_root
        self._count_elements = etree.XPath("count(descendant-or-self::*)")
        self._depth_checks: dict[int, etree.XPath] = {}

    def _too_deep(self, element: etree._Element, depth: int) -> bool:
        """Tell whether anything under ``element`` (itself at ``depth``, 1-based) is deeper than the limit."""
        steps = self.limits.max_depth - depth + 1
        if steps <= 0:
            return True
        check = self._depth_checks.get(steps)
        if check is None:
            # "*/*/…/*" with ``steps`` steps selects the elements ``steps`` levels below: evaluated in C.
            check = self._depth_checks[steps] = etree.XPath("boolean(" + "/".join(["*"] * steps) + ")")
        return bool(check(element))

    # --- one HOSO ----------------------------------------------------------------------------------------------
    def _hoso(
        self,
        files: Callable[[], Sequence[tuple[str, _Content | None]]],
        index: int,
        facility_code: str | None,
    ) -> list[ParsedVisit | Problem]:
        try:
            return self._read_hoso(files(), index, facility_code)
        except Exception as exc:  # a bug must not lose the other visits of the file
            return [
                E.make_problem(
                    E.HOSO_UNREADABLE, file=self.file_name, extra={"index": index, "reason": repr(exc)[:200]}
                )
            ]

    def _read_hoso(
        self, files: Sequence[tuple[str, _Content | None]], index: int, facility_code: str | None
    ) -> list[ParsedVisit | Problem]:
        visit = ParsedVisit(file=self.file_name, index=index, facility_code=facility_code, ma_lk=None)
        refusals: list[Problem] = []
        for kind, content in files:
            refusal = self._read_table(visit, kind, content, index)
            if refusal is not None:
                refusals.append(refusal)
        xml1 = visit.tables.get("XML1")
        if xml1:
            visit.ma_lk = xml1[0].get("MA_LK") or None
        if refusals:
            for problem in refusals:
                problem.record = visit.ma_lk
            return list(refusals)
        for problem in visit.problems:
            problem.record = visit.ma_lk
        return [visit]

    def _refuse(self, code: str, table: str, index: int, **kw: Any) -> Problem:
        extra = {"index": index, **kw.pop("extra", {})}
        return E.make_problem(code, file=self.file_name, table=table or None, extra=extra, **kw)

    def _inner_bytes(self, content: _Content, label: str, index: int) -> bytes | Problem:
        """The inner document of a text NOIDUNGFILE (base64, or XML as escaped text/CDATA) as bytes."""
        limits = self.limits
        raw = content.text
        source = raw.strip() if raw else ""
        if source[:1] == "\ufeff":
            source = source[1:].lstrip()
        if not source:
            return self._refuse(E.INNER_EMPTY, label, index)
        if source[0] == "<":
            if len(source) > limits.max_inner_bytes:
                return self._refuse(E.INNER_TOO_LARGE, label, index, limit=limits.max_inner_bytes)
            if "<!DOCTYPE" in source:
                return self._refuse(E.INNER_DTD_FORBIDDEN, label, index)
            return _XML_DECLARATION_RE.sub("", source, count=1).encode("utf-8")
        # Checked before decoding so that a base64 bomb never reaches memory.
        if len(source) * 3 // 4 > limits.max_inner_bytes:
            return self._refuse(E.INNER_TOO_LARGE, label, index, limit=limits.max_inner_bytes)
        try:
            data = _b64decode(source)
        except ValueError:
            return self._refuse(E.INNER_BASE64_INVALID, label, index)
        if len(data) > limits.max_inner_bytes:
            return self._refuse(E.INNER_TOO_LARGE, label, index, limit=limits.max_inner_bytes)
        if _DOCTYPE in data:
            return self._refuse(E.INNER_DTD_FORBIDDEN, label, index)
        return data

    def _read_table(
        self, visit: ParsedVisit, kind: str, content: _Content | None, index: int
    ) -> Problem | None:
        limits = self.limits
        label = kind or "?"
        if content is None:
            return self._refuse(E.INNER_EMPTY, label, index)
        data: bytes | None = None
        root: etree._Element
        if isinstance(content, etree._Element) and len(content):
            root = content[0]  # embedded un-encoded: depth already checked with the HOSO
        else:
            decoded = self._inner_bytes(content, label, index)
            if isinstance(decoded, Problem):
                return decoded
            data = decoded
            try:
                root = etree.fromstring(data, self._inner_parser)
            except etree.XMLSyntaxError as exc:
                code = (
                    E.INNER_TOO_DEEP
                    if exc.code == _RESOURCE_LIMIT and "depth" in str(exc.msg).lower()
                    else E.INNER_NOT_XML
                )
                return self._refuse(
                    code, label, index, limit=limits.max_depth, extra={"reason": str(exc.msg)[:200]}
                )
            if root.getroottree().docinfo.doctype:
                return self._refuse(E.INNER_DTD_FORBIDDEN, label, index)
        tag = root.tag
        ns = tag[:1] == "{"
        root_name = tag.rpartition("}")[2] if ns else tag

        spec: TableSpec | None = None
        if _TABLE_TYPE_RE.match(kind):
            spec = self._tables.get(kind)
            if spec is not None and spec.inner_root and root_name != spec.inner_root:
                return self._refuse(
                    E.INNER_ROOT_INVALID, kind, index, value=root_name[:100], expected=spec.inner_root
                )
        else:
            spec = self._by_root.get(root_name)
            if spec is None:
                return self._refuse(E.FILEHOSO_TYPE_INVALID, label, index, value=kind[:50])
            visit.problems.append(
                E.make_problem(
                    E.FILEHOSO_TYPE_INFERRED, file=self.file_name, table=spec.name, value=kind[:50]
                )
            )
            kind = spec.name

        if spec is None or not spec.has_rows:
            if data is not None and self._too_deep(root, 1):
                return self._refuse(E.INNER_TOO_DEEP, kind, index, limit=limits.max_depth)
            text = _text_of(data) if data is not None else etree.tostring(root, encoding="unicode")
            list_tags = frozenset({spec.record_element} if spec is not None and spec.record_element else ())
            document = {"root": root_name, "data": _data(root, list_tags), "text": text}
            key = kind
            n = 1
            while key in visit.raw_documents:
                n += 1
                key = f"{kind}.{n}"
            visit.raw_documents[key] = document
            return None

        if spec.single_record:
            records = [root]
            seen = 1
        else:
            record_tag = spec.record_element or ""
            records = list(root.iter("{*}" + record_tag if ns else record_tag))
            seen = 1 + len(records) + (1 if spec.list_container else 0)
        rows = visit.tables.get(kind)
        if rows is None:
            rows = visit.tables[kind] = []
        if len(rows) + len(records) > limits.max_rows_per_table:
            return self._refuse(E.TABLE_TOO_MANY_ROWS, kind, index, limit=limits.max_rows_per_table)
        position = len(rows)
        for record in records:
            position += 1
            if ns:
                row = {_local(c.tag): (c.text or "").strip() for c in record if isinstance(c.tag, str)}
            else:
                row = {c.tag: (c.text or "").strip() for c in record}
            count = len(record)
            seen += count
            if len(row) != count:
                self._note_repeats(visit, kind, position, record, ns)
            rows.append(row)
        # More elements than the ones read means content below the field level: check how deep it goes.
        if data is not None and self._count_elements(root) > seen and self._too_deep(root, 1):
            del rows[len(rows) - len(records) :]
            return self._refuse(E.INNER_TOO_DEEP, kind, index, limit=limits.max_depth)
        return None

    def _note_repeats(
        self, visit: ParsedVisit, table: str, row: int, record: etree._Element, ns: bool
    ) -> None:
        seen: set[str] = set()
        for child in record:
            name = _local(child.tag) if ns else child.tag
            if not isinstance(name, str):
                continue
            if name in seen:
                visit.problems.append(
                    E.make_problem(E.FIELD_REPEATED, file=self.file_name, table=table, row=row, field=name)
                )
            seen.add(name)


class VisitStream(_HosoReader, Iterator["ParsedVisit | Problem"]):
    """The iterator returned by ``iter_visits``; ``envelope`` fills in as the file is read."""

    def __init__(
        self,
        source: Source,
        *,
        file_name: str | None,
        limits: ParserLimits | None,
        only: Callable[[int], bool] | None = None,
        hand_off: Callable[[RawHoso], object] | None = None,
    ) -> None:
        if file_name is None:
            file_name = (
                os.fspath(source)
                if isinstance(source, (str, os.PathLike))
                else getattr(source, "name", "") or ""
            )
        super().__init__(str(file_name), limits or ParserLimits.from_settings())
        self._only = only
        self._hand_off = hand_off
        self.envelope = EnvelopeInfo(file=self.file_name)
        self._source = source
        self._root_seen = False  # the first envelope event was checked (DOCTYPE, root element)
        self._root_known = False  # the prolog showed a GIAMDINHHS root
        self._gen = self._run()

    def __iter__(self) -> VisitStream:
        return self

    def __next__(self) -> ParsedVisit | Problem:
        return next(self._gen)

    def close(self) -> None:
        self._gen.close()

    # --- the whole file ----------------------------------------------------------------------------------------
    def _file_problem(self, code: str, **kw: Any) -> FileProblem:
        problem = E.make_problem(code, file=self.file_name, cls=FileProblem, **kw)
        assert isinstance(problem, FileProblem)
        return problem

    def _open(self) -> tuple[IO[bytes], int | None, bool]:
        src = self._source
        if isinstance(src, (bytes, bytearray, memoryview)):
            data = bytes(src)
            return io.BytesIO(data), len(data), True
        if isinstance(src, (str, os.PathLike)):
            handle = open(src, "rb")  # noqa: SIM115 - closed in _run
            return handle, os.fstat(handle.fileno()).st_size, True
        # Size known up front only when it is cheap (a real file, an in-memory buffer); a gzip stream would have
        # to be decompressed to seek to its end, so its bytes are counted while reading instead.
        size: int | None = None
        try:
            if isinstance(src, io.BytesIO):
                size = src.getbuffer().nbytes - src.tell()
            elif not hasattr(src, "decompress") and type(src).__module__ not in ("gzip", "bz2", "lzma"):
                size = os.fstat(src.fileno()).st_size - src.tell()
        except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
            size = None
        return src, size, False

    def _run(self) -> Generator[ParsedVisit | Problem, None, None]:
        try:
            raw, size, owned = self._open()
        except OSError as exc:
            yield self._file_problem(E.XML_FILE_UNREADABLE, extra={"reason": exc.strerror or str(exc)})
            return
        try:
            yield from self._read(raw, size)
        finally:
            if owned:
                raw.close()

    def _read(self, raw: IO[bytes], size: int | None) -> Iterator[ParsedVisit | Problem]:
        limits = self.limits
        if size is not None and size > limits.max_file_bytes:
            yield self._file_problem(E.XML_FILE_TOO_LARGE, limit=limits.max_file_bytes)
            return
        try:
            first = raw.read(READ_CHUNK)
            while first and not first.lstrip(b" \t\r\n").removeprefix(_BOM).lstrip(b" \t\r\n"):
                more = raw.read(READ_CHUNK)
                if not more or len(first) > limits.max_file_bytes:
                    first = b"" if not more else first
                    break
                first += more
        except OSError as exc:
            yield self._file_problem(E.XML_FILE_UNREADABLE, extra={"reason": exc.strerror or str(exc)})
            return
        start = first.lstrip(b" \t\r\n").removeprefix(_BOM).lstrip(b" \t\r\n")
        if not start:
            yield self._file_problem(E.XML_FILE_EMPTY)
            return
        utf16 = first.startswith((b"\xff\xfe", b"\xfe\xff"))
        if not start.startswith(b"<") and not utf16:
            yield self._file_problem(E.XML_NOT_XML)
            return
        root_name = None if _DOCTYPE in first else _prolog_root(first)
        if root_name is not None and root_name != "GIAMDINHHS":
            # Told from the prolog, so a large file with the wrong root is refused without being read.
            yield self._file_problem(E.ENVELOPE_ROOT_INVALID, value=root_name[:100])
            return
        self._root_known = root_name is not None
        reader = _Reader(raw, first, limits.max_file_bytes)
        try:
            yield from self._events(reader)
        except _HandOffFailed as failed:
            raise failed.error from None  # the caller's own failure, not a problem of the file
        except _Fatal as fatal:
            yield fatal.problem
        except etree.XMLSyntaxError as exc:
            yield self._syntax_problem(exc, reader)
        except OSError as exc:
            yield self._file_problem(E.XML_FILE_UNREADABLE, extra={"reason": exc.strerror or str(exc)})
        except Exception as exc:  # no exception escapes: a bug is reported, not raised
            yield self._file_problem(E.XML_FILE_UNREADABLE, extra={"reason": repr(exc)[:200]})

    def _syntax_problem(self, exc: etree.XMLSyntaxError, reader: _Reader) -> FileProblem:
        if reader.doctype:
            return self._file_problem(E.XML_DTD_FORBIDDEN)
        if reader.too_large:
            return self._file_problem(E.XML_FILE_TOO_LARGE, limit=self.limits.max_file_bytes)
        line, column = exc.position if exc.position else (0, 0)
        extra = {"line": line, "column": column, "reason": str(exc.msg)[:200]}
        if exc.code == _RESOURCE_LIMIT:
            if "depth" in str(exc.msg).lower():
                return self._file_problem(E.XML_TOO_DEEP, limit=self.limits.max_depth, extra=extra)
            return self._file_problem(E.XML_LIMIT_EXCEEDED, line=line, extra=extra)
        at_end = reader.eof and (
            exc.code == _PREMATURE_END or (exc.code in _END_OF_INPUT_CODES and reader.ends_at(line, column))
        )
        if at_end:
            return self._file_problem(E.XML_TRUNCATED, extra=extra)
        if not (self._root_seen or self._root_known):
            return self._file_problem(E.XML_NOT_XML, extra=extra)
        return self._file_problem(E.XML_MALFORMED, line=line, column=column, extra=extra)

    def _first_event(self, elem: etree._Element) -> None:
        self._root_seen = True
        tree = elem.getroottree()
        if tree.docinfo.doctype:
            raise _Fatal(self._file_problem(E.XML_DTD_FORBIDDEN))
        name = _local(tree.getroot().tag)
        if name != "GIAMDINHHS":
            raise _Fatal(self._file_problem(E.ENVELOPE_ROOT_INVALID, value=name[:100]))

    def _events(self, reader: _Reader) -> Iterator[ParsedVisit | Problem]:
        limits = self.limits
        env = self.envelope
        # Only the envelope elements produce Python events; lxml filters the rest in C.
        context = etree.iterparse(reader, events=("end",), tag=_ENVELOPE_TAGS, **_hardened_options())
        # Visits read before MACSKCB was seen (unusual element order) wait here for the facility code.
        pending: list[ParsedVisit | Problem] = []
        facility_seen = False
        for _event, elem in context:
            if not self._root_seen:
                self._first_event(elem)
            tag = elem.tag
            name = tag.rpartition("}")[2] if tag[:1] == "{" else tag
            if name == "HOSO":
                env.visit_count += 1
                if env.visit_count > limits.max_visits:
                    raise _Fatal(self._file_problem(E.ENVELOPE_TOO_MANY_VISITS, limit=limits.max_visits))
                here = self._only is None or self._only(env.visit_count)
                hand_off = None if here else self._hand_off
                items: list[ParsedVisit | Problem] = []
                if here or hand_off is not None:
                    depth = sum(1 for _ in elem.iterancestors()) + 1
                    if self._too_deep(elem, depth):
                        raise _Fatal(self._file_problem(E.XML_TOO_DEEP, limit=limits.max_depth))
                    raw = (
                        self._raw_hoso(elem, env.visit_count)
                        if hand_off is not None and facility_seen
                        else None
                    )
                    if raw is not None and hand_off is not None:
                        try:
                            hand_off(raw)
                        except BaseException as exc:
                            raise _HandOffFailed(exc) from exc
                    else:
                        # Also read here what cannot be handed off: embedded XML (it lives in this tree) and
                        # visits that wait for the facility code.
                        items = self._hoso(
                            functools.partial(_files_of, elem), env.visit_count, env.facility_code
                        )
                # Bounded memory: drop the HOSO just read and everything before it.
                elem.clear()
                parent = elem.getparent()
                if parent is not None:
                    while elem.getprevious() is not None:
                        del parent[0]
                if facility_seen:
                    yield from items
                else:
                    pending.extend(items)
                continue
            parent = elem.getparent()
            parent_name = _local(parent.tag) if parent is not None else ""
            if name == "MACSKCB" and parent_name == "THONGTINDONVI" and not facility_seen:
                facility_seen = True
                yield from self._facility((elem.text or "").strip(), pending)
                pending = []
            elif name == "NGAYLAP" and parent_name == "THONGTINHOSO":
                env.created_on = (elem.text or "").strip()
            elif name == "SOLUONGHOSO" and parent_name == "THONGTINHOSO":
                text = (elem.text or "").strip()
                env.declared_count = int(text) if text.isascii() and text.isdigit() and len(text) < 10 else -1
            elif name == "CHUKYDONVI" and parent_name in ("GIAMDINHHS", "THONGTINDONVI"):
                env.signature = "inside" if parent_name == "THONGTINDONVI" else "last"
                elem.clear()
        if reader.doctype:
            raise _Fatal(self._file_problem(E.XML_DTD_FORBIDDEN))
        root = context.root
        if not self._root_seen and root is not None:
            self._first_event(root)
        if root is not None and self._too_deep(root, 1):
            raise _Fatal(self._file_problem(E.XML_TOO_DEEP, limit=limits.max_depth))
        if not facility_seen:
            yield self._file_problem(E.ENVELOPE_FACILITY_MISSING)
            yield from pending
        yield from self._envelope_checks()
        env.complete = True

    def _raw_hoso(self, hoso: etree._Element, index: int) -> RawHoso | None:
        """The HOSO as text for ``hand_off``; None when it holds embedded XML (or anything odd): read it here."""
        try:
            files: list[tuple[str, bool, str | None]] = []
            for kind, content in _files_of(hoso):
                if content is not None and len(content):
                    return None
                files.append((kind, content is not None, None if content is None else content.text))
        except Exception:  # reading it here reports the problem
            return None
        return RawHoso(index, self.envelope.facility_code, tuple(files))

    def _facility(self, code: str, pending: list[ParsedVisit | Problem]) -> Iterator[ParsedVisit | Problem]:
        self.envelope.facility_code = code or None
        if not code:
            yield self._file_problem(E.ENVELOPE_FACILITY_MISSING)
        else:
            try:
                parse_facility_code(code)
            except IdentifierError:
                yield self._file_problem(E.ENVELOPE_FACILITY_INVALID, value=code[:50])
        for item in pending:
            if isinstance(item, ParsedVisit):
                item.facility_code = self.envelope.facility_code
            yield item

    def _envelope_checks(self) -> Iterator[FileProblem]:
        env = self.envelope
        if env.visit_count == 0:
            yield self._file_problem(E.ENVELOPE_NO_VISITS)
        if env.declared_count is not None and env.declared_count != env.visit_count:
            declared = "?" if env.declared_count < 0 else env.declared_count
            yield self._file_problem(E.ENVELOPE_COUNT_MISMATCH, declared=declared, found=env.visit_count)
        created = env.created_on
        if created is not None and not _is_yyyymmdd(created):
            yield self._file_problem(E.ENVELOPE_DATE_INVALID, value=created[:50])


def _text_of(data: bytes) -> str:
    return data.removeprefix(_BOM).decode("utf-8", "replace")


def _data(element: etree._Element, list_tags: frozenset[str]) -> Any:
    """Element tree -> nested dict/list of stripped strings (a repeated or record tag becomes a list)."""
    if not len(element):
        return (element.text or "").strip()
    out: dict[str, Any] = {}
    repeated: set[str] = set()
    for child in element:
        name = _local(child.tag)
        if not name:
            continue
        value = _data(child, list_tags)
        if name in out:
            if name not in repeated:
                out[name] = [out[name]]
                repeated.add(name)
            out[name].append(value)
        elif name in list_tags:
            out[name] = [value]
            repeated.add(name)
        else:
            out[name] = value
    return out


def _b64decode(text: str) -> bytes:
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        pass
    compact = "".join(text.split())
    try:
        return binascii.a2b_base64(compact, strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64") from exc


def _is_yyyymmdd(text: str) -> bool:
    if len(text) != 8 or not text.isascii() or not text.isdigit():
        return False
    try:
        dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return False
    return True


def iter_visits(
    source: Source,
    *,
    file_name: str | None = None,
    limits: ParserLimits | None = None,
    only: Callable[[int], bool] | None = None,
    hand_off: Callable[[RawHoso], object] | None = None,
) -> VisitStream:
    """Stream the HOSO of a QĐ 130 file as ``ParsedVisit`` / ``Problem`` / ``FileProblem`` (see module doc).

    ``source`` is a path, the bytes of the file, or a binary file object (read sequentially, never closed
    here). ``file_name`` labels the problems (default: the path or the object's ``name``). The returned
    ``VisitStream`` is an iterator whose ``envelope`` (facility, NGAYLAP, SOLUONGHOSO, signature place, HOSO
    count, ``complete``) is filled in as reading goes.

    ``only`` selects HOSO by 1-based position; the others are skipped without decoding their documents (resume
    after a crash: ``only=lambda i: i > last_done``; two worker processes: ``only=lambda i: i % 2 == k``).

    With ``hand_off``, each HOSO ``only`` leaves out is passed to ``hand_off`` as a ``RawHoso`` instead of being
    skipped (after the same file-level checks), for ``read_hoso`` to finish elsewhere; a HOSO with embedded XML,
    or read before the facility code, is read here all the same. Nothing is yielded for the HOSO handed off,
    and an exception ``hand_off`` raises is raised by the iterator as it is.
    """
    return VisitStream(source, file_name=file_name, limits=limits, only=only, hand_off=hand_off)


@functools.lru_cache(maxsize=16)
def _reader_for(file_name: str, limits: ParserLimits, thread: int) -> _HosoReader:
    return _HosoReader(file_name, limits)  # per thread: an lxml parser is not shared between threads


def read_hoso(
    hoso: RawHoso, *, file_name: str, limits: ParserLimits | None = None
) -> list[ParsedVisit | Problem]:
    """Finish a HOSO handed off by ``iter_visits``: what it would have yielded for that HOSO, in order."""
    reader = _reader_for(file_name, limits or ParserLimits.from_settings(), threading.get_ident())
    files = [(kind, _Text(text) if present else None) for kind, present, text in hoso.files]
    return reader._hoso(lambda: files, hoso.index, hoso.facility_code)
