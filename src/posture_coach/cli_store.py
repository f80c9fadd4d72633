"""Commands for trainers and HR: ``db``, ``report``, ``score``, ``batch``, ``users``, ``purge-media``.

Mounted by :mod:`posture_coach.cli` through :func:`register`; heavy modules are imported
inside the commands so other commands start fast.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from .errors import CoachError
from .scoring import points


class Lang(StrEnum):
    zh = "zh"
    en = "en"


class ReportFormat(StrEnum):
    html = "html"
    json = "json"
    pdf = "pdf"


class TraineeSide(StrEnum):
    left = "left"
    right = "right"
    profile = "profile"


RolePlayOpt = Annotated[TraineeSide | None, typer.Option(
    "--role-play", help="A role-play with two people in view: the trainee is the one on this side of the image, "
                        "or (profile) the one wearing the clothes of the --profile calibration.")]
ProfileOpt = Annotated[Path | None, typer.Option(
    "--profile", help="The trainee's calibration (posture-coach calibrate): baselines, and the clothes "
                      "--role-play profile looks for.")]


class BatchEngine(StrEnum):
    local = "local"
    ray = "ray"


ModelDirOpt = Annotated[Path | None, typer.Option("--model-dir", envvar="POSTURE_COACH_MODEL_DIR", help="Folder holding the .task model bundles (else the user cache).")]
DbUrlOpt = Annotated[str | None, typer.Option("--db", envvar="POSTURE_COACH_DB_URL", help="Database URL (default: SQLite in the user data dir).")]

db_app = typer.Typer(help="The database: migrations. 数据库迁移。", no_args_is_help=True)
users_app = typer.Typer(help="Logins for trainees, trainers and HR admins. 学员、培训师和人力资源账号。", no_args_is_help=True)
people_app = typer.Typer(help="The people filmed (trainees): add, list, record consent, delete. 学员名单。",
                         no_args_is_help=True)
cohorts_app = typer.Typer(help="Cohorts for the onboarding self-check: add, list, rename, add or remove members. "
                               "培训班。",
                          no_args_is_help=True)


def _db(url: str | None, *, ready: bool = False) -> Any:
    """The store; with ``ready``, one whose schema is there (else a one-line error that says
    to run ``db upgrade``, not a traceback)."""
    from .store import Database

    db = Database(url)
    if ready:
        try:
            db.require_schema()
        except CoachError as exc:
            raise _fail(str(exc), exc.exit_code) from None
    return db


def _fail(msg: str, code: int = 1) -> typer.Exit:
    _err(typer.style(f"error: {msg}", fg=typer.colors.RED) if sys.stderr.isatty() else f"error: {msg}")
    return typer.Exit(code)


def _fail_in(exc: CoachError, lang: str) -> typer.Exit:
    """A coach error in the output's language first (its reason's text), the technical line after."""
    from .errors import reason_of, reason_texts

    why = reason_texts(reason_of(exc)) if reason_of(exc) != "analysis_failed" else None
    return _fail(f"{why['zh' if lang == 'zh' else 'en']} ({exc})" if why else str(exc), exc.exit_code)


def _say(en: str, zh: str) -> None:
    """A confirmation in the user's language: Chinese where the locale says so
    (``POSTURE_COACH_LANG``, else ``LC_ALL`` / ``LC_MESSAGES`` / ``LANG`` starting with zh),
    else English. Lists (tab-separated, for scripts) are not translated."""
    typer.echo(zh if _locale_is_zh() else en)


def _locale_is_zh() -> bool:
    import os

    for var in ("POSTURE_COACH_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return value.lower().startswith("zh")
    return False


def _err(line: str) -> None:
    """One line to stderr, flushed at once. Not through click's echo: inside
    quiet_native_stderr (fd 2 redirected) click wraps a piped stderr in a buffer of its own
    that was never flushed, so errors and progress vanished from logs and pipes."""
    print(line, file=sys.stderr, flush=True)


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    db_url: DbUrlOpt = None,
) -> None:
    """Create or migrate the schema (Alembic)."""
    try:
        db = _db(db_url)
        db.upgrade(revision)
    except CoachError as exc:
        raise _fail(str(exc), exc.exit_code) from None
    typer.echo(f"database at {revision}: {db.engine.url.render_as_string(hide_password=True)}")


@users_app.command("add")
def users_add(
    username: str,
    role: Annotated[str, typer.Option(help="trainee, trainer or hr_admin")],
    person: Annotated[int | None, typer.Option(help="Person id (needed for trainees).")] = None,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)] = "",
    db_url: DbUrlOpt = None,
) -> None:
    """Add a login (the password is stored as an Argon2id hash)."""
    from .store import repo

    db = _db(db_url, ready=True)
    if role == "trainee" and person is None:
        raise _fail("a trainee login belongs to a person: add one with `posture-coach people add NAME`, "
                    "then `users add USER --role trainee --person ID`", 2)
    with _store_errors(), db.session() as s:
        u = repo.create_user(s, username, password, role, person_id=person)
        roles_zh = {"trainer": "培训师", "hr_admin": "人力资源", "trainee": "学员"}
        _say(f"user {u.id} {u.username} ({u.role})", f"已添加账号 {u.id} {u.username}（{roles_zh.get(u.role, u.role)}）")


@users_app.command("list")
def users_list(db_url: DbUrlOpt = None) -> None:
    """List the logins: id, name, role, the person a trainee login belongs to, and
    "disabled" after a login that can no longer sign in."""
    from sqlalchemy import select

    from .store.models import User

    with _db(db_url, ready=True).session() as s:
        for u in s.scalars(select(User).order_by(User.id)):
            typer.echo(f"{u.id}\t{u.username}\t{u.role}" + (f"\tperson {u.person_id}" if u.person_id else "")
                       + ("\tdisabled" if u.disabled else ""))


@users_app.command("disable")
def users_disable(username: str, db_url: DbUrlOpt = None) -> None:
    """Stop a login (someone who left): signed out everywhere, sign-in refused. Their
    person, sessions and reviews stay; `users enable` undoes it."""
    from .store import repo

    with _store_errors(), _db(db_url, ready=True).session() as s:
        u = repo.set_disabled(s, username, True)
        _say(f"user {u.id} {u.username}: disabled, signed out everywhere (their records stay)",
             f"已停用账号 {u.id} {u.username}：已在所有设备上退出登录（其记录保留）")


@users_app.command("enable")
def users_enable(username: str, db_url: DbUrlOpt = None) -> None:
    """Let a disabled login sign in again."""
    from .store import repo

    with _store_errors(), _db(db_url, ready=True).session() as s:
        u = repo.set_disabled(s, username, False)
        _say(f"user {u.id} {u.username}: enabled, can sign in again", f"已启用账号 {u.id} {u.username}：可以重新登录")


@users_app.command("password")
def users_password(
    username: str,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)] = "",
    db_url: DbUrlOpt = None,
) -> None:
    """Set a new password for a login (someone who forgot theirs); it is signed out everywhere."""
    from .store import repo

    with _store_errors(), _db(db_url, ready=True).session() as s:
        u = repo.set_password(s, username, password)
        _say(f"user {u.id} {u.username}: new password set, signed out everywhere",
             f"账号 {u.id} {u.username} 已设置新密码，并已在所有设备上退出登录")


@contextlib.contextmanager
def _store_errors() -> Iterator[None]:
    """The store's refusals as one line each (a name taken, an id that does not exist)."""
    from sqlalchemy.exc import IntegrityError

    from .errors import reason_texts
    from .store.repo import Forbidden, NotFound

    def both(exc: Exception, reason: str) -> str:
        """HR reads these in Chinese or English: the reason's texts, then the detail."""
        texts = reason_texts(getattr(exc, "reason", None) or reason) or reason_texts(reason)
        return f"{texts['zh']} / {texts['en']} ({exc})" if texts else str(exc)

    try:
        yield
    except (NotFound, Forbidden) as exc:
        raise _fail(both(exc, "not_found" if isinstance(exc, NotFound) else "forbidden"), 4) from None
    except IntegrityError:
        raise _fail("与已有数据冲突（名称或邮箱已被使用，或编号不存在） / conflicts with existing data (a name or "
                    "e-mail already in use, or an id that does not exist)", 2) from None
    except ValueError as exc:
        raise _fail(both(exc, "bad_request"), 2) from None


