"""`flask platform …`: preview, status, replay, backfill, export-omop and the reference receiver."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import AppGroup

from app.extensions import db
from app.outbox.models import OutboxEvent
from app.platform import backfill as backfills
from app.platform import push, queries

platform = AppGroup("platform", help="The clinical data platform: what is pushed, and how the push is doing.")


def _since(value: str) -> datetime:
    """The start of DATE in the clinic's time zone, where the pages and the export date everything."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("give a date as YYYY-MM-DD") from None
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


@platform.command("preview")
@click.option("--event", "event_id", type=click.IntRange(min=1), required=True, help="The outbox event's id.")
def preview_command(event_id: int) -> None:
    """Print exactly the JSON that would be sent for one event (a batch Bundle of that event alone)."""
    event = db.session.get(OutboxEvent, event_id)
    if event is None:
        raise click.ClickException(f"There is no event {event_id}.")
    sendable, invalid = push.checked([(event.id, event.idempotency_key, event.payload, event.attempts)])
    if invalid:
        raise click.ClickException(f"Event {event_id} would not be sent: {invalid[event.id]}")
    click.echo(push.bundle_body([(key, resource) for _id, key, resource, _n in sendable]).decode())


@platform.command("status")
def status_command() -> None:
    """Counts by status and the age of the oldest pending event."""
    summary = queries.health()
    for status, count in summary["by_status"].items():
        click.echo(f"{status:<10} {count}")
    age = summary["oldest_pending_seconds"]
    click.echo("oldest pending: " + ("none" if age is None else f"{age:.0f} s"))
    if summary["last_error"]:
        event_id, error = summary["last_error"]
        click.echo(f"last error (event {event_id}): {error}")


@platform.command("replay")
@click.option("--dead", is_flag=True, required=True, help="Queue every dead event again.")
def replay_command(dead: bool) -> None:
    """Queue dead events again (after the platform or the payload was fixed)."""
    replayed = backfills.replay_dead()
    db.session.commit()
    click.echo(f"{replayed} dead events queued again.")


@platform.command("backfill")
@click.option("--since", "since", required=True,
              help="Handed over, returned or recorded on or after YYYY-MM-DD.")
def backfill_command(since: str) -> None:
    """Write the events of what happened since DATE that the platform has not had (nothing twice)."""
    start = _since(since)
    total = 0
    for label, batches, count in backfills.plan(start):
        with click.progressbar(length=count, label=label, show_pos=True) as bar:
            for size, written in backfills.run(batches):
                db.session.commit()
                bar.update(size)
                total += written
    click.echo(f"{total} events written.")


@platform.command("export-omop")
@click.option("--since", "since", required=True, help="Handed over on or after YYYY-MM-DD.")
@click.option("--output", type=click.File("w", encoding="utf-8"), default="-",
              help="CSV file (default stdout).")
def export_omop_command(since: str, output) -> None:
    """OMOP CDM DRUG_EXPOSURE rows of the dispenses handed over since DATE, as CSV."""
    from app.platform.omop import write_drug_exposure

    written = write_drug_exposure(_since(since), output)
    db.session.commit()  # research tokens made for patients exported for the first time
    click.echo(f"{written} rows.", err=True)


def _register_receiver() -> None:
    from app.platform.receiver import receive_command

    platform.add_command(receive_command)


_register_receiver()
