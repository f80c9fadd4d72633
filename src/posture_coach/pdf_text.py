"""The PDF's text layer: Chinese characters that copy, paste and search as themselves.

CJK fonts draw some everyday characters with the same glyph as a radical: in Noto Sans
CJK SC, 小 (U+5C0F) and the Kangxi radical ⼩ (U+2F29) are one glyph, so are 长 and ⻓
(U+2ED3), 户 and ⼾, 用 and ⽤, and about two hundred more. A PDF stores glyphs, and its
``/ToUnicode`` map says which character each glyph is; Chromium (Skia) names the *first*
code point of the font's cmap that reaches the glyph, the radical. The page looks right,
but a viewer's search for "张小红" finds nothing, and a copied line pastes radicals.

:func:`repair_radicals` rewrites those entries. For each ``/ToUnicode`` entry naming a
radical (U+2E80–U+2FDF), it looks up the glyph the entry belongs to (Skia's Type 3 fonts
name glyphs ``/g<hex glyph id>``; a CID font's code is the glyph id), then the installed
font file the PDF was printed with (``fc-match`` on the font's PostScript name) and takes
the unified ideograph that the font maps to the same glyph. Without that font file the
radical's compatibility decomposition (NFKC: ⼩ → 小) is used where there is one. The
fix is an incremental update: the printed bytes stay as they are, the new maps are
appended (pypdf reads the PDF; the update is written here, as pypdf's own incremental
writer first copies the whole document, which took longer than printing it). It never
fails a report: a PDF it cannot read is returned unchanged.
"""

from __future__ import annotations

import functools
import io
import logging
import re
import shutil
import struct
import subprocess
import unicodedata
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path

import pypdf
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

log = logging.getLogger(__name__)

#: CJK Radicals Supplement and Kangxi Radicals: code points a sentence never means.
RADICALS = range(0x2E80, 0x2FE0)

_GLYPH_NAME = re.compile(r"^/?g([0-9A-Fa-f]+)$")
_BFCHAR = re.compile(rb"(\d+)\s+beginbfchar(.*?)endbfchar", re.S)
_HEX_PAIR = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")
_BFRANGE = re.compile(rb"(\d+)\s+beginbfrange(.*?)endbfrange", re.S)
_HEX_TRIPLE = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")


def is_unified_ideograph(ch: str) -> bool:
    cp = ord(ch)
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x3FFFF
            or 0xF900 <= cp <= 0xFAFF)


def radical_fallback(ch: str) -> str | None:
    """The ideograph a radical decomposes to (NFKC), if any: ⼩ → 小; ⻓ has none."""
    norm = unicodedata.normalize("NFKC", ch)
    return norm if len(norm) == 1 and is_unified_ideograph(norm) else None


# ----------------------------------------------------------------------------- font files


def read_cmap(path: Path, index: int = 0) -> list[tuple[int, int, int]]:
    """The Unicode cmap of face ``index`` of an OpenType/TrueType file or collection, as
    ``(first code point, last code point, first glyph id)`` groups (format 12 or 4)."""
    data = path.read_bytes()
    base = 0
    if data[:4] == b"ttcf":
        (count,) = struct.unpack_from(">I", data, 8)
        if not 0 <= index < count:
            raise ValueError(f"{path}: no face {index} (the collection has {count})")
        (base,) = struct.unpack_from(">I", data, 12 + 4 * index)
    (num_tables,) = struct.unpack_from(">H", data, base + 4)
    cmap_at = None
    for i in range(num_tables):
        tag, _sum, offset, _len = struct.unpack_from(">4sIII", data, base + 12 + 16 * i)
        if tag == b"cmap":
            cmap_at = offset
    if cmap_at is None:
        raise ValueError(f"{path}: face {index} has no cmap table")
    (n_sub,) = struct.unpack_from(">H", data, cmap_at + 2)
    subtables: dict[int, int] = {}
    for i in range(n_sub):
        platform, encoding, offset = struct.unpack_from(">HHI", data, cmap_at + 4 + 8 * i)
        if (platform, encoding) in ((3, 10), (0, 4), (0, 6), (3, 1), (0, 3)):
            fmt = struct.unpack_from(">H", data, cmap_at + offset)[0]
            subtables.setdefault(fmt, cmap_at + offset)
    if 12 in subtables:
        at = subtables[12]
        (n_groups,) = struct.unpack_from(">I", data, at + 12)
        return [struct.unpack_from(">III", data, at + 16 + 12 * i) for i in range(n_groups)]
    if 4 in subtables:
        return _format4_groups(data, subtables[4])
    raise ValueError(f"{path}: face {index} has no Unicode cmap of format 12 or 4")