@people_app.command("add")
def people_add(
    name: str,
    email: Annotated[str | None, typer.Option(help="Optional e-mail (unique).")] = None,
    consent: Annotated[bool, typer.Option("--consent/--no-consent",
                                          help="The person agreed to their videos being stored.")] = False,
    db_url: DbUrlOpt = None,
) -> None:
    """Add a person who will be filmed (a trainee); prints the id logins and cohorts use."""
    from .store import repo

    with _store_errors(), _db(db_url, ready=True).session() as s:
        p = repo.create_person(s, name, email=email, consent_media=consent)
        _say(f"person {p.id} {p.name}" + (" (consent to store videos)" if consent else ""),
             f"已添加学员 {p.id} {p.name}" + ("（已同意保存录像）" if consent else ""))


@people_app.command("consent")
def people_consent(
    person_id: int,
    consent: Annotated[bool, typer.Option("--yes/--withdraw",
                                          help="Record consent, or withdraw it (deletes their stored videos).")],
    db_url: DbUrlOpt = None,
) -> None:
    """Record or withdraw a person's consent to their videos being stored. Withdrawing
    deletes the videos and evidence snapshots already stored of them; scores stay."""
    from .store import repo

    with _store_errors():
        p, removed = repo.set_consent(_db(db_url, ready=True), person_id, consent)
    _say(f"person {p.id} {p.name}: " + ("consent to store videos recorded" if consent else
                                        f"consent withdrawn, {removed} stored file(s) deleted"),
         f"学员 {p.id} {p.name}：" + ("已登记同意保存录像" if consent else f"已撤回同意，删除了 {removed} 个已保存的文件"))


