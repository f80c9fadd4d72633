"""Every user-facing string of the page exists in Simplified Chinese and in English."""

from __future__ import annotations

import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "web"


def _blocks(text: str) -> dict[str, dict[str, str]]:
    """The ``zh`` and ``en`` tables of web/i18n.js: key -> string."""
    out: dict[str, dict[str, str]] = {}
    for lang in ("zh", "en"):
        m = re.search(rf"^  {lang}: {{\n(.*?)^  }},", text, re.S | re.M)
        assert m, lang
        out[lang] = dict(re.findall(r'^\s{4}(\w+):\s*"((?:[^"\\]|\\.)*)"', m.group(1), re.M))
    return out


def test_both_languages_have_the_same_keys() -> None:
    tables = _blocks((WEB / "i18n.js").read_text(encoding="utf-8"))
    zh, en = tables["zh"], tables["en"]
    assert len(zh) > 100
    assert set(zh) == set(en), (sorted(set(zh) - set(en)), sorted(set(en) - set(zh)))
    # The Chinese table is Chinese: every entry with letters in it has some CJK too, except
    # those that are only a unit or a placeholder.
    latin_only = [k for k, v in zh.items() if re.search(r"[A-Za-z]{3}", v) and not re.search(r"[\u4e00-\u9fff]", v)]
    assert not latin_only, latin_only


def test_the_page_asks_only_for_keys_that_exist() -> None:
    tables = _blocks((WEB / "i18n.js").read_text(encoding="utf-8"))
    used = set()
    for js in WEB.glob("*.js"):
        used |= set(re.findall(r'\bt\("(\w+)"', js.read_text(encoding="utf-8")))
    missing = sorted(k for k in used if k not in tables["en"])
    assert not missing, missing


def test_the_chinese_text_addresses_the_user_politely_everywhere() -> None:
    """Service etiquette addresses people as 您: the live page did, the review page and some
    refusals said 你. Every Chinese text the product shows (pages, refusals, reports, rule
    messages, drills) uses 您."""
    root = WEB.parent
    sources = [*WEB.rglob("*.js"), *WEB.rglob("*.html"), *(root / "src" / "posture_coach").rglob("*.py"),
               *(root / "src" / "posture_coach").rglob("*.toml"), *(root / "calibration").rglob("*.toml")]
    informal = [f"{p.relative_to(root)}:{n}" for p in sources
                for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if "你" in line]
    assert len(sources) > 50 and not informal, informal


def _zh_literals(path: Path) -> list[str]:
    """Every string literal of a page script's Chinese table (from ``zh: {`` to ``en: {``)
    that holds some Chinese."""
    text = path.read_text(encoding="utf-8")
    m = re.search(r"^  zh: \{(.*?)^  en: \{", text, re.S | re.M)
    assert m, path
    return [s for s in re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1)) if re.search(r"[\u4e00-\u9fff]", s)]


def test_the_chinese_texts_use_chinese_punctuation_and_one_word_per_concept() -> None:
    """A bank's training manager read the pages in Chinese: half-width brackets, colons and
    semicolons stood out in Chinese text, "100 %" and "面带微笑 （推荐做到）" carried stray
    spaces, and one concept had several names (无法评估 / 无法判断, 会话, 漏标, HR, 琥珀色, 规则包)."""
    files = [WEB / "i18n.js", WEB / "grooming.js", WEB / "review" / "review.js"]
    texts = [(p.name, s) for p in files for s in _zh_literals(p)]
    assert len(texts) > 300, len(texts)
    # URLs keep their colons and slashes; "p50 / p95" is a technical label.
    plain = [(n, re.sub(r"https?://\S+", "", s)) for n, s in texts]
    half_width = [f"{n}: {s}" for n, s in plain if re.search(r"[():;]", s)]
    assert not half_width, half_width
    spaced = [f"{n}: {s}" for n, s in texts if re.search(r"\d %|\s（", s)]
    assert not spaced, spaced
    jargon = [f"{n}: {s}" for n, s in texts if re.search(r"HR|会话|漏标|琥珀色|规则包|峰值", s)]
    assert not jargon, jargon
    # "Not assessable" is 无法评估 wherever it is the status word (a sentence saying why
    # something cannot be judged, "无法判断发色", may say so).
    zh = _blocks((WEB / "i18n.js").read_text(encoding="utf-8"))["zh"]
    assert zh["status_unknown"] == zh["outcome_not_assessable"] == "无法评估"
    assert "灰色 = 无法评估" in zh["legend"] and "橙色 = 注意" in zh["legend"]
    assert zh["drill_outcome_not_assessable"].startswith("无法评估") and "无法评估" in zh["n_unjudged"]
    assert 'unknown: "无法评估"' in (WEB / "grooming.js").read_text(encoding="utf-8")
    status_words = [f"{n}: {s}" for n, s in texts if re.fullmatch(r"[（(]?(\{\w+\} )?无法判断[）)]?", s)]
    assert not status_words, status_words
