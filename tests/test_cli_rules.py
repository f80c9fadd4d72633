"""`posture-coach rules`: the catalogue a trainer reads, and the one a program reads."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from posture_coach.cli_rules import register

runner = CliRunner()


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


@pytest.mark.parametrize(("lang", "named"), ids=["zh", "en"], argvalues=[
    ("zh", "《客户经理服务行为规范》§二.一 站姿；《客服礼仪管理制度》§4.5.1 站姿禁忌"),
    ("en", "Customer Service Etiquette Rules §4.5.1 站姿禁忌"),
])
def test_the_catalogue_names_the_handbooks_in_its_language(lang: str, named: str) -> None:
    result = runner.invoke(_app(), ["rules", "--lang", lang], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    assert named in result.output and "seed " not in result.output


def test_the_json_catalogue_keeps_the_rules_own_clauses() -> None:
    result = runner.invoke(_app(), ["rules", "--json"])
    assert result.exit_code == 0, result.output
    upright = {e["id"]: e for e in json.loads(result.output)}["standing.upright"]
    assert upright["clause"] == "seed 000 §二.一 站姿; seed 001 §4.5.1 站姿禁忌"
    # ...and beside them, the clause with the handbooks named, in both languages.
    assert upright["clause_zh"] == "《客户经理服务行为规范》§二.一 站姿；《客服礼仪管理制度》§4.5.1 站姿禁忌"
    assert upright["clause_en"].startswith("Customer Manager Service Conduct Code §二.一 站姿; ")
