"""The near-expiry report reads the live-lot indexes on PostgreSQL, also in a prepared statement's generic
plan, so the lots that expired or ran out over the years are never stepped over."""

import itertools
import re

import pytest
from sqlalchemy import event

from app.stock import queries
from tests.inventory.conftest import stock  # noqa: F401  (fixture)

pytestmark = pytest.mark.postgres_only
PLANS = itertools.count(1)


def _plan(db, call) -> str:
    """PostgreSQL's generic plan for the statement `call` runs, with sequential scans ruled out so the
    plan shows which index can serve it (on a few test rows the planner would rather scan)."""
    seen = []
    listener = lambda _c, _cur, statement, parameters, _ctx, _many: seen.append((statement, parameters))  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        call()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    statement, parameters = seen[-1]
    # A named, server-side prepared statement, as a connection pool's prepared statements are.
    names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", statement)))
    numbered = re.sub(r"%\((\w+)\)s", lambda found: f"${names.index(found.group(1)) + 1}", statement)
    connection = db.session.connection()
    connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    name = f"near_expiry_plan_{next(PLANS)}"  # PREPARE outlives a rolled-back test: a name each time
    connection.exec_driver_sql(f"PREPARE {name} AS {numbered}")
    arguments = ", ".join(_literal(parameters[key]) for key in names)
    plan = "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN EXECUTE {name}({arguments})"))
    connection.exec_driver_sql(f"DEALLOCATE {name}")
    return plan


def _literal(value) -> str:
    """A test value as SQL: EXECUTE casts it to the type the prepared statement gave its parameter."""
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def test_the_chain_report_walks_the_live_lots_in_expiry_order(db, stock):  # noqa: F811
    plan = _plan(db, lambda: queries.near_expiry(90))
    assert "ix_stock_lots_live_expiry" in plan, plan


def test_one_stores_report_walks_its_live_lots_in_expiry_order(db, stock):  # noqa: F811
    plan = _plan(db, lambda: queries.near_expiry(90, [stock.store]))
    assert "ix_stock_lots_store_live_expiry" in plan, plan
