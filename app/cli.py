"""The ``shouwang`` command: serve, migrate, seed-demo, create-officer and imports."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as ProgressBar
from rich.table import Table

from app.domain.shared.imports import ImportReport, Progress
from app.settings import Settings, load_settings

cli = typer.Typer(help="Shouwang (守望) service commands.", no_args_is_help=True)
console = Console()


def _settings() -> Settings:
    try:
        return load_settings()
    except ValueError as exc:
        console.print(f"[red]Invalid settings:[/red] {exc}")
        raise typer.Exit(2) from exc


@cli.command()
def serve(
    workers: Annotated[int | None, typer.Option(help="Worker processes")] = None,
    host: Annotated[str | None, typer.Option(help="Bind address")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
    reload: Annotated[bool, typer.Option(help="Reload on code change (development)")] = False,
) -> None:
    """Serve the REST and GraphQL API."""
    import uvicorn

    settings = _settings()
    uvicorn.run(
        "app.asgi:app_factory",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        reload=reload,
        access_log=False,
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=",".join(settings.trusted_proxies) or None,
        log_config=None,
    )


@cli.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision")] = "heads",
) -> None:
    """Create the database if missing and run the migrations up to REVISION."""
    from app.bootstrap.database import ensure_database, run_migrations

    settings = _settings()
    created = asyncio.run(ensure_database(settings.database_url))
    if created:
        console.print("Created the database.")
    run_migrations(settings.database_url, revision)
    console.print(f"Migrations applied up to [bold]{revision}[/bold].")


@cli.command("create-officer")
def create_officer(
    username: Annotated[str, typer.Argument(help="Login name")],
    password: Annotated[
        str, typer.Option(help="Password (12+ characters)", prompt=True, hide_input=True)
    ],
    unit: Annotated[str, typer.Option(help="Organisation unit code the role is bound to")],
    role: Annotated[str, typer.Option(help="officer | station_admin | district_admin | auditor")],
    name: Annotated[str | None, typer.Option(help="Display name")] = None,
) -> None:
    """Create a police officer account bound to an organisation unit."""
    from app.bootstrap.commands import create_officer as run

    settings = _settings()
    account_id = asyncio.run(run(settings, username, password, unit, role, name))
    console.print(f"Created officer [bold]{username}[/bold] ({role} of {unit}): {account_id}")


def _run_import(
    title: str, job: Callable[[Progress], Coroutine[Any, Any, ImportReport]]
) -> ImportReport:
    with ProgressBar(
        TextColumn(title),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(title, total=None)

        def tick(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        return asyncio.run(job(tick))


def _print_report(report: ImportReport) -> None:
    console.print(
        f"Rows: {report.total}  accepted: [green]{report.accepted}[/green]  "
        f"rejected: [red]{len(report.rejected)}[/red]"
    )
    if report.rejected:
        table = Table("row", "reason", title="Rejected")
        for row in report.rejected:
            table.add_row(escape(row.ref), escape(row.reason))
        console.print(table)


@cli.command("import-jurisdictions")
def import_jurisdictions(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Load districts, stations, communities and grids from a GeoJSON FeatureCollection."""
    from app.bootstrap.commands import import_jurisdictions as run

    settings = _settings()
    report = _run_import("Jurisdictions", lambda tick: run(settings, file, tick))
    _print_report(report)
    if report.rejected and not report.accepted:
        raise typer.Exit(1)


@cli.command("import-volunteers")
def import_volunteers(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    station: Annotated[
        str | None, typer.Option(help="Default station code for rows without one")
    ] = None,
) -> None:
    """Register volunteers in bulk from a CSV or XLSX file."""
    from app.bootstrap.commands import import_volunteers as run

    settings = _settings()
    report = _run_import("Volunteers", lambda tick: run(settings, file, station, tick))
    _print_report(report)
    if report.rejected and not report.accepted:
        raise typer.Exit(1)


@cli.command("seed-demo")
def seed_demo() -> None:
    """Load the synthetic Wujin demo district (idempotent) and print demo logins."""
    from app.bootstrap.demo import seed_demo as run

    settings = _settings()
    asyncio.run(run(settings, console))


@cli.command()
def worker(
    once: Annotated[
        bool, typer.Option(help="Deliver what is due, run housekeeping once, and exit")
    ] = False,
) -> None:
    """Deliver outbox events (retries, dead letter) and run housekeeping until SIGTERM."""
    from app.bootstrap.worker import run_worker

    settings = _settings()
    asyncio.run(run_worker(settings, once=once))


@cli.command("dead-events")
def dead_events(
    limit: Annotated[int, typer.Option(help="How many to list")] = 100,
) -> None:
    """List dead-lettered outbox events (delivery gave up after the last retry)."""
    from app.bootstrap.delivery import list_dead_events

    events = asyncio.run(list_dead_events(_settings(), limit))
    table = Table("seq", "event", "record", "attempts", "last error", title="Dead events")
    for e in events:
        table.add_row(
            str(e.seq),
            escape(e.event_type),
            f"{e.aggregate_type}/{e.aggregate_id}",
            str(e.attempts),
            escape(e.last_error or ""),
        )
    console.print(table)


@cli.command("requeue-dead-events")
def requeue_dead_events(
    seq: Annotated[
        list[int] | None, typer.Option(help="Seq of an event to requeue (repeatable)")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Requeue every dead event")] = False,
) -> None:
    """Put dead events back to pending, attempts reset; the worker delivers them again."""
    from app.bootstrap.delivery import requeue_dead_events as run

    if not seq and not all_:
        console.print("[red]Give --seq N (repeatable) or --all.[/red]")
        raise typer.Exit(2)
    count = asyncio.run(run(_settings(), None if all_ else list(seq or [])))
    console.print(f"Requeued {count} event(s).")


def main() -> None:
    cli()
