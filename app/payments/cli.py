"""`flask payments …`: reconcile with Stripe, list and retry payment operations that failed for good."""

import click
from flask import current_app
from flask.cli import AppGroup

from app.errors import DomainError
from app.extensions import db
from app.payments import operations
from app.payments.models import PaymentOperation

payments = AppGroup("payments", help="Payments: reconcile with Stripe and the operations owed to it.")


@payments.command("reconcile")
@click.option("--limit", type=click.IntRange(1, 10_000), default=None, help="At most this many payments.")
def reconcile_command(limit: int | None) -> None:
    """Ask Stripe about payments pending longer than PAYMENT_RECONCILE_MINUTES; perform overdue operations."""
    moved = operations.reconcile(limit or current_app.config["WORKER_BATCH_SIZE"])
    click.echo(f"{moved} payment(s) or operation(s) settled.")


@payments.command("failed")
def failed_command() -> None:
    """List the operations that failed for good (operations staff collect or release these by hand)."""
    found = operations.failed_operations()
    for operation in found:
        click.echo("\t".join((str(operation.id), f"payment {operation.payment_id}", str(operation.kind),
                             f"{operation.amount_fen} fen", f"{operation.attempts} attempt(s)",
                             operation.last_error or "")))
    if not found:
        click.echo("No failed payment operations.")


@payments.command("retry")
@click.argument("operation_id", type=click.IntRange(1, 2**63 - 1))
def retry_command(operation_id: int) -> None:
    """Put a failed operation back in the queue and perform it now."""
    try:
        operation = operations.retry(operation_id)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    if operation is None:
        raise click.ClickException(f"No payment operation {operation_id}.")
    db.session.commit()
    operations.perform(operation_id)
    click.echo(f"Operation {operation_id}: {db.session.get(PaymentOperation, operation_id).status}.")
