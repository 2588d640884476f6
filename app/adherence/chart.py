"""The adherence chart: per drug, a band over the days its supply covered in the last 180 days, and the
patient's answers to dose reminders (taken above the band, skipped below), as an inline SVG.

Drawn with pygal, imported only when a chart is drawn. The page's Content-Security-Policy allows no
inline style or script, so the SVG carries none: pygal's <style> and <script>, its tooltips (shown by
script) and its comments (which name pygal's web site) are taken out, and the colours are set as
presentation attributes, which the policy does not govern. Nothing in it loads from anywhere.
"""

from datetime import date, timedelta

from flask_babel import gettext as _
from markupsafe import Markup

from app.adherence.queries import CHART_DAYS, PatientAdherence

CHART_ID = "adherence-chart"
WIDTH = 400  # viewBox units; the SVG scales to its container (100 % wide), a phone's 390 px included
ROW_HEIGHT = 46
# At least 3:1 against white, as WCAG asks of graphics; an answer is told apart by its place too.
BAND, TAKEN, SKIPPED = "#3d8bfd", "#198754", "#dc3545"
SERIES_COLOURS = (BAND, TAKEN, SKIPPED)
AXIS, GUIDE, TEXT = "#6c757d", "#dee2e6", "#212529"
LABEL_CHARACTERS = 12
FONT_SIZE = 13  # viewBox units: about 11 px on a phone
LEGEND_FONT_SIZE = 12
ANSWER_OFFSET = 0.3  # a dot's distance above (taken) or below (skipped) its drug's band, in rows


def _classes(element) -> set[str]:
    return set(element.get("class", "").split())


def _series_colour(element, inherited: str | None) -> str | None:
    """A series group or legend box (class color-N) gives its colour to what it holds."""
    for name in _classes(element):
        if name.startswith("color-") and name[6:].isdigit() and int(name[6:]) < len(SERIES_COLOURS):
            return SERIES_COLOURS[int(name[6:])]
    return inherited


def _paint(element, inherited: str | None = None, legend: bool = False) -> None:
    """Presentation attributes for what pygal's stylesheet would have styled."""
    classes = _classes(element)
    legend = legend or "legends" in classes
    colour = _series_colour(element, inherited)
    tag = element.tag
    if tag == "g" and "axis" in classes:  # labels centred under the x axis, right-aligned left of the y
        element.set("text-anchor", "middle" if "x" in classes else "end")
    elif tag == "rect" and "background" in classes:
        element.set("fill", "#ffffff")
    elif tag == "rect" and colour is not None:  # a legend's colour box
        element.set("fill", colour)
    elif tag == "path" and colour == BAND:
        element.set("stroke", BAND)
        element.set("stroke-width", "16")
        element.set("fill", "none")
    elif tag == "path":
        element.set("stroke", GUIDE if "guide" in classes else AXIS)
        element.set("fill", "none")
    elif tag == "circle" and colour is not None:
        element.set("fill", colour)
    elif tag == "text":
        element.set("fill", TEXT)
        element.set("font-size", str(LEGEND_FONT_SIZE if legend else FONT_SIZE))
    for child in element:
        if isinstance(child.tag, str):
            _paint(child, colour, legend)


def _strip(element) -> None:
    """Drop what would run, load, or be blocked by the policy: comments, <defs> (pygal's style and
    script), tooltips, the drawn title (the page heads the chart), nested titles and descriptions."""
    unwanted = {"tooltip-overlay", "text-overlay", "titles"}
    for child in list(element):
        if (not isinstance(child.tag, str) or child.tag in ("defs", "desc", "title", "script", "style")
                or _classes(child) & unwanted):
            element.remove(child)
            continue
        for attribute in ("style", "id"):
            child.attrib.pop(attribute, None)
        _strip(child)


def _finish(title: str, summary: str):
    """The xml filter pygal runs on the root before writing it out."""

    def finish(root):
        _strip(root)
        _paint(root)
        heading = root.makeelement("title", {"id": f"{CHART_ID}-title"})
        heading.text = title
        described = root.makeelement("desc", {"id": f"{CHART_ID}-desc"})
        described.text = summary
        root.insert(0, described)
        root.insert(0, heading)
        root.set("id", CHART_ID)
        root.set("role", "img")
        root.set("aria-labelledby", f"{CHART_ID}-title")
        root.set("aria-describedby", f"{CHART_ID}-desc")
        root.set("class", "adherence-chart d-block w-100 h-auto")
        root.set("font-family", "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif")
        root.set("preserveAspectRatio", "xMinYMin meet")
        return root

    return finish


