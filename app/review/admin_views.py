"""Operations pages for review: turnaround dashboard (admins) and the knowledge base, read-only."""

import math
import re
import statistics
from datetime import timedelta

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import func, select

from app.accounts.models import Role, User
from app.checks import loader
from app.database import utcnow
from app.extensions import db
from app.i18n import current_language
from app.policy import roles_required
from app.review import bp
from app.review.models import Decision, PrescriptionReview
from app.review.queries import queue, queue_size

DASHBOARD_DAYS = 30
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def with_placeholders(message: str) -> Markup:
    """A rule's message as written, its {placeholders} marked as codes that stay as they are."""
    parts, start = [], 0
    for found in PLACEHOLDER.finditer(message):
        parts += [escape(message[start:found.start()]),
                  Markup('<span translate="no">{}</span>').format(found.group(0))]
        start = found.end()
    return Markup("").join([*parts, escape(message[start:])])


FAMILY_TITLES = {
    "renal": _l("Renal function"), "hepatic": _l("Hepatic impairment"),
    "pregnancy": _l("Pregnancy and breastfeeding"), "older_adults": _l("Older adults (Beers Criteria)"),
    "paediatric": _l("Children"), "drug_disease": _l("Drug–disease contraindications"),
}


def _span(low, high, unit: str = "") -> str:
    if low is None:
        return f"<{high}{unit}"
    return f"≥{low}{unit}" if high is None else f"{low}–<{high}{unit}"


def applies_when(rule) -> str:
    """When a patient-aware row applies, in the data files' own terms (codes and numbers, as written)."""
    parts = []
    if rule.kind == "renal" and (rule.low is not None or rule.high is not None):
        parts.append(f"eGFR/CrCl {_span(rule.low, rule.high)}")
    if rule.classes:
        parts.append("Child-Pugh " + "/".join(sorted(rule.classes)))
    if rule.state:
        bounded = rule.low is not None or rule.high is not None
        weeks = f" {_span(rule.low, rule.high, ' wk')}" if bounded else ""
        parts.append(f"{rule.state}{weeks}")
    if rule.kind == "older_adult":
        parts.append(f"age ≥{rule.low}")
    if rule.kind == "paediatric":
        if rule.low is not None or rule.high is not None:
            parts.append(f"age {_span(rule.low, rule.high, ' y')}")
        if rule.weight_low is not None or rule.weight_high is not None:
            parts.append(f"weight {_span(rule.weight_low, rule.weight_high, ' kg')}")
    if rule.conditions:
        parts.append(" ".join(rule.conditions))
    if rule.action:
        parts.append(rule.action)
    if rule.per_kg is not None:
        parts.append(f"{rule.per_kg} {rule.unit}/kg/day")
    if rule.dose is not None:
        parts.append(f"{'>' if rule.kind == 'older_adult' else '≤'}{rule.dose} {rule.unit}/day")
    return "; ".join(parts)


def _percentile(values: list[int], fraction: float) -> int | None:
    """Nearest-rank percentile: a value that really occurred, not an interpolation."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


@bp.route("/dashboard")
@roles_required(Role.ADMIN)
def dashboard():
    """Turnaround (signed → decided) over the last 30 days; counts only, no patient data."""
    now = utcnow()
    since = now - timedelta(days=DASHBOARD_DAYS)
    decided = db.session.execute(
        select(PrescriptionReview.decision, PrescriptionReview.turnaround_seconds,
               PrescriptionReview.decided_by_id)
        .where(PrescriptionReview.decided_at >= since)).all()
    times = [row.turnaround_seconds for row in decided]
    by_pharmacist: dict[int, list[int]] = {}
    for row in decided:
        by_pharmacist.setdefault(row.decided_by_id, []).append(row.turnaround_seconds)
    names = dict(db.session.execute(select(User.id, User.display_name)
                                    .where(User.id.in_(by_pharmacist))).all()) if by_pharmacist else {}
    oldest = queue(1)  # the count and the oldest entry, not the whole queue
    summary = {
        "decided": len(decided),
        "approved": sum(1 for row in decided if row.decision == Decision.APPROVED),
        "returned": sum(1 for row in decided if row.decision == Decision.RETURNED),
        "median": int(statistics.median(times)) if times else None,
        "p90": _percentile(times, 0.9),
        "slowest": max(times) if times else None,
        "waiting": queue_size(),
        "oldest_waiting": int((now - oldest[0].queued_at).total_seconds()) if oldest else None,
        "all_time": db.session.scalar(select(func.count()).select_from(PrescriptionReview)
                                      .where(PrescriptionReview.decision.is_not(None))),
    }
    pharmacists = sorted(
        ({"name": names.get(pid, str(pid)), "count": len(values), "median": int(statistics.median(values))}
         for pid, values in by_pharmacist.items()), key=lambda row: -row["count"])
    return render_template("review/dashboard.html", summary=summary, pharmacists=pharmacists,
                           days=DASHBOARD_DAYS)


@bp.route("/knowledge-base")
@roles_required(Role.ADMIN, Role.PHARMACIST)
def knowledge_base():
    """The rules the automatic checks apply, as shipped in app/checks/data (edited there, reviewed
    like code, never through a form)."""
    kb = loader.get()
    query = request.args.get("q", "").strip().casefold()[:100]

    def matches(rule) -> bool:
        haystack = " ".join((rule.rule_id, rule.a, rule.b, rule.allergy_class, getattr(rule, "selector", ""),
                             rule.message_en,
                             rule.message_zh, rule.source)).casefold()
        return not query or query in haystack

    return render_template(
        "review/knowledge_base.html", kb=kb, q=query, language=current_language(),
        interactions=[r for r in kb.interactions if matches(r)],
        duplicates=[r for r in kb.duplicates if matches(r)],
        cross_reactivity=[r for r in kb.cross_reactivity if matches(r)],
        fixed=[r for r in sorted(kb.rules.values(), key=lambda r: r.rule_id) if matches(r)],
        families=[(family, FAMILY_TITLES[family], [r for r in rules if matches(r)])
                  for family, rules in kb.patient_rules.items()],
        indications=[(selector, codes) for selector, codes in kb.indications
                     if not query or query in f"{selector} {' '.join(codes)}".casefold()],
        applies_when=applies_when,
        groups=sorted(kb.groups.items()), allergy_classes=sorted(kb.allergy_classes.items()),
        with_placeholders=with_placeholders)
