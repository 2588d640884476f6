"""Gather, in bulk, the allowed facts the platform's resources are built from.

Each reader takes many rows at once (a handover has one order, a backfill thousands), loads what it
needs in a fixed number of statements, and hands back plain de-identified dataclasses.
"""

from datetime import date

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.database import utcnow
from app.drugs.models import format_decimal
from app.extensions import db
from app.orders.models import Dispense, DispensedPack, Order, OrderLine
from app.patients.models import Address, Consent, ConsentKind, PatientProfile
from app.platform import fhir
from app.platform.deidentify import PatientFacts, patient_facts
from app.platform.tokens import ORDER, PATIENT, PRESCRIPTION, STAFF, tokens
from app.prescribing.directions import code as sig_code
from app.prescribing.models import Prescription


def consenting(patient_ids, kind: ConsentKind = ConsentKind.DATA_SHARING) -> set[int]:
    """The patients among `patient_ids` with a grant of `kind` in force."""
    ids = sorted(set(patient_ids))
    found: set[int] = set()
    for start in range(0, len(ids), 1000):
        found.update(db.session.scalars(select(Consent.patient_id).where(
            Consent.patient_id.in_(ids[start:start + 1000]), Consent.kind == kind,
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
        profiles.update({p.user_id: p for p in db.session.scalars(
            select(PatientProfile).where(PatientProfile.user_id.in_(chunk)))})
        # The default delivery address's province; an older one when no default is set.
        for patient_id, province, _default in db.session.execute(
                select(Address.patient_id, Address.province, Address.is_default)
                .where(Address.patient_id.in_(chunk), Address.is_active.is_(True))
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