@people_app.command("delete")
def people_delete(
    person_id: int,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: this cannot be undone.")] = False,
    db_url: DbUrlOpt = None,
) -> None:
    """Delete a person with everything kept of them: sessions, scores, reviews, videos,
    evidence pictures and their trainee login. Needs --yes."""
    from .store import repo

    db = _db(db_url, ready=True)
    with _store_errors():
        with db.session() as s:
            name = repo.get_person(s, person_id).name
        if not yes:
            raise _fail(f"deleting person {person_id} {name} removes their sessions, scores, reviews, videos "
                        "and login for good: run again with --yes", 2)
        removed = repo.delete_person(db, person_id)
    _say(f"person {person_id} {name} deleted, with {removed} stored file(s)",
         f"已删除学员 {person_id} {name} 及其 {removed} 个已保存的文件")


@people_app.command("list")
def people_list(db_url: DbUrlOpt = None) -> None:
    """List the people: id, name, consent."""
    from sqlalchemy import select

    from .store.models import Person

    with _db(db_url, ready=True).session() as s:
        for p in s.scalars(select(Person).order_by(Person.id)):
            typer.echo(f"{p.id}\t{p.name}\t{'consent' if p.consent_media else 'no consent'}")


@cohorts_app.command("add")
def cohorts_add(
    name: str,
    trainer: Annotated[str | None, typer.Option(help="The trainer's user name (sees and reviews the cohort).")] = None,
    pass_score: Annotated[float, typer.Option(min=0.0, max=100.0,
                                              help="Pass mark per required rule, 0-100.")] = 80.0,
    db_url: DbUrlOpt = None,
) -> None:
    """Add a cohort of new hires for the onboarding self-check."""
    from sqlalchemy import select

    from .store import repo
    from .store.models import User

    if 0.0 <= pass_score <= 1.0:
        # The API takes a fraction (0.8); here it is points. 0.8 points would pass everyone.
        raise _fail(f"the pass mark is in points, 0-100 (e.g. 80): {pass_score:g} would pass everyone; "
                    f"did you mean {pass_score * 100:g}? / 及格线按分数填写（0–100，例如 80）："
                    f"{pass_score:g} 分会让所有人通过，是否应为 {pass_score * 100:g}？", 2)
    with _store_errors(), _db(db_url, ready=True).session() as s:
        trainer_id = None
        if trainer is not None:
            u = s.scalars(select(User).where(User.username == trainer)).first()
            if u is None or u.role != "trainer":
                raise repo.Invalid(f"no trainer called {trainer!r}" + ("" if u is None else f" ({trainer!r} is "
                                   f"a {u.role} login)") + " (add one with `users add NAME --role trainer`)",
                                   reason="not_a_trainer")
            trainer_id = u.id
        c = repo.create_cohort(s, name, trainer_id=trainer_id, pass_score=pass_score / 100.0)
        _say(f"cohort {c.id} {c.name} (pass mark {pass_score:g})", f"已添加培训班 {c.id} {c.name}（及格线 {pass_score:g} 分）")


