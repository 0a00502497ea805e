"""The `backplan` command line."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import BaseModel, TypeAdapter, ValidationError
from rich.console import Console
from rich.table import Table

from programs import (
    Episode,
    IsoWeek,
    Plan,
    PrescribedExercise,
    Profile,
    ProgramError,
    SessionLog,
    all_exercises,
    plan_week,
)

app = typer.Typer(help="backplan: exercise programs that prevent the next back spasm.")
console = Console()


class PreviewProfile(Profile):
    """A profile file: the user's fields plus the episodes on record."""

    episodes: tuple[Episode, ...] = ()


def _load(path: Path, model: type[BaseModel] | TypeAdapter[tuple[SessionLog, ...]]) -> object:
    try:
        raw = json.loads(path.read_text())
        if isinstance(model, TypeAdapter):
            return model.validate_python(raw)
        return model.model_validate(raw)
    except (OSError, json.JSONDecodeError, ValidationError) as exc:
        raise typer.BadParameter(f"{path}: {exc}") from exc


@app.command()
def preview(
    profile: Annotated[Path, typer.Option(help="Profile JSON file (see examples/).")],
    week: Annotated[str | None, typer.Option(help="ISO week, e.g. 2026-W48.")] = None,
    stage: Annotated[int | None, typer.Option(min=1, max=4, help="Preview a stage.")] = None,
    history: Annotated[Path | None, typer.Option(help="Session history JSON file.")] = None,
    table: Annotated[bool, typer.Option("--table", help="Print a readable table.")] = False,
    today: Annotated[str | None, typer.Option(help="Pretend today is this date.")] = None,
) -> None:
    """Print one week's plan for a profile, as JSON or a table."""
    person = _load(profile, PreviewProfile)
    assert isinstance(person, PreviewProfile)
    logs: tuple[SessionLog, ...] = ()
    if history is not None:
        loaded = _load(history, TypeAdapter(tuple[SessionLog, ...]))
        assert isinstance(loaded, tuple)
        logs = loaded
    try:
        on = date.fromisoformat(today) if today else date.today()
        the_week = IsoWeek.parse(week) if week else IsoWeek.of(on)
        plan = plan_week(
            person_id=profile.stem,
            profile=Profile.model_validate(person.model_dump(exclude={"episodes"})),
            week=the_week,
            today=on,
            history=logs,
            episodes=person.episodes,
            stage=stage,
        )
    except (ProgramError, ValueError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    if table:
        _print_plan(plan)
    else:
        typer.echo(plan.model_dump_json(indent=2))


def _print_plan(plan: Plan) -> None:
    stage = f"stage {plan.stage.number}: {plan.stage.name}" if plan.stage else "no stage"
    console.print(f"[bold]{plan.week}[/bold]  {plan.status.value}  {stage}")
    for line in (*plan.reasons, *plan.guidance):
        console.print(f"  - {line}")
    for session in plan.sessions:
        grid = Table(title=f"{session.date:%a %d %b}  {session.minutes} min", title_justify="left")
        for column in ("block", "exercise", "dose", "min"):
            grid.add_column(column)
        for block in session.blocks:
            for exercise in block.exercises:
                grid.add_row(
                    block.type.value, exercise.name, _dose(exercise), str(exercise.minutes)
                )
        console.print(grid)
    if plan.balance:
        b = plan.balance
        console.print(
            f"balance: back {b.back_extensor_seconds}s / abdominal {b.abdominal_seconds}s"
            f" = {b.ratio}; aerobic {plan.aerobic_minutes} min"
        )
    for note in plan.notes:
        console.print(f"note: {note}")
    if plan.education:
        console.print(f"tip ({plan.education.topic}): {plan.education.text}")


def _dose(exercise: PrescribedExercise) -> str:
    if exercise.category == "aerobic":
        intensity = exercise.intensity.value if exercise.intensity else ""
        return f"{exercise.minutes} min {intensity}"
    hold = f" x {exercise.hold_seconds}s" if exercise.hold_seconds else ""
    side = " each side" if exercise.per_side else ""
    return f"{exercise.sets} x {exercise.reps}{hold}{side}"


@app.command()
def exercises() -> None:
    """List the exercise library."""
    grid = Table(title="backplan exercise library")
    for column in ("slug", "name", "category", "region", "level", "equipment"):
        grid.add_column(column)
    for e in all_exercises():
        equipment = ", ".join(item.value for item in e.equipment)
        grid.add_row(e.slug, e.name, e.category.value, e.region.value, str(e.level), equipment)
    console.print(grid)


# The service commands import the web and database stack only when they run,
# so `preview` and `exercises` stay quick.


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Serve the HTTP API (migrating the database first)."""
    import uvicorn

    from api.server import HTTP_PROTOCOL

    migrate()
    uvicorn.run("api.main:app", host=host, port=port, workers=workers, http=HTTP_PROTOCOL)


@app.command()
def migrate() -> None:
    """Apply pending database migrations (DATABASE_URL)."""
    from api.settings import get_settings
    from db.engine import make_engine
    from db.migrate import upgrade

    engine = make_engine(get_settings().database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    console.print(f"database migrated: {engine.url.render_as_string(hide_password=True)}")


@app.command()
def prune() -> None:
    """Delete Idempotency-Key responses older than BACKPLAN_IDEMPOTENCY_TTL_HOURS
    (every client's; each client's are also pruned as it sends new keys)."""
    from datetime import timedelta

    from sqlmodel import Session

    from api.settings import get_settings
    from db import idempotency
    from db.engine import make_engine

    settings = get_settings()
    engine = make_engine(settings.database_url)
    cutoff = datetime.now(UTC) - timedelta(hours=settings.idempotency_ttl_hours)
    try:
        with Session(engine) as session:
            pruned = idempotency.prune(session, before=cutoff)
            session.commit()
    finally:
        engine.dispose()
    typer.echo(f"pruned {pruned} idempotency keys created before {cutoff:%Y-%m-%d %H:%M} UTC")


@app.command()
def worker(
    once: Annotated[
        bool, typer.Option("--once", help="Deliver what is due now, then exit.")
    ] = False,
) -> None:
    """Deliver webhooks until stopped. Ctrl-C or SIGTERM lets the deliveries in
    flight finish first. Run as many as needed on PostgreSQL."""
    import logging
    import signal
    import threading

    from api.settings import get_settings
    from api.webhooks.worker import Worker, WorkerConfig
    from db.engine import make_engine
    from db.migrate import upgrade

    settings = get_settings()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    engine = make_engine(settings.database_url)
    stop = threading.Event()
    try:
        if settings.migrate_on_start:
            upgrade(engine)
        with Worker(engine, WorkerConfig.from_settings(settings)) as deliverer:
            if once:
                while deliverer.run_once():
                    pass
                return
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, lambda *_: stop.set())
            where = engine.url.render_as_string(hide_password=True)
            typer.echo(f"delivering webhooks from {where}; Ctrl-C to stop", err=True)
            deliverer.run(stop)
    finally:
        engine.dispose()


clients_app = typer.Typer(help="Fitness apps that call the API.")
app.add_typer(clients_app, name="clients")


@clients_app.command("create")
def create_client(name: Annotated[str, typer.Argument(help="The app's name.")]) -> None:
    """Register a client and print its API key (shown only this once)."""
    from sqlmodel import Session

    from api.keys import register_client
    from api.settings import get_settings
    from db.engine import make_engine
    from db.migrate import upgrade

    engine = make_engine(get_settings().database_url)
    try:
        upgrade(engine)
        with Session(engine, expire_on_commit=False) as session:
            client, key = register_client(session, name=name, now=datetime.now(UTC))
            session.commit()
    finally:
        engine.dispose()
    typer.echo(f"client id: {client.id}")
    typer.echo(f"api key:   {key}")
    typer.echo("Store the key now: backplan keeps only its hash.", err=True)


if __name__ == "__main__":  # pragma: no cover
    app()
