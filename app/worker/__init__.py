"""`flask worker`: one loop that sweeps due rows (outgoing SMS, expiries) job by job.

Each job claims its rows with SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL, so
several workers on several hosts never take the same row, and commits once per batch.
A job that waits on a provider (sending SMS) commits its own short transactions instead,
so no lock is held while it talks to the network.
"""

import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app

from app.extensions import db

log = logging.getLogger("worker")


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[int], int]  # takes a batch size, returns how many rows it handled
    manages_transactions: bool = False  # commits its own steps; not wrapped in one commit


def jobs() -> list[Job]:
    from app.accounts.services import expire_codes
    from app.consultations.services import expire_due as expire_consultations
    from app.inventory.services import expire_lots, release_expired_reservations
    from app.notifications.services import send_due_sms
    from app.orders.services import cancel_unpaid as cancel_unpaid_orders
    from app.payments.operations import perform_due as perform_payment_operations
    from app.payments.operations import reconcile_when_due as reconcile_payments
    from app.platform.adherence_events import summarise_last_month
    from app.platform.push import push_due as push_platform_events
    from app.review.services import sweep_abandoned_claims

    return [
        Job("send-sms", send_due_sms, manages_transactions=True),
        Job("expire-verification-codes", expire_codes),
        Job("expire-consultations", expire_consultations),
        Job("cancel-unpaid-orders", cancel_unpaid_orders),
        # An order whose hold expired is cancelled and its money released in the same transaction.
        Job("release-expired-reservations", release_expired_reservations),
        # After the jobs above, so the releases they record are performed in the same sweep.
        Job("perform-payment-operations", perform_payment_operations, manages_transactions=True),
        Job("reconcile-payments", reconcile_payments, manages_transactions=True),
        Job("release-abandoned-review-claims", sweep_abandoned_claims),
        Job("expire-stock-lots", expire_lots),
        # Once a month (per process): last month's adherence, once it has settled.
        Job("summarise-adherence", summarise_last_month, manages_transactions=True),
        # Last: the events the jobs above wrote go out in the same sweep.
        Job("push-platform-events", push_platform_events, manages_transactions=True),
    ]


def run_once() -> dict[str, int]:
    """Run every job once; a failing job is rolled back and logged, the others still run."""
    batch = current_app.config["WORKER_BATCH_SIZE"]
    handled = {}
    for job in jobs():
        try:
            handled[job.name] = job.run(batch)
            if not job.manages_transactions:
                db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("job %s failed", job.name)
            handled[job.name] = 0
        finally:
            db.session.remove()
    return handled


def run_forever(poll_seconds: float) -> None:
    stopping = False

    def stop(*_args):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("worker started; polling every %ss", poll_seconds)
    while not stopping:
        handled = run_once()
        if any(handled.values()):
            log.info("handled %s", handled)
            continue  # there may be more due rows: sweep again at once
        slept = 0.0
        while slept < poll_seconds and not stopping:
            time.sleep(0.2)
            slept += 0.2
    log.info("worker stopped")