def _format4_groups(data: bytes, at: int) -> list[tuple[int, int, int]]:
    seg_x2 = struct.unpack_from(">H", data, at + 6)[0]
    n = seg_x2 // 2
    ends = struct.unpack_from(f">{n}H", data, at + 14)
    starts = struct.unpack_from(f">{n}H", data, at + 16 + seg_x2)
    deltas = struct.unpack_from(f">{n}h", data, at + 16 + 2 * seg_x2)
    ro_at = at + 16 + 3 * seg_x2
    range_offsets = struct.unpack_from(f">{n}H", data, ro_at)
    groups: list[tuple[int, int, int]] = []
    for i in range(n):
        for cp in range(starts[i], ends[i] + 1):
            if cp == 0xFFFF:
                continue
            if range_offsets[i] == 0:
                gid = (cp + deltas[i]) & 0xFFFF
            else:
                gaddr = ro_at + 2 * i + range_offsets[i] + 2 * (cp - starts[i])
                gid = struct.unpack_from(">H", data, gaddr)[0]
                gid = (gid + deltas[i]) & 0xFFFF if gid else 0
            if gid:
                groups.append((cp, cp, gid))
    return groups


@functools.lru_cache(maxsize=16)
def font_file(postscript_name: str) -> tuple[Path, int] | None:
    """The installed file (and face index) of a font, by PostScript name, via fontconfig."""
    exe = shutil.which("fc-match")
    if not exe or not postscript_name:
        return None
    try:
        out = subprocess.run([exe, "-f", "%{file}|%{index}|%{postscriptname}", f":postscriptname={postscript_name}"],
                             capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    path, _, rest = out.partition("|")
    index, _, found_name = rest.partition("|")
    if found_name.strip() != postscript_name or not Path(path).is_file():
        return None  # fontconfig's nearest other font: its glyph ids mean nothing here
    try:
        return Path(path), int(index or 0)
    except ValueError:
        return None


@functools.lru_cache(maxsize=16)
def _ideographs_of(postscript_name: str) -> dict[int, str] | None:
    """Glyph id → the unified ideograph the installed font draws with it (the lowest code
    point if several), read once per font; None when the font file is not found."""
    where = font_file(postscript_name)
    if where is None:
        return None
    try:
        groups = read_cmap(*where)
    except (OSError, ValueError, struct.error) as exc:
        log.info("pdf text layer: cannot read the cmap of %s (%s)", postscript_name, exc)
        return None
    out: dict[int, str] = {}
    for first, last, gid0 in groups:
        for cp in range(first, last + 1):
            ch = chr(cp)
            if is_unified_ideograph(ch):
                out.setdefault(gid0 + cp - first, ch)  # groups ascend by code point: first is lowest
    return out


# ----------------------------------------------------------------------------- ToUnicode maps


def radical_entries(cmap: bytes) -> dict[int, str]:
    """The single-character entries of a ToUnicode CMap that name a radical: code → radical."""
    out: dict[int, str] = {}
    for _, body in _BFCHAR.findall(cmap):
        for src, dst in _HEX_PAIR.findall(body):
            ch = _utf16(dst)
            if len(ch) == 1 and ord(ch) in RADICALS:
                out[int(src, 16)] = ch
    for _, body in _BFRANGE.findall(cmap):
        for lo, hi, dst in _HEX_TRIPLE.findall(body):
            start = _utf16(dst)
            if len(start) != 1:
                continue
            for k in range(int(hi, 16) - int(lo, 16) + 1):
                if ord(start) + k in RADICALS:
                    out[int(lo, 16) + k] = chr(ord(start) + k)
    return out


def rewrite_entries(cmap: bytes, fixes: Mapping[int, str]) -> bytes:
    """``cmap`` with the codes of ``fixes`` mapped to their new character: bfchar entries
    rewritten in place; a bfrange holding a fixed code is written out as bfchar entries."""
    if not fixes:
        return cmap
    width = _code_width(cmap)

    def one_pair(m: re.Match[bytes]) -> bytes:
        code = int(m.group(1), 16)
        return b"<%s> <%s>" % (m.group(1), _hex_utf16(fixes[code])) if code in fixes else m.group(0)

    def bfchar(m: re.Match[bytes]) -> bytes:
        return m.group(0)[: m.start(2) - m.start(0)] + _HEX_PAIR.sub(one_pair, m.group(2)) + b"endbfchar"

    def bfrange(m: re.Match[bytes]) -> bytes:
        kept: list[bytes] = []
        singles: list[tuple[int, str]] = []
        for t in _HEX_TRIPLE.finditer(m.group(2)):
            lo, hi, start = int(t.group(1), 16), int(t.group(2), 16), _utf16(t.group(3))
            if len(start) == 1 and any(lo <= c <= hi for c in fixes):
                singles += [(c, fixes.get(c, chr(ord(start) + c - lo))) for c in range(lo, hi + 1)]
            else:
                kept.append(t.group(0))
        out = b"%d beginbfrange\n%s\nendbfrange\n" % (len(kept), b"\n".join(kept)) if kept else b""
        for i in range(0, len(singles), 100):  # at most 100 entries a block, as CMaps are written
            chunk = singles[i:i + 100]
            lines = b"".join(b"<%0*X> <%s>\n" % (width, c, _hex_utf16(ch)) for c, ch in chunk)
            out += b"%d beginbfchar\n%sendbfchar\n" % (len(chunk), lines)
        return out

    return _BFRANGE.sub(bfrange, _BFCHAR.sub(bfchar, cmap))


def _bfchar_codes(cmap: bytes) -> set[int]:
    return {int(src, 16) for _, body in _BFCHAR.findall(cmap) for src, _ in _HEX_PAIR.findall(body)}


def _code_width(cmap: bytes) -> int:
    m = re.search(rb"begincodespacerange\s*<([0-9A-Fa-f]+)>", cmap)
    return len(m.group(1)) if m else 4


def _utf16(hex_digits: bytes) -> str:
    try:
        return bytes.fromhex(hex_digits.decode("ascii")).decode("utf-16-be")
    except (ValueError, UnicodeDecodeError):
        return ""


def _hex_utf16(ch: str) -> bytes:
    return ch.encode("utf-16-be").hex().upper().encode("ascii")


# ----------------------------------------------------------------------------- the PDF


def repair_radicals(pdf: bytes) -> bytes:
    """``pdf`` with its ToUnicode maps naming ideographs instead of look-alike radicals
    (module docstring). Returns ``pdf`` unchanged when nothing needs fixing or it cannot
    be read."""
    try:
        return _repair(pdf)
    except Exception as exc:  # a text-layer fix must never lose the report
        log.warning("pdf text layer left as printed: %s", exc)
        return pdf


def _repair(pdf: bytes) -> bytes:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    updates: dict[tuple[int, int], bytes] = {}  # (object number, generation) -> new CMap
    seen: set[tuple[int, int]] = set()
    for page in reader.pages:
        resources = page.get("/Resources")
        fonts = resources.get_object().get("/Font") if resources is not None else None
        if fonts is None:
            continue
        for ref in fonts.get_object().values():
            font = ref.get_object()
            if not isinstance(font, DictionaryObject) or "/ToUnicode" not in font:
                continue
            where = font.raw_get("/ToUnicode")
            if not isinstance(where, IndirectObject):
                continue  # an inline map cannot be replaced by an update; left as printed
            key = (where.idnum, where.generation)
            if key in seen:  # one map may serve many pages
                continue
            seen.add(key)
            fixed = _repaired_cmap(font)
            if fixed is not None:
                updates[key] = fixed
    if not updates:
        return pdf
    log.debug("pdf text layer: %d ToUnicode maps renamed radicals as ideographs", len(updates))
    return _append_update(pdf, updates, reader.trailer)


def _append_update(pdf: bytes, updates: Mapping[tuple[int, int], bytes], trailer: DictionaryObject) -> bytes:
    """``pdf`` with an incremental update replacing the given stream objects (PDF 32000-1
    §7.5.6): the printed bytes stay as they are; new objects, a cross-reference section for
    them and a trailer pointing back to the previous one are appended."""
    m = re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", pdf[-1024:])
    if m is None or not pdf[int(m.group(1)):int(m.group(1)) + 4] == b"xref":
        raise ValueError("not a PDF with a classic cross-reference table at its end")
    prev = int(m.group(1))
    out = bytearray(pdf if pdf.endswith(b"\n") else pdf + b"\n")
    offsets: dict[int, tuple[int, int]] = {}
    for (num, gen), cmap in sorted(updates.items()):
        packed = zlib.compress(cmap)
        offsets[num] = (len(out), gen)
        out += b"%d %d obj\n<< /Filter /FlateDecode /Length %d >>\nstream\n" % (num, gen, len(packed))
        out += packed + b"\nendstream\nendobj\n"
    xref_at = len(out)
    out += b"xref\n"
    for num, (offset, gen) in sorted(offsets.items()):
        out += b"%d 1\n%010d %05d n\r\n" % (num, offset, gen)
    size = max(int(trailer.get("/Size", 0)), max(offsets) + 1)
    entries = [b"/Size %d" % size, b"/Prev %d" % prev]
    for key in ("/Root", "/Info"):
        ref = trailer.raw_get(key) if key in trailer else None
        if isinstance(ref, IndirectObject):
            entries.append(b"%s %d %d R" % (key.encode(), ref.idnum, ref.generation))
    ids = trailer.get("/ID")
    if isinstance(ids, ArrayObject) and len(ids) == 2:
        entries.append(b"/ID [<%s> <%s>]" % tuple(bytes(getattr(x, "original_bytes", b"")).hex().encode()
                                                  for x in ids))
    out += b"trailer\n<< " + b" ".join(entries) + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def _repaired_cmap(font: Mapping[str, object]) -> bytes | None:
    """A font's ToUnicode CMap with its radicals named as ideographs; None when it names none."""
    stream = font["/ToUnicode"]
    stream = stream.get_object() if hasattr(stream, "get_object") else stream
    if not isinstance(stream, StreamObject):
        return None
    cmap = stream.get_data()
    radicals = radical_entries(cmap)
    if not radicals:
        return None
    glyphs = _glyph_ids(font, radicals)
    postscript = _postscript_name(font)
    by_glyph = (_ideographs_of(postscript) if postscript else None) or {}
    fixes: dict[int, str] = {}
    for code, radical in radicals.items():
        gid = glyphs.get(code)
        ideograph = by_glyph.get(gid) if gid is not None else None
        ideograph = ideograph or radical_fallback(radical)
        if ideograph:
            fixes[code] = ideograph
    return rewrite_entries(cmap, fixes) if fixes else None


def _glyph_ids(font: Mapping[str, object], codes: Iterable[int]) -> dict[int, int]:
    """Code → glyph id: a Type 3 font's ``/Differences`` names (Skia: ``/g<hex id>``); a
    CID font printed with Identity encoding uses the glyph id as the code."""
    out: dict[int, int] = {}
    if font.get("/Subtype") == "/Type3":
        enc = font.get("/Encoding")
        diffs = enc.get_object().get("/Differences") if enc is not None else None  # type: ignore[attr-defined]
        names: dict[int, str] = {}
        at = 0
        for item in diffs or []:
            if isinstance(item, int):
                at = int(item)
            else:
                names[at] = str(item)
                at += 1
        for code in codes:
            m = _GLYPH_NAME.match(names.get(code, ""))
            if m:
                out[code] = int(m.group(1), 16)
    elif font.get("/Subtype") == "/Type0" and str(font.get("/Encoding")) == "/Identity-H":
        out = {code: code for code in codes}
    return out


def _postscript_name(font: Mapping[str, object]) -> str | None:
    desc = font.get("/FontDescriptor")
    if desc is None and font.get("/Subtype") == "/Type0":
        kids = font.get("/DescendantFonts")
        if kids:
            desc = kids.get_object()[0].get_object().get("/FontDescriptor")  # type: ignore[attr-defined]
    name = desc.get_object().get("/FontName") if desc is not None else None  # type: ignore[attr-defined]
    if name is None:
        return None
    return str(name).lstrip("/").split("+", 1)[-1]  # "/BAAAAA+NotoSansCJKsc-Bold"
