"""The PDF's text layer names the Chinese characters the report shows, not look-alike radicals:
a search for a trainee's name finds it, and a copied line pastes what was printed."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pypdf
import pytest

from posture_coach import pdf, pdf_text
from posture_coach import report as rep
from tests.store.helpers import fake_result

CHROMIUM = Path("/usr/bin/chromium")


def _noto_sc() -> tuple[Path, int] | None:
    return pdf_text.font_file("NotoSansCJKsc-Regular")


def _text(data: bytes) -> str:
    return "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def _radicals(text: str) -> set[str]:
    return {c for c in text if ord(c) in pdf_text.RADICALS}


@pytest.mark.skipif(not CHROMIUM.is_file() or not shutil.which("fc-match"),
                    reason="needs /usr/bin/chromium and fontconfig")
def test_a_printed_report_reads_back_with_the_names_and_words_it_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    if _noto_sc() is None:
        pytest.skip("Noto Sans CJK SC is not installed (apt-get install fonts-noto-cjk)")
    monkeypatch.setenv(pdf.ENV_CHROMIUM, str(CHROMIUM))
    report = rep.report_from_result(fake_result({}), source="/videos/role.mp4", person="张小红 用户 方立")
    page = rep.render_html(report, "zh")
    printed = pdf.html_to_pdf_bytes(page)
    text = _text(printed)
    assert "张小红" in text and "用户" in text and "方立" in text
    assert "时长" in text and "握手" in text  # 长 and 手 share glyphs with ⻓ and ⼿ as well
    assert not _radicals(text)


def _raw_print(page: str) -> bytes:
    real = pdf_text.repair_radicals
    try:
        pdf.repair_radicals = lambda data: data  # type: ignore[assignment]
        return pdf.html_to_pdf_bytes(page)
    finally:
        pdf.repair_radicals = real  # type: ignore[assignment]


def test_a_radical_is_renamed_to_the_ideograph_its_glyph_draws_in_the_font() -> None:
    found = _noto_sc()
    if found is None:
        pytest.skip("Noto Sans CJK SC is not installed")
    groups = pdf_text.read_cmap(*found)
    glyph_of = {chr(first + k): gid0 + k for first, last, gid0 in groups for k in range(last - first + 1)
                if chr(first + k) in "⼩小⼾户戶⻓长"}
    assert glyph_of["⼩"] == glyph_of["小"] and glyph_of["⻓"] == glyph_of["长"]
    # The simplified-Chinese face draws 户 (U+6237) for ⼾, not the traditional 戶 that
    # Unicode's compatibility decomposition would give.
    assert glyph_of["⼾"] == glyph_of["户"] != glyph_of["戶"]
    named = pdf_text._ideographs_of("NotoSansCJKsc-Regular")
    assert named is not None and named[glyph_of["⼾"]] == "户" and named[glyph_of["⻓"]] == "长"


def test_tounicode_entries_are_rewritten_in_bfchar_and_inside_bfranges() -> None:
    cmap = (b"1 begincodespacerange\n<00> <FF>\nendcodespacerange\n"
            b"2 beginbfchar\n<2D> <2F29>\n<B4> <6761>\nendbfchar\n"
            b"1 beginbfrange\n<10> <12> <2F45>\nendbfrange\nendcmap\n")
    found = pdf_text.radical_entries(cmap)
    assert found == {0x2D: "⼩", 0x10: "⽅", 0x11: "⽆", 0x12: "⽇"}
    fixed = pdf_text.rewrite_entries(cmap, {0x2D: "小", 0x11: "无"})
    assert b"<2D> <5C0F>" in fixed and b"<B4> <6761>" in fixed  # the other entry kept
    assert b"beginbfrange" not in fixed  # the range is written out, one entry a code
    assert b"3 beginbfchar\n<10> <2F45>\n<11> <65E0>\n<12> <2F47>\nendbfchar" in fixed
    assert pdf_text.radical_entries(fixed) == {0x10: "⽅", 0x12: "⽇"}


def test_without_the_font_file_a_radical_falls_back_to_its_compatibility_ideograph() -> None:
    assert pdf_text.radical_fallback("⼩") == "小"
    assert pdf_text.radical_fallback("⻓") is None  # no decomposition: left as printed
    assert pdf_text.font_file("NoSuchFont-Regular") is None  # fontconfig's nearest font is not used


def test_a_pdf_it_cannot_read_is_returned_as_it_was() -> None:
    for data in (b"%PDF-1.4 not really", b"", b"\x00" * 64):
        assert pdf_text.repair_radicals(data) == data


def test_the_repair_appends_to_the_printed_bytes_and_changes_no_page() -> None:
    if not CHROMIUM.is_file() or _noto_sc() is None:
        pytest.skip("needs /usr/bin/chromium and Noto Sans CJK SC")
    page = "<html><body style='font-family:\"Noto Sans CJK SC\"'><p>张小红 用户 时长</p></body></html>"
    raw = _raw_print(page)
    fixed = pdf_text.repair_radicals(raw)
    assert fixed.startswith(raw) and len(fixed) > len(raw)  # an incremental update
    assert len(pypdf.PdfReader(io.BytesIO(fixed)).pages) == len(pypdf.PdfReader(io.BytesIO(raw)).pages)
    assert "张小红 用户 时长" in _text(fixed)
    if shutil.which("pdftotext"):  # poppler reads the updated file too
        out = subprocess.run(["pdftotext", "-", "-"], input=fixed, capture_output=True, timeout=30).stdout
        assert "张小红" in out.decode("utf-8")
