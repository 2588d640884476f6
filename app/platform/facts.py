"""Gather, in bulk, the allowed facts the platform's resources are built from.

Each reader takes many rows at once (a handover has one order, a backfill thousands), loads what it
needs in a fixed number of statements, and hands back plain de-identified dataclasses.
"""

from datetime import date
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.database import utcnow
from app.drugs.models import Drug, format_decimal
from app.extensions import db
from app.inventory.models import StockLot, Store
from app.orders.models import Dispense, DispensedPack, Order, OrderLine
from app.patients.models import Address, Consent, ConsentKind, PatientProfile
from app.platform import fhir
from app.platform.deidentify import PatientFacts, patient_facts
from app.platform.tokens import ORDER, PATIENT, PRESCRIPTION, STAFF, among, tokens
from app.prescribing.directions import code as sig_code
from app.prescribing.models import Prescription, PrescriptionItem


def consenting(patient_ids, kind: ConsentKind = ConsentKind.DATA_SHARING) -> set[int]:
    """The patients among `patient_ids` with a grant of `kind` in force."""
    ids = sorted(set(patient_ids))
    found: set[int] = set()
    for start in range(0, len(ids), 1000):
        found.update(db.session.scalars(select(Consent.patient_id).where(
            among(Consent.patient_id, ids[start:start + 1000]), Consent.kind == kind,
            Consent.revoked_at.is_(None))))
    return found


def patients(patient_ids, on: date) -> dict[int, PatientFacts]:
    """The de-identified facts of each patient who may be pushed (current data-sharing consent)."""
    sharing = consenting(patient_ids)
    if not sharing:
        return {}
    linking = consenting(sharing, ConsentKind.RECORD_LINKAGE)
    research = tokens(PATIENT, sharing)
    ids = sorted(sharing)
    profiles, provinces = {}, {}
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        # The columns the facts need, not whole profiles: a backfill reads thousands.
        profiles.update({p.user_id: p for p in db.session.execute(
            select(PatientProfile.user_id, PatientProfile.sex, PatientProfile.date_of_birth,
                   PatientProfile.id_document_number).where(among(PatientProfile.user_id, chunk)))})
        # The default delivery address's province; an older one when no default is set.
        for patient_id, province, _default in db.session.execute(
                select(Address.patient_id, Address.province, Address.is_default)
                .where(among(Address.patient_id, chunk), Address.is_active.is_(True))
                .order_by(Address.patient_id, Address.is_default, Address.id)):
            provinces[patient_id] = province
    key = current_app.config["PLATFORM_LINKAGE_KEY"]
    facts = {}
    for patient_id in ids:
        profile = profiles.get(patient_id)
        facts[patient_id] = patient_facts(
            research_token=research[patient_id], sex=profile.sex if profile else None,
            date_of_birth=profile.date_of_birth if profile else None, province=provinces.get(patient_id),
            on=on, linkage_key=key, id_number=profile.id_document_number if profile else None,
            links=patient_id in linking)
    return facts


def product(drug, lots: list[fhir.Lot]) -> fhir.Product:
    name = f"{drug.generic_name_en} {format_decimal(drug.strength)} {drug.strength_unit}"
    return fhir.Product(code=drug.code, atc_code=drug.atc_code, name=name, lots=tuple(lots))


def sig(item) -> fhir.Sig:
    times = tuple(t for t in (item.times_of_day or "").split(",") if t)
    return fhir.Sig(dose=item.dose, dose_unit=str(item.dose_unit), frequency=str(item.frequency),
                    route=str(item.route), duration_days=item.duration_days, text=sig_code(item),
                    max_doses_per_day=item.max_doses_per_day, times_of_day=times)


def lots_of(packs, pack_size: int) -> list[fhir.Lot]:
    by_lot: dict[int, list] = {}
    for pack in packs:
        by_lot.setdefault(pack.lot_id, []).append(pack)
    return [fhir.Lot(number=group[0].lot.lot_number, expiry=group[0].lot.expiry_date,
                     units=len(group) * pack_size)
            for group in sorted(by_lot.values(), key=lambda g: (g[0].lot.expiry_date, g[0].lot_id))]


def load_orders(order_ids) -> list[Order]:
    """Orders with everything a dispense resource names, in a fixed number of statements."""
    return db.session.scalars(
        select(Order).where(Order.id.in_(sorted(set(order_ids)))).order_by(Order.id)
        .options(selectinload(Order.store),
                 selectinload(Order.prescription).load_only(Prescription.id, Prescription.doctor_id,
                                                            Prescription.signed_by_id),
                 selectinload(Order.lines).options(selectinload(OrderLine.drug),
                                                   selectinload(OrderLine.prescription_item)))
    ).all()