@cohorts_app.command("add-member")
def cohorts_add_member(cohort: int, person: list[int], db_url: DbUrlOpt = None) -> None:
    """Put people (ids from `people list`) in a cohort."""
    from .store import repo

    with _store_errors(), _db(db_url, ready=True).session() as s:
        for pid in person:
            repo.add_member(s, cohort, pid)
        c = repo.get_cohort(s, cohort)
        _say(f"cohort {c.id} {c.name}: {len(c.members)} member(s)", f"培训班 {c.id} {c.name}：共 {len(c.members)} 名学员")


@cohorts_app.command("remove-member")
def cohorts_remove_member(cohort: int, person: list[int], db_url: DbUrlOpt = None) -> None:
    """Take people out of a cohort (their sessions and results stay)."""
    from .store import repo

    with _store_errors(), _db(db_url, ready=True).session() as s:
        gone = [pid for pid in person if repo.remove_member(s, cohort, pid)]
        c = repo.get_cohort(s, cohort)
        s.refresh(c)
        not_in = [str(pid) for pid in person if pid not in gone]
        _say(f"cohort {c.id} {c.name}: {len(c.members)} member(s)"
             + (f" (not in it: {', '.join(not_in)})" if not_in else ""),
             f"培训班 {c.id} {c.name}：共 {len(c.members)} 名学员"
             + (f"（不在班内：{'、'.join(not_in)}）" if not_in else ""))


@cohorts_app.command("rename")
def cohorts_rename(cohort: int, name: str, db_url: DbUrlOpt = None) -> None:
    """Give a cohort a new name (a typo, a new intake name); names are unique."""
    from .store import repo

    with _store_errors(), _db(db_url, ready=True).session() as s:
        old = repo.get_cohort(s, cohort).name
        c = repo.rename_cohort(s, cohort, name)
        _say(f"cohort {c.id} {c.name} (was {old})", f"培训班 {c.id} 已改名为 {c.name}（原名 {old}）")


@cohorts_app.command("list")
def cohorts_list(db_url: DbUrlOpt = None) -> None:
    """List the cohorts: id, name, members, pass mark."""
    from sqlalchemy import select

    from .store.models import Cohort

    with _db(db_url, ready=True).session() as s:
        for c in s.scalars(select(Cohort).order_by(Cohort.id)):
            typer.echo(f"{c.id}\t{c.name}\t{len(c.members)} member(s)\tpass mark {points(c.pass_score)}")


def report(
    session_id: Annotated[int, typer.Argument(min=1, max=2**63 - 1, help="Stored session id.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file: .html (self-contained), .json or .pdf.")],
    lang: Annotated[Lang, typer.Option("--lang", help="Report language.")] = Lang.zh,
    fmt: Annotated[ReportFormat | None, typer.Option("--format", "-f", help="html, json or pdf (A4, printed by headless Chromium; set POSTURE_COACH_CHROMIUM to choose the browser). Default: from the --out suffix (.json, .pdf, else html).")] = None,
    db_url: DbUrlOpt = None,
) -> None:
    """Write the report of a stored session (scores, timeline, evidence, trainer reviews). 导出已保存会话的报告。"""
    from . import report as rep
    from .store.repo import NotFound

    kind = fmt or _format_from_suffix(out)
    _check_report_target(out, kind, lang)  # before the database work
    try:
        data = rep.report_from_session(_db(db_url, ready=True), session_id)
    except NotFound as exc:
        from .errors import reason_texts

        texts = reason_texts("not_found") or {}
        raise _fail(f"{texts.get(lang.value, '')} ({exc})" if texts else str(exc), 4) from None
    _write_report(data, out, kind, lang)
    typer.echo(str(out))


def _check_report_target(out: Path, kind: ReportFormat, lang: Lang) -> None:
    """Say at once, before any work, that a report cannot be written there (a read-only
    folder) or made here (a PDF without Chromium)."""
    from .fileio import ensure_writable

    try:
        ensure_writable(out)
    except CoachError as exc:
        raise _fail_in(exc, lang.value) from None
    if kind is ReportFormat.pdf:
        from .pdf import find_chromium

        try:
            find_chromium()
        except CoachError as exc:
            raise _fail_in(exc, lang.value) from None


def _write_report(data: dict[str, Any], out: Path, kind: ReportFormat, lang: Lang) -> None:
    from . import report as rep

    if kind is ReportFormat.json:
        rep.write_json(data, out)
    elif kind is ReportFormat.pdf:
        from .pdf import write_pdf

        try:
            write_pdf(data, out, lang.value)
        except CoachError as exc:
            raise _fail_in(exc, lang.value) from None
    else:
        rep.write_html(data, out, lang.value)


