"""The pharmacist's side of a signed prescription: the review row (open, claimed, decided or
withdrawn) and the check findings shown with it."""

from app.benchdata.world import World
from app.benchdata.writer import Batch, moment
from app.checks import loader

SEVERITY_RANK = {"contraindicated": 4, "major": 3, "moderate": 2, "minor": 1}
# (severity, kind, needs another line, English, Chinese)
FINDINGS = (
    ("moderate", "interaction", True, "{a} with {b}: monitor blood pressure and potassium.",
     "{a} 与 {b} 合用：监测血压和血钾。"),
    ("minor", "duplicate", True, "{a} and {b} act alike; check that both are intended.",
     "{a} 与 {b} 作用相似，请确认是否均需使用。"),
    ("major", "max_dose", False, "{a}: the daily dose is above the labelled maximum.",
     "{a}：日剂量超过说明书最大剂量。"),
    ("moderate", "allergy", False, "{a}: the patient reports an allergy to a related substance.",
     "{a}：患者报告对相关物质过敏。"),
)
RETURN_REASONS = ("dose", "interaction", "supply", "incomplete", "indication")


class Context:
    """What every review shares: the knowledge-base version and who reviews."""

    def __init__(self, world: World):
        self.world = world
        self.version = loader.get().version
        self.pharmacists = world.pharmacists


def write(context: Context, batch: Batch, prescription_id: int, status: str, signed_at: int,
          items: list[tuple]) -> int | None:
    """Rows for one signed version; returns when it was decided (or withdrawn), if it was."""
    world = context.world
    rng, now = world.rng, world.clock.now
    if status == "signed":
        return None  # signing hands it to review in the same step: caught in between, no review yet
    findings = _findings(context, batch, prescription_id, signed_at, items) if rng.random() < 0.25 else []
    worst = max(findings, key=SEVERITY_RANK.__getitem__) if findings else None
    pharmacist = rng.choice(context.pharmacists)
    claimed_by = claimed_at = decision = decided_by = decided_at = turnaround = None
    review_status, reasons, note, justification = "open", "", "", ""
    if status == "superseded":
        # Either returned and then revised, or replaced while still waiting.
        review_status = "returned" if rng.random() < 0.5 else "withdrawn"
    elif status in ("approved", "returned"):
        review_status = status
    elif status == "awaiting_review" and rng.random() < 0.1:
        claimed_by, claimed_at = pharmacist, min(max(signed_at + 60, now - 600), now - 30)
    if review_status in ("approved", "returned"):
        decided_at = min(signed_at + rng.randint(300, 4 * 3_600), now - 30)
        claimed_by, claimed_at = pharmacist, max(signed_at, decided_at - rng.randint(60, 600))
        decision, decided_by, turnaround = review_status, pharmacist, decided_at - signed_at
        if review_status == "returned":
            reasons = ",".join(sorted(rng.sample(RETURN_REASONS, rng.randint(1, 2))))
            note = "Please check the dose and the duration against the diagnosis."
        elif worst in ("major", "contraindicated"):
            justification = "Benefit outweighs the risk; dose confirmed with the prescriber."
    elif review_status == "withdrawn":
        decided_at = None
    review_id = world.writer.ids("prescription_reviews", 1)
    batch.add("prescription_reviews", (
        review_id, prescription_id, moment(signed_at), len(findings), review_status, worst, context.version,
        claimed_by, moment(claimed_at), decision, decided_by, moment(decided_at), reasons, note,
        justification, turnaround))
    if review_status == "withdrawn":
        return signed_at + rng.randint(600, 3 * 3_600)
    return decided_at


def _findings(context: Context, batch: Batch, prescription_id: int, signed_at: int,
              items: list[tuple]) -> list[str]:
    rng = context.world.rng
    found = []
    for _ in range(rng.choice((1, 1, 2))):
        severity, kind, needs_other, english, chinese = rng.choice(FINDINGS)
        row, code = rng.choice(items)
        others = [(other_row, other_code) for other_row, other_code in items if other_code != code]
        if needs_other and not others:
            continue
        other_code = rng.choice(others)[1] if needs_other else None
        finding_id = context.world.writer.ids("check_findings", 1)
        names = dict(a=code, b=other_code or "")
        batch.add("check_findings", (
            finding_id, prescription_id, severity, kind, f"{kind}:{code.lower()}", code, row[2], other_code,
            "prescription" if other_code else None, english.format(**names), chinese.format(**names),
            "Drug label (summary of product characteristics)", context.version,
            "Discussed with the patient; benefit outweighs the risk." if severity == "major" else None,
            moment(signed_at)))
        found.append(severity)
    return found
