"""HR sets up an onboarding cohort from the command line: people, logins, a cohort, members."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from posture_coach import cli_store
from posture_coach.store import Database, repo

runner = CliRunner()
app = typer.Typer()
cli_store.register(app)  # as `posture-coach` mounts them


@pytest.fixture(autouse=True)
def _english(monkeypatch: pytest.MonkeyPatch) -> None:
    """Confirmations follow the locale; these specs read the English ones."""
    monkeypatch.setenv("POSTURE_COACH_LANG", "en")


def test_hr_on_a_chinese_system_reads_the_confirmations_in_chinese(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POSTURE_COACH_LANG")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    db = ["--db", f"sqlite:///{tmp_path / 'pc.db'}"]
    assert runner.invoke(app, ["db", "upgrade", *db]).exit_code == 0
    out = runner.invoke(app, ["people", "add", "张小红", "--consent", *db]).output
    assert out == "已添加学员 1 张小红（已同意保存录像）\n"
    out = runner.invoke(app, ["cohorts", "add", "2025年3月", "--pass-score", "80", *db]).output
    assert out == "已添加培训班 1 2025年3月（及格线 80 分）\n"
    assert runner.invoke(app, ["cohorts", "add-member", "1", "1", *db]).output == "培训班 1 2025年3月：共 1 名学员\n"
    listed = runner.invoke(app, ["people", "list", *db]).output  # lists stay as scripts read them
    assert listed.startswith("1\t张小红\tconsent")


def test_hr_sets_up_a_cohort_without_the_api(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'pc.db'}"
    db = ["--db", url]

    def run(*args: str) -> str:
        r = runner.invoke(app, [*args, *db])
        assert r.exit_code == 0, r.output
        return r.output

    assert runner.invoke(app, ["db", "upgrade", *db]).exit_code == 0
    assert run("people", "add", "张小红", "--consent").startswith("person 1 张小红")
    assert run("people", "add", "Li Ming").startswith("person 2 Li Ming")
    run("users", "add", "coach", "--role", "trainer", "--password", "trainer-pass-1")
    assert run("cohorts", "add", "2025年3月", "--trainer", "coach", "--pass-score", "85") == \
        "cohort 1 2025年3月 (pass mark 85)\n"
    assert run("cohorts", "add-member", "1", "1", "2") == "cohort 1 2025年3月: 2 member(s)\n"
    run("users", "add", "xiaohong", "--role", "trainee", "--person", "1", "--password", "trainee-pass-1")
    assert "2025年3月\t2 member(s)\tpass mark 85" in run("cohorts", "list")
    assert "1\t张小红\tconsent" in run("people", "list")
    assert run("users", "list") == "1\tcoach\ttrainer\n2\txiaohong\ttrainee\tperson 1\n"
    assert run("users", "password", "xiaohong", "--password", "new-pass-123") == \
        "user 2 xiaohong: new password set, signed out everywhere\n"
    store = Database(url)
    with store.session() as s:
        assert repo.authenticate(s, "xiaohong", "new-pass-123") is not None
        assert repo.authenticate(s, "xiaohong", "trainee-pass-1") is None
    store.dispose()
    assert run("people", "consent", "2", "--yes") == "person 2 Li Ming: consent to store videos recorded\n"
    assert run("people", "consent", "1", "--withdraw") == \
        "person 1 张小红: consent withdrawn, 0 stored file(s) deleted\n"
    assert "1\t张小红\tno consent" in run("people", "list") and "2\tLi Ming\tconsent" in run("people", "list")
    # People leave: out of the cohort (their record stays), then deleted (with --yes only).
    assert run("cohorts", "remove-member", "1", "2") == "cohort 1 2025年3月: 1 member(s)\n"
    assert run("cohorts", "remove-member", "1", "2") == "cohort 1 2025年3月: 1 member(s) (not in it: 2)\n"
    r = runner.invoke(app, ["people", "delete", "2", *db])
    assert r.exit_code == 2 and "--yes" in r.output and "Li Ming" in r.output
    assert run("people", "delete", "2", "--yes") == "person 2 Li Ming deleted, with 0 stored file(s)\n"
    assert "Li Ming" not in run("people", "list")
    store = Database(url)
    with store.session() as s:
        cohort = repo.get_cohort(s, 1)
        assert cohort.pass_score == 0.85 and {m.person.name for m in cohort.members} == {"张小红"}
    store.dispose()


def test_setup_mistakes_are_one_line_each(tmp_path: Path) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 'pc.db'}"]
    assert runner.invoke(app, ["db", "upgrade", *db]).exit_code == 0
    cases = [
        (["users", "add", "x", "--role", "trainee", "--password", "p-123456789"], "people add NAME"),
        (["cohorts", "add-member", "9", "1"], "no cohort 9"),
        (["cohorts", "add", "A", "--trainer", "nobody"], "no trainer called 'nobody'"),
        (["people", "consent", "7", "--yes"], "no person 7"),
        (["cohorts", "add", "B", "--pass-score", "0.8"], "did you mean 80?"),
        (["users", "password", "nobody", "--password", "x-123456789"], "no user called 'nobody'"),
    ]
    for args, said in cases:
        r = runner.invoke(app, [*args, *db])
        assert r.exit_code != 0 and said in r.output and "Traceback" not in r.output, r.output
    assert runner.invoke(app, ["people", "add", "A", *db]).exit_code == 0
    ok = ["users", "add", "a", "--role", "trainee", "--person", "1", "--password", "p-123456789", *db]
    assert runner.invoke(app, ok).exit_code == 0
    again = runner.invoke(app, ok)  # the user name is taken
    assert again.exit_code == 2 and "already in use" in again.output