def _day_label(day: date) -> str:
    return day.strftime("%m-%d")


def summary(adherence: PatientAdherence, names: dict[str, str]) -> str:
    """What the chart shows, in words, for a screen reader."""
    parts = []
    for drug in adherence.drugs:
        covered = sum((last - first).days + 1 for first, last in drug.coverage)
        counts = drug.confirmations[CHART_DAYS]
        parts.append(_("%(drug)s: supplied on %(covered)d of the last %(days)d days; doses confirmed taken: "
                       "%(taken)d, skipped: %(skipped)d, without an answer: %(unanswered)d.",
                       drug=names[drug.key], covered=covered, days=CHART_DAYS, taken=counts.taken,
                       skipped=counts.skipped, unanswered=counts.unanswered))
    return " ".join(parts)


def adherence_chart(adherence: PatientAdherence, names: dict[str, str]) -> Markup:
    """The chart of `adherence` (drugs named by `names`, key -> name) as inline SVG markup."""
    import pygal  # only the pages with a chart load it
    from pygal.style import Style

    drugs = adherence.drugs
    start = adherence.chart_start
    rows = len(drugs)
    title = _("Supply and dose answers over the last %(days)d days", days=CHART_DAYS)
    # The sizes pygal lays the labels out for; the text is given the same size in _paint.
    style = Style(label_font_size=FONT_SIZE, major_label_font_size=FONT_SIZE,
                  legend_font_size=LEGEND_FONT_SIZE, colors=SERIES_COLOURS)
    chart = pygal.XY(
        style=style, width=WIDTH, height=70 + ROW_HEIGHT * max(rows, 1), explicit_size=False, js=[],
        css=[], no_prefix=True, disable_xml_declaration=True, allow_interruptions=True,
        show_legend=True, legend_at_bottom=True, legend_at_bottom_columns=3, legend_box_size=10,
        truncate_legend=-1, truncate_label=LABEL_CHARACTERS, show_y_guides=False, show_x_guides=True,
        xrange=(0, CHART_DAYS), range=(0.4, rows + 0.6), margin=6, margin_right=18, spacing=6,
        dots_size=2.6, print_values=False, tooltip_fancy_mode=False)
    chart.add_xml_filter(_finish(title, summary(adherence, names)))
    # Five days from the first to today, each labelled at the middle of its day.
    labelled = [round(part * (CHART_DAYS - 1) / 4) for part in range(5)]
    chart.x_labels = [{"label": _day_label(start + timedelta(days=offset)), "value": offset + 0.5}
                      for offset in labelled]
    chart.y_labels = [{"label": names[drug.key], "value": rows - index} for index, drug in enumerate(drugs)]
    bands, taken, skipped = [], [], []
    for index, drug in enumerate(drugs):
        row = rows - index
        for first, last in drug.coverage:
            # A day is a unit wide: a supply of one day is still a visible stroke.
            bands += [((first - start).days, row), ((last - start).days + 1, row), None]
        for day, answers in sorted(drug.answers.items()):
            x = (day - start).days + 0.5
            if "taken" in answers:
                taken.append((x, row + ANSWER_OFFSET))
            if "skipped" in answers:
                skipped.append((x, row - ANSWER_OFFSET))
    chart.add(_("Supplied"), bands, show_dots=False)
    chart.add(_("Dose taken"), taken, stroke=False)
    chart.add(_("Dose skipped"), skipped, stroke=False)
    return Markup(chart.render(is_unicode=True))  # noqa: S704  (our SVG: pygal escapes every text)


def drug_names(adherence: PatientAdherence, language: str) -> dict[str, str]:
    """Each group's generic name (of its latest fill) in `language`: what the chart labels rows with."""
    return {drug.key: drug.drug.generic_name_zh if language == "zh" else drug.drug.generic_name_en
            for drug in adherence.drugs}
