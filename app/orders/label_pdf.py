"""The dispensing label as a PDF, one label per medicine, in the patient's language."""

from io import BytesIO

from flask_babel import force_locale
from flask_babel import gettext as _
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from app.orders.models import Dispense, Order
from app.prescribing.directions import directions
from app.templating import drug_title, local_time

FONT = "STSong-Light"  # reportlab's built-in CID font: Chinese (and Latin) with no font file
WIDTH, HEIGHT = 100 * mm, 70 * mm  # a bag label
MARGIN, SIZE, LEADING = 5 * mm, 9, 11


def _register_font() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def label_pdf(order: Order, dispensed: Dispense) -> bytes:
    """Patient, medicine, plain-language directions, quantity, lot and expiry, store, pharmacist and
    date: what the patient reads on the bag at home."""
    _register_font()
    output = BytesIO()
    pdf = canvas.Canvas(output, pagesize=(WIDTH, HEIGHT))
    pdf.setTitle(f"Order {order.id}")
    language = order.patient.locale if order.patient.locale in ("en", "zh") else "en"
    store = order.store.name_zh if language == "zh" else order.store.name_en
    with force_locale(language):
        for line in order.lines:
            lots = sorted({(pack.lot.lot_number, pack.lot.expiry_date) for pack in dispensed.packs
                           if pack.order_line_id == line.id})
            rows = [
                (store, 8), (order.patient.display_name, 12), (drug_title(line.drug, language), 11),
                (directions(line.prescription_item), SIZE),
                (_("Quantity: %(packs)d packs", packs=line.packs), SIZE),
                (_("Lot %(lot)s, use before %(date)s", lot=", ".join(lot for lot, _e in lots),
                   date=min(expiry for _l, expiry in lots).isoformat()), SIZE),
                (_("Dispensed %(time)s by %(pharmacist)s", time=local_time(dispensed.dispensed_at),
                   pharmacist=dispensed.pharmacist.display_name), 8),
            ]
            y = HEIGHT - MARGIN
            for text, size in rows:
                for part in simpleSplit(text, FONT, size, WIDTH - 2 * MARGIN):
                    y -= size + 2
                    pdf.setFont(FONT, size)
                    pdf.drawString(MARGIN, y, part)
            pdf.showPage()
    pdf.save()
    return output.getvalue()