def _format_from_suffix(out: Path) -> ReportFormat:
    suffix = out.suffix.lower()
    if suffix == ".json":
        return ReportFormat.json
    if suffix == ".pdf":
        return ReportFormat.pdf
    return ReportFormat.html


def _analysis_options(role_play: TraineeSide | None, **kw: Any) -> Any:
    """``score``/``batch``'s :class:`~posture_coach.jobs.AnalysisOptions`; a role-play setting
    it refuses (``profile`` without ``--profile``) is a usage error, exit 2."""
    from .errors import reason_texts
    from .jobs import AnalysisOptions

    try:
        return AnalysisOptions(role_play=None if role_play is None else role_play.value, **kw)
    except ValueError as exc:
        texts = reason_texts("profile_needed") if role_play is TraineeSide.profile else None
        raise _fail(f"--role-play: {exc}" + (f" / {texts['zh']}" if texts else ""), 2) from None


def score(
    video: Annotated[Path, typer.Argument(help="A recorded role-play video.")],
    report_path: Annotated[Path | None, typer.Option("--report", help="Write the report here: .pdf (A4, printed by headless Chromium), .json, else self-contained HTML.")] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the report JSON here.")] = None,
    lang: Annotated[Lang, typer.Option("--lang", help="Report language.")] = Lang.zh,
    evidence: Annotated[Path | None, typer.Option("--keep-evidence", help="Keep evidence snapshots in this folder (frames are not stored otherwise).")] = None,
    posture: Annotated[str, typer.Option(help="auto, standing or sitting.")] = "auto",
    stride: Annotated[int, typer.Option(min=0, help="Analyse every N-th frame; 0 = auto, about 15 frames a second (see the README's speed notes).")] = 1,
    model_dir: ModelDirOpt = None,
    role_play: RolePlayOpt = None,
    profile: ProfileOpt = None,
) -> None:
    """Score a video and write its report (nothing is stored in the database). 为一段录像评分并生成报告。"""
    from . import report as rep
    from .cli import quiet_native_stderr
    from .fileio import ensure_writable
    from .jobs import analyse_video

    opts = _analysis_options(role_play, posture=posture, stride=stride, model_dir=model_dir,
                             evidence_dir=evidence, profile=profile)
    # Before the analysis: a long video's work is not lost on a read-only folder or a PDF
    # that cannot be printed here.
    if report_path is not None:
        _check_report_target(report_path, _format_from_suffix(report_path), lang)
    try:
        if json_path is not None:
            ensure_writable(json_path)
        if evidence is not None:
            ensure_writable(evidence, folder=True)
    except CoachError as exc:
        raise _fail_in(exc, lang.value) from None
    with quiet_native_stderr(True):
        try:
            result = analyse_video(video, opts)
        except CoachError as exc:
            from .errors import reason_of, reason_texts

            # What went wrong in the report's language first, the technical line after it.
            why = reason_texts(reason_of(exc))
            raise _fail(f"{why[lang.value]} ({exc})" if why else str(exc), exc.exit_code) from None
    data = rep.report_from_result(result, source=str(video), stride=result.stride, role_play=opts.role_play)
    from .errors import notice_text

    for note in data["notices"]:  # e.g. two people in view: a role-play scored as practice alone
        _err(("注意：" if lang is Lang.zh else "note: ") + (notice_text(note, lang.value) or ""))
    if json_path is not None:
        rep.write_json(data, json_path)
    if report_path is not None:
        _write_report(data, report_path, _format_from_suffix(report_path), lang)
    if report_path is None and json_path is None:
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        overall = data["overall_score"]
        score_txt = "—" if overall is None else str(points(overall))
        written = ", ".join(str(p) for p in (report_path, json_path) if p is not None)
        n = len(data["findings"])
        unscored = ""
        if overall is None:  # nothing judged: say why instead of a bare dash
            from collections import Counter

            from .rules.base import reason_text

            reasons = Counter(r["top_reason"] for r in data["rules"] if r.get("top_reason"))
            if reasons:
                top = reason_text(reasons.most_common(1)[0][0], lang.value)
                unscored = f"（无法评分：{top}）" if lang is Lang.zh else f" (nothing could be judged: {top})"
        if lang is Lang.zh:
            typer.echo(f"{video.name}：总分 {score_txt}{unscored}；{n} 个问题；已写入 {written}")
        else:
            typer.echo(f"{video.name}: overall {score_txt}{unscored}; {n} finding(s); written: {written}")


