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