def handed_over(order_ids) -> tuple[list, dict]:
    """What `dispense_lines` reads of the orders and their dispenses, as plain objects with the same
    attribute names as load_orders() and dispenses_of() give, from five Core statements: a backfill
    reads thousands of orders, and building ORM objects for them cost more than the resources did."""
    ids = sorted(set(order_ids))
    orders = {}
    for row in db.session.execute(
            select(Order.id, Order.patient_id, Order.prescription_id, Order.handed_over_at,
                   Order.completed_at, Order.close_reason, Store.code, Prescription.doctor_id,
                   Prescription.signed_by_id)
            .join(Store, Store.id == Order.store_id)
            .join(Prescription, Prescription.id == Order.prescription_id)
            .where(among(Order.id, ids)).order_by(Order.id)):
        orders[row.id] = SimpleNamespace(
            id=row.id, patient_id=row.patient_id, prescription_id=row.prescription_id,
            handed_over_at=row.handed_over_at, completed_at=row.completed_at, close_reason=row.close_reason,
            store=SimpleNamespace(code=row.code), lines=[],
            prescription=SimpleNamespace(doctor_id=row.doctor_id, signed_by_id=row.signed_by_id))
    lines = db.session.execute(
        select(OrderLine.id, OrderLine.order_id, OrderLine.position, OrderLine.days_supply, OrderLine.drug_id,
               PrescriptionItem.dose, PrescriptionItem.dose_unit, PrescriptionItem.frequency,
               PrescriptionItem.route, PrescriptionItem.duration_days, PrescriptionItem.max_doses_per_day,
               PrescriptionItem.times_of_day)
        .join(PrescriptionItem, PrescriptionItem.id == OrderLine.prescription_item_id)
        .where(among(OrderLine.order_id, ids)).order_by(OrderLine.order_id, OrderLine.position)).all()
    drugs = {row.id: row for row in db.session.execute(
        select(Drug.id, Drug.code, Drug.atc_code, Drug.generic_name_en, Drug.strength, Drug.strength_unit,
               Drug.pack_size, Drug.pack_unit).where(among(Drug.id, {line.drug_id for line in lines})))}
    for row in lines:
        order = orders[row.order_id]
        order.lines.append(SimpleNamespace(
            id=row.id, order_id=row.order_id, order=order, position=row.position, days_supply=row.days_supply,
            drug=drugs[row.drug_id], prescription_item=SimpleNamespace(
                dose=row.dose, dose_unit=row.dose_unit, frequency=row.frequency, route=row.route,
                duration_days=row.duration_days, max_doses_per_day=row.max_doses_per_day,
                times_of_day=row.times_of_day)))
    dispensed = {row.id: SimpleNamespace(order_id=row.order_id, pharmacist_id=row.pharmacist_id,
                                         dispensed_at=row.dispensed_at, packs=[])
                 for row in db.session.execute(
                     select(Dispense.id, Dispense.order_id, Dispense.pharmacist_id, Dispense.dispensed_at)
                     .where(among(Dispense.order_id, ids)))}
    lots: dict[int, SimpleNamespace] = {}
    for row in db.session.execute(
            select(DispensedPack.dispense_id, DispensedPack.order_line_id, DispensedPack.lot_id,
                   DispensedPack.returned_at, StockLot.lot_number, StockLot.expiry_date)
            .join(StockLot, StockLot.id == DispensedPack.lot_id)
            .where(among(DispensedPack.dispense_id, dispensed.keys())).order_by(DispensedPack.id)):
        lot = lots.get(row.lot_id) or lots.setdefault(
            row.lot_id, SimpleNamespace(lot_number=row.lot_number, expiry_date=row.expiry_date))
        dispensed[row.dispense_id].packs.append(SimpleNamespace(
            order_line_id=row.order_line_id, lot_id=row.lot_id, returned_at=row.returned_at, lot=lot))
    return list(orders.values()), {record.order_id: record for record in dispensed.values()}


def dispenses_of(order_ids) -> dict[int, Dispense]:
    return {d.order_id: d for d in db.session.scalars(
        select(Dispense).where(Dispense.order_id.in_(sorted(set(order_ids))))
        .options(selectinload(Dispense.packs).selectinload(DispensedPack.lot)))}


def dispense_lines(orders: list[Order], dispensed: dict[int, Dispense], *, status: str,
                   reason: str | None = None, packs_of=None) -> list[tuple[OrderLine, fhir.DispenseFacts]]:
    """One DispenseFacts per line of each order whose patient shares data. `packs_of(dispense)` picks
    the packs the event is about (default: those the patient kept, i.e. not taken back)."""
    today = utcnow().date()
    people = patients({o.patient_id for o in orders}, today)
    orders = [o for o in orders if o.patient_id in people and o.id in dispensed]
    if not orders:
        return []
    staff = tokens(STAFF, {dispensed[o.id].pharmacist_id for o in orders}
                   | {o.prescription.signed_by_id or o.prescription.doctor_id for o in orders})
    order_tokens = tokens(ORDER, {o.id for o in orders})
    prescriptions = tokens(PRESCRIPTION, {o.prescription_id for o in orders})
    result = []
    for order in orders:
        record = dispensed[order.id]
        chosen = packs_of(record) if packs_of else [p for p in record.packs if p.returned_at is None]
        by_line: dict[int, list] = {}
        for pack in chosen:
            by_line.setdefault(pack.order_line_id, []).append(pack)
        prescriber = order.prescription.signed_by_id or order.prescription.doctor_id
        handed_over = (order.handed_over_at or order.completed_at) if status == "completed" else None
        for line in order.lines:
            packs = by_line.get(line.id, [])
            if not packs:
                continue
            units = len(packs) * line.drug.pack_size
            result.append((line, fhir.DispenseFacts(
                key="", status=status, patient=people[order.patient_id],
                product=product(line.drug, lots_of(packs, line.drug.pack_size)),
                dispense_id=f"{order_tokens[order.id]}-{line.position}", store_code=order.store.code,
                pharmacist_token=staff[record.pharmacist_id], prescriber_token=staff[prescriber],
                prescription_token=prescriptions[order.prescription_id], units=units,
                unit=str(line.drug.pack_unit), days_supply=line.days_supply,
                prepared_at=record.dispensed_at,
                handed_over_at=handed_over,
                sig=sig(line.prescription_item), reason=reason)))
    return result


def handed_over_since(since):
    """The condition on orders whose medicines reached the patient on or after `since` (a dispense
    exists): what a backfill writes and the OMOP export reads."""
    from sqlalchemy import and_, exists, func

    from app.orders.states import OrderStatus

    return and_(Order.status == OrderStatus.COMPLETED, exists().where(Dispense.order_id == Order.id),
                func.coalesce(Order.handed_over_at, Order.completed_at) >= since)