def batch(
    inputs: Annotated[list[Path], typer.Argument(help="Folders of videos, video files, or .txt lists (one path a line).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the reports and summary.json.")],
    engine: Annotated[BatchEngine, typer.Option("--engine", help="local: threads in this process; ray: a Ray runtime (local if none is running).")] = BatchEngine.local,
    workers: Annotated[int, typer.Option(min=1, help="Videos analysed at once.")] = 1,
    lang: Annotated[list[Lang] | None, typer.Option("--lang", help="Report language(s); default zh and en.")] = None,
    evidence: Annotated[bool, typer.Option("--keep-evidence/--no-evidence", help="Keep evidence snapshots under OUT/evidence.")] = False,
    posture: Annotated[str, typer.Option(help="auto, standing or sitting.")] = "auto",
    stride: Annotated[int, typer.Option(min=0, help="Analyse every N-th frame; 0 = auto, about 15 frames a second.")] = 1,
    model_dir: ModelDirOpt = None,
    role_play: RolePlayOpt = None,
    profile: ProfileOpt = None,
) -> None:
    """Score many videos and write a report per video; failures are listed, never fatal. 批量评分。"""
    from .cli import quiet_native_stderr
    from .fileio import ensure_writable
    from .jobs import collect_videos, run_batch

    videos = collect_videos(inputs)
    if not videos:
        raise _fail("no videos found in the inputs / 输入中没有找到视频文件", 2)
    try:
        ensure_writable(out, folder=True)
        if profile is not None:  # a damaged profile is refused once, before any video
            from .calibration import Profile

            Profile.load(profile)
    except CoachError as exc:
        raise _fail_in(exc, (lang or [Lang.zh])[0].value) from None
    opts = _analysis_options(role_play, posture=posture, stride=stride, model_dir=model_dir,
                             evidence_dir=(out / "evidence").resolve() if evidence else None, profile=profile)
    langs = tuple(x.value for x in (lang or [Lang.zh, Lang.en]))

    def done(item: dict[str, Any]) -> None:
        from .errors import notice_text

        state = "ok" if item["ok"] else f"FAILED: {item['error']}"
        video = Path(item["video"])
        # Two videos of one name: the second's reports are NAME-2.* (jobs.report_names).
        renamed = f" → {item['name']}.json" if item.get("name") not in (None, video.stem) else ""
        _err(f"{video.name}: {state}{renamed} ({item.get('seconds', 0):.1f} s)")
        for note in item.get("notices") or ():
            _err(f"  {'注意：' if langs[0] == 'zh' else 'note: '}{notice_text(note, langs[0])}")

    with quiet_native_stderr(True):
        try:
            summary = run_batch(videos, out, engine=engine.value, workers=workers, opts=opts, langs=langs,
                                on_done=done)
        except CoachError as exc:
            raise _fail(str(exc), exc.exit_code) from None
    typer.echo(f"{summary['ok']}/{summary['videos']} scored in {summary['wall_s']:.1f} s "
               f"({engine.value}, {workers} worker(s)); summary: {out / 'summary.json'}")
    from .errors import reason_texts

    for item in summary["failed"]:
        error = str(item["error"])  # the technical line names the file itself, mostly
        shown = error if error.startswith(str(item["video"])) else f"{item['video']}: {error}"
        why = reason_texts(item.get("reason"))
        typer.echo(f"  failed: {shown}" + (f" ({why[langs[0]]})" if why else ""))
    if summary["failed"]:
        raise typer.Exit(1)


def purge_media(
    older_than_days: Annotated[int | None, typer.Option(help="Default: the retention setting.")] = None,
    db_url: DbUrlOpt = None,
) -> None:
    """Delete stored videos and evidence older than the retention period (scores stay). 清除过期的视频与证据截图。"""
    from .store import repo

    n = repo.purge_media(_db(db_url, ready=True), older_than_days)
    typer.echo(f"removed {n} file(s)")


def register(app: typer.Typer) -> None:
    """Add the trainer/HR commands to the main CLI."""
    app.add_typer(db_app, name="db")
    app.add_typer(users_app, name="users")
    app.add_typer(people_app, name="people")
    app.add_typer(cohorts_app, name="cohorts")
    app.command("report")(report)
    app.command("score")(score)
    app.command("batch")(batch)
    app.command("purge-media")(purge_media)
