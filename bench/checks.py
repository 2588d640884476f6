"""Benchmark: the automatic checks of a 5-item prescription against 10 active medications, with every
rule family on: an older adult with renal and hepatic impairment and diseases, a child by weight, and
a pregnant patient.

Run with `.venv/bin/python bench/checks.py [N]`; prints median and 95th percentile in ms per patient.
Pure engine work on the shipped catalogue and knowledge base: no database, no request.
Not a test: the machines are shared and noisy, so the figures go in the README instead.
"""

import statistics
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.checks import adapters, loader
from app.checks.engine import ActiveMedication, Fact, Line, PatientAllergy, PatientContext, check
from app.drugs import catalogue
from app.drugs.services import SHIPPED_CATALOGUE
from app.prescribing.models import Frequency

PRESCRIPTION = [  # (code, dose, unit, frequency): a chronic patient's refill with some real problems
    ("SIMVASTATIN-20MG-TAB", "40", "mg", Frequency.QN),
    ("CLARITHROMYCIN-250MG-TAB", "500", "mg", Frequency.BID),
    ("METFORMIN-500MG-TAB", "1000", "mg", Frequency.TID),
    ("AMLODIPINE-5MG-TAB", "5", "mg", Frequency.QD),
    ("TAMOXIFEN-10MG-TAB", "20", "mg", Frequency.QD),
]
ACTIVE = ["WARFARIN-2.5MG-TAB", "PAROXETINE-20MG-TAB", "OMEPRAZOLE-20MG-ECCAP", "CLOPIDOGREL-75MG-TAB",
          "DIGOXIN-0.25MG-TAB", "AMIODARONE-200MG-TAB", "ENALAPRIL-10MG-TAB", "VALSARTAN-80MG-CAP",
          "SPIRONOLACTONE-20MG-TAB", "ATORVASTATIN-20MG-TAB"]


def shipped_facts() -> dict:
    _header, rows = catalogue.read_csv(SHIPPED_CATALOGUE.read_text(encoding="utf-8"))
    return {values["code"]: adapters.facts_from_values(values)
            for values, _errors in (catalogue.parse_row(raw) for _line, raw in rows)}


def main(repeat: int) -> None:
    start = time.perf_counter()
    kb = loader.load()
    loaded = (time.perf_counter() - start) * 1000
    facts = shipped_facts()
    lines = [Line(drug=facts[code], dose=Decimal(dose), dose_unit=unit, frequency=frequency, duration_days=7,
                  position=n) for n, (code, dose, unit, frequency) in enumerate(PRESCRIPTION, start=1)]
    today = date(2026, 12, 1)
    common = {"allergies": (PatientAllergy("class", "penicillins", "severe"),
                            PatientAllergy("class", "sulfonamides", "mild")),
              "active_medications": tuple(ActiveMedication(drug=facts[code], reference=f"dispensing {n}")
                                          for n, code in enumerate(ACTIVE, start=1)),
              "today": today, "diagnosis_codes": ("I10",)}
    patients = {
        "older adult, eGFR 40, Child-Pugh B": PatientContext(
            condition_codes=("I10", "E11.9", "C50.9", "I50.9", "K25.4", "F03"), age=84, sex="female",
            facts=(Fact("egfr", Decimal(40), date(2026, 3, 1)), Fact("child_pugh", "B", date(2026, 10, 1)),
                   Fact("weight", Decimal(52), date(2026, 11, 1))), **common),
        "child of 10, 30 kg": PatientContext(
            condition_codes=("J45.9", "E10.9"), age=10, sex="male",
            facts=(Fact("weight", Decimal(30), date(2026, 11, 20)),), **common),
        "pregnant, 24 weeks": PatientContext(
            condition_codes=("O24.4", "I10"), age=31, sex="female",
            facts=(Fact("pregnancy", Decimal(24), date(2026, 11, 20)),), **common),
    }
    print(f"knowledge base {kb.version}: loaded and indexed in {loaded:.0f} ms")
    print(f"{'5 lines x 10 active medications':<40} {'findings':>8} {'first ms':>9} {'median ms':>10} "
          f"{'p95 ms':>8} {'CPU med':>8} {'CPU p95':>8}   ({repeat} checks each)")
    for name, context in patients.items():
        start = time.perf_counter()
        findings = check(lines, context, "normal", kb)  # the first check also builds the drug profiles
        first = (time.perf_counter() - start) * 1000
        samples, cpu = [], []
        for _ in range(repeat):
            start, start_cpu = time.perf_counter(), time.thread_time()
            check(lines, context, "normal", kb)
            samples.append((time.perf_counter() - start) * 1000)
            cpu.append((time.thread_time() - start_cpu) * 1000)
        samples.sort()
        cpu.sort()
        median, p95 = statistics.median(samples), samples[int(len(samples) * 0.95) - 1]
        # CPU time as well: on a shared machine the wall-clock p95 is mostly time spent waiting for a core.
        print(f"{name:<40} {len(findings):>8} {first:>9.3f} {median:>10.3f} {p95:>8.3f} "
              f"{statistics.median(cpu):>8.3f} {cpu[int(len(cpu) * 0.95) - 1]:>8.3f}")

if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
