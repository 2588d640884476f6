"""Drugs (the shipped catalogue, then invented generics to reach the count) and every store's lots with
the ledger rows that make each lot's quantity its receipt less what left."""

from collections import namedtuple
from datetime import date, timedelta
from decimal import Decimal
from enum import Enum

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.benchdata.tables import COLUMNS
from app.benchdata.volumes import DAY
from app.benchdata.world import World
from app.benchdata.writer import Batch, moment
from app.drugs.models import ControlledClass, Drug
from app.drugs.services import load_shipped_catalogue
from app.extensions import db

DrugInfo = namedtuple("DrugInfo", "id code strength strength_unit pack_size pack_unit route is_cold_chain "
                                  "is_weekly_only is_antimicrobial price_fen prescribable")
# Invented makers of the generics added beyond the shipped catalogue.
MAKERS = ("Kangtai 康泰", "Huaxin 华信", "Jinling 金陵", "Tianyuan 天元", "Minsheng 民生",
          "Qilu Bench 齐鲁本奇", "Hengrui Sample 恒瑞样", "Yangtze 扬子江样")
COLD_CHAIN_ARRIVAL_C = Decimal("5.0")


def write_drugs(world: World) -> list[Drug]:
    """The shipped catalogue through the app's own loader (as `flask seed-demo` does), then copies of its
    prescribable drugs under invented brands until there are `volumes.drugs`; returns every drug."""
    load_shipped_catalogue()
    db.session.flush()
    existing = list(db.session.scalars(
        select(Drug).options(selectinload(Drug.ingredients)).order_by(Drug.id)))
    bases = [d for d in existing if d.is_online_prescribable and d.controlled_class == ControlledClass.NONE]
    missing = max(0, world.volumes.drugs - len(existing))
    if not missing:
        return [_info(d) for d in existing]
    first = world.writer.ids("drugs", missing)
    batch, made, now = Batch(), [], moment(world.clock.start)
    ingredient_id = world.writer.ids("drug_ingredients", sum(len(bases[n % len(bases)].ingredients)
                                                             for n in range(missing)))
    for n in range(missing):
        base = bases[n % len(bases)]
        pack_size = world.rng.choice((base.pack_size, base.pack_size * 2))
        values = {column: _plain(getattr(base, column)) for column in COLUMNS["drugs"]}
        values.update(id=first + n, code=f"{base.code[:32]}-BG{n:04d}", brand_name=MAKERS[n % len(MAKERS)],
                      pack_size=pack_size, price_fen=max(1, base.price_fen * pack_size // base.pack_size
                                                        * world.rng.randint(70, 95) // 100),
                      notes="", created_at=now, updated_at=now)
        batch.add("drugs", tuple(values[column] for column in COLUMNS["drugs"]))
        for ingredient in base.ingredients:
            batch.add("drug_ingredients", (ingredient_id, first + n, ingredient.position, ingredient.name,
                                           ingredient.name_zh))
            ingredient_id += 1
        made.append(DrugInfo(first + n, values["code"], base.strength, str(base.strength_unit), pack_size,
                             str(base.pack_unit), str(base.route), base.is_cold_chain, base.is_weekly_only,
                             base.is_antimicrobial, values["price_fen"], base.is_active))
    world.writer.flush(batch)
    return [_info(d) for d in existing] + made


def _plain(value):
    """Enum members as their stored values (COPY would otherwise be handed Python objects)."""
    return value.value if isinstance(value, Enum) else value


def _info(drug: Drug) -> DrugInfo:
    return DrugInfo(drug.id, drug.code, drug.strength, str(drug.strength_unit), drug.pack_size,
                    str(drug.pack_unit), str(drug.route), drug.is_cold_chain, drug.is_weekly_only,
                    drug.is_antimicrobial, drug.price_fen, drug.is_active and drug.is_online_prescribable
                    and drug.controlled_class == ControlledClass.NONE)


def write_stock(world: World, drugs: list[DrugInfo]) -> None:
    """Every store holds `lots_per_drug` lots of every drug: an early one (some near expiry), later ones,
    and a few expired or quarantined as the lot states allow."""
    for store_number, store_id in enumerate(world.stores):
        world.writer.flush(_store_lots(world, store_number, store_id, drugs))


def _store_lots(world: World, store_number: int, store_id: int, drugs: list[DrugInfo]) -> Batch:
    rng, writer, batch = world.rng, world.writer, Batch()
    receiver = world.pharmacists[store_number % len(world.pharmacists)]
    today = date.fromtimestamp(world.clock.now)
    lots = world.volumes.lots_per_drug
    lot_id = writer.ids("stock_lots", len(drugs) * lots)
    windows = ((15, 150), (180, 540), (540, 900))
    for drug in drugs:
        cost = drug.price_fen * 7 // 10
        temperature = COLD_CHAIN_ARRIVAL_C if drug.is_cold_chain else None
        for k in range(lots):
            low, high = windows[min(k, len(windows) - 1)]
            expiry = today + timedelta(days=rng.randint(low, high))
            received = world.clock.now - rng.randint(5, 200) * DAY
            roll = rng.random()
            status, status_reason = "available", None
            if roll < 0.02:
                expiry = today - timedelta(days=rng.randint(1, 90))
                status, status_reason = "expired", "expired"
                received = world.clock.now - rng.randint(300, 600) * DAY
            elif roll < 0.03:
                status, status_reason = "quarantined", "temperature_excursion"
            quantity = rng.randint(5, 200)
            moves = [("receipt", quantity, None, None, "", temperature, received)]
            roll = rng.random()
            if roll < 0.08:
                moves.append(("adjustment", -rng.randint(1, 3), None, "count", "Shelf count after stocktake",
                              None, received + rng.randint(1, 4) * DAY))
            elif roll < 0.11:
                moves.append(("write_off", -1, None, "damaged", "Box crushed in the store room", None,
                              received + rng.randint(1, 4) * DAY))
            if status_reason:
                moves.append(("status_change", 0, status, status_reason, "", None, received + 5 * DAY))
            on_hand = sum(move[1] for move in moves)
            number = f"L{expiry:%y%m}{k + 1}{rng.randint(100, 999)}"  # k keeps it unique per store and drug
            batch.add("stock_lots", (lot_id, store_id, drug.id, number, expiry, on_hand, 0, cost, status,
                                     moment(received), moment(moves[-1][6])))
            movement_id = writer.ids("stock_movements", len(moves))
            for kind, change, new_status, reason, note, temp, at in moves:
                batch.add("stock_movements", (movement_id, lot_id, kind, change, 0, new_status, reason, note,
                                              None, None, temp, receiver, None, moment(at)))
                movement_id += 1
            lot_id += 1
    return batch
