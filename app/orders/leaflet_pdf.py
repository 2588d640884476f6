"""The patient leaflet as a PDF: a page per medicine of an order, in Chinese and in English."""

# Both languages on every page, the patient's first: a relative who reads the other language can help,
# and the pharmacist counsels from the same sheet. How to take comes from the signed sig (as on the
# label), storage and warnings from the catalogue. Text from the catalogue, the doctor and the patient's
# name is escaped: Paragraph reads markup, and a "<" in a warning must print as "<".

from io import BytesIO
from xml.sax.saxutils import escape

from flask_babel import force_locale
from flask_babel import gettext as _
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import HRFlowable, PageBreak, Paragraph, SimpleDocTemplate, Spacer

from app.orders.models import Order, OrderLine
from app.prescribing.directions import directions
from app.templating import drug_title

FONT = "STSong-Light"  # reportlab's built-in CID font: Chinese (and Latin) with no font file
LANGUAGES = ("zh", "en")
GREY = HexColor("#555555")


def _register_font() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _styles(language: str) -> dict[str, ParagraphStyle]:
    # Chinese wraps between any two characters; English between words.
    wrap = "CJK" if language == "zh" else None
    # Large enough for older eyes: many of these patients take several medicines for years.
    body = ParagraphStyle(f"body-{language}", fontName=FONT, fontSize=11, leading=16, wordWrap=wrap,
                          spaceAfter=2)
    return {
        "body": body,
        "title": ParagraphStyle(f"title-{language}", parent=body, fontSize=15, leading=20, spaceAfter=4),
        "heading": ParagraphStyle(f"heading-{language}", parent=body, fontSize=11, leading=16,
                                  spaceBefore=6, textColor=GREY),
    }


def _paragraphs(text: str, style: ParagraphStyle) -> list[Paragraph]:
    return [Paragraph(escape(line), style) for line in text.splitlines() if line.strip()]


def _store_lines(order: Order) -> list[str]:
    store = order.store
    lines = [f"{store.name_zh} · {store.name_en}", store.address]
    if store.opening_hours:
        lines.append(store.opening_hours)
    return lines


def _in_language(order: Order, line: OrderLine, language: str) -> list:
    """One language's half of a medicine's page; call inside force_locale(language)."""
    style = _styles(language)
    drug = line.drug
    flowables = [
        Paragraph(escape(_("Patient medication leaflet")), style["heading"]),
        Paragraph(escape(drug_title(drug, language)), style["title"]),
    ]
    if drug.brand_name:
        flowables.append(Paragraph(escape(drug.brand_name), style["body"]))
    flowables.append(Paragraph(escape(_("For %(patient)s, order %(number)s",
                                        patient=order.patient.display_name, number=order.id)), style["body"]))
    flowables += [Paragraph(escape(_("How to take it")), style["heading"]),
                  *_paragraphs(directions(line.prescription_item), style["body"])]
    flowables += [Paragraph(escape(_("Storage")), style["heading"]),
                  *_paragraphs(drug.storage(language), style["body"])]
    flowables.append(Paragraph(escape(_("Key warnings")), style["heading"]))
    flowables += _paragraphs(drug.warnings(language), style["body"])
    flowables += _paragraphs(_("Read the package insert too. Ask our pharmacists or your doctor if anything "
                               "is unclear, if you miss a dose or if you feel unwell."), style["body"])
    return flowables


def leaflet_pdf(order: Order) -> bytes:
    """One page (or more, if the text runs long) per medicine: its name in both languages, how this
    patient takes it, storage and key warnings, each in the patient's language first, then the other,
    and the store that dispenses it."""
    _register_font()
    output = BytesIO()
    document = SimpleDocTemplate(output, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm,
                                 topMargin=16 * mm, bottomMargin=16 * mm, title=f"Order {order.id} leaflet")
    first = order.patient.locale if order.patient.locale in LANGUAGES else "en"
    languages = (first, *(language for language in LANGUAGES if language != first))
    store_style = ParagraphStyle("store", fontName=FONT, fontSize=9, leading=12, wordWrap="CJK",
                                 textColor=GREY)
    story: list = []
    for number, line in enumerate(order.lines):
        if number:
            story.append(PageBreak())
        story += [Paragraph(escape(text), store_style) for text in _store_lines(order)]
        for language in languages:
            story += [Spacer(1, 3 * mm), HRFlowable(width="100%", thickness=0.5, color=GREY),
                      Spacer(1, 2 * mm)]
            with force_locale(language):
                story += _in_language(order, line, language)
    document.build(story)
    return output.getvalue()
