"""normal lot numbers: every stored lot number trimmed, upper-case, inner white space as one space.

Lot numbers are now normalised wherever they come in, so "sh01-0107" and "SH01-0107" are one lot; rows
written before then are brought to the same form here (stock lots, transfer lines, recalls).

Two rows that would become one (the same drug's lot in the same store, or recalled twice, typed in two
cases) are not merged: each has its own ledger, and the append-only ledger cannot be rewritten to join
them. The upgrade then stops and lists them, changing nothing, so that a person moves the stock onto one
of the lots (a ledger adjustment on each) and renames the emptied one before upgrading again. Skipping
them instead would leave a lot that a recall by its number does not find.

The downgrade keeps the normalised numbers: the case they were typed in is not recorded.

Revision ID: b2c3d4e5f6a1
Revises: a1b2c3d4e5f6
Create Date: 2026-11-30 16:00:00

"""
import re
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b2c3d4e5f6a1'
down_revision = 'a1b2c3d4e5f6'
branch_labels = None
depends_on = None

_SPACES = re.compile(r"\s+")
# Each table holding lot numbers, with the columns that, with the number, must stay unique.
TABLES = {"stock_lots": ("store_id", "drug_id"), "lot_recalls": ("drug_id",), "stock_transfer_lines": None}


def normal(number: str) -> str:
    """As app.inventory.rules.normal_lot_number at the time of writing (kept here: a migration must not
    change when the app's code does)."""
    return _SPACES.sub(" ", number or "").strip().upper()


def upgrade():
    connection = op.get_bind()
    changes, collisions = {}, []
    for table, unique in TABLES.items():
        keys = [sa.column(name) for name in unique or ()]
        rows = connection.execute(sa.select(sa.column("id"), sa.column("lot_number"), *keys)
                                  .select_from(sa.table(table)).order_by(sa.column("id"))).all()
        groups = defaultdict(list)
        for row in rows:
            groups[(*row[2:], normal(row.lot_number))].append(row)
        if unique:
            collisions += [f"{table}: ids {', '.join(str(row.id) for row in group)} would all become "
                           f"lot {key[-1]!r}" for key, group in groups.items() if len(group) > 1]
        changes[table] = [(row.id, normal(row.lot_number)) for row in rows
                          if row.lot_number != normal(row.lot_number)]
    if collisions:
        raise RuntimeError("Lot numbers that differ only in case or spacing, to be merged by hand first:\n"
                           + "\n".join(collisions))
    for table, pairs in changes.items():
        target = sa.table(table, sa.column("id"), sa.column("lot_number"))
        for ident, number in pairs:
            connection.execute(sa.update(target).where(target.c.id == ident).values(lot_number=number))


def downgrade():
    pass
