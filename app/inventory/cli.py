"""`flask inventory verify`: every lot of the chain checked against its ledger rows."""

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from app.extensions import db
from app.inventory import ledger
from app.inventory.models import StockLot, StockMovement

inventory = AppGroup("inventory", help="Stock across the pharmacy chain.")


@inventory.command("verify")
def verify_command() -> None:
    """Check that every lot's on-hand and reserved quantities equal the sums of its ledger rows;
    print each mismatch and exit with status 1 if there is any."""
    mismatches = ledger.verify()
    for mismatch in mismatches:
        click.echo(f"MISMATCH {mismatch}")
    if mismatches:
        click.echo(f"{len(mismatches)} mismatch(es) between the stock lots and the ledger.", err=True)
        click.get_current_context().exit(1)
    lots = db.session.scalar(select(func.count()).select_from(StockLot))
    movements = db.session.scalar(select(func.count()).select_from(StockMovement))
    click.echo(f"Ledger OK: {lots} lots agree with their {movements} ledger rows.")
