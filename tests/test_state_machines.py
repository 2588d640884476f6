"""Every status column changes only through its entity's state machine, and every table holds."""

import importlib
import pkgutil
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

import app as app_package
from app.errors import InvalidTransition
from app.state_machine import MACHINES, StateMachine

APP_DIR = Path(app_package.__file__).resolve().parent
# `x.status = …`, `x.status: T = …`, `setattr(x, "status", …)` and `.values(status=…)`.
DIRECT_WRITE = re.compile(r"""\.status\s*(?::[^=]+)?=(?!=)"""
                          r"""|setattr\([^,]+,\s*["']status["']|\.values\([^)]*\bstatus\s*=""")
ENTITIES = {"consultation", "prescription", "prescription_review", "payment", "stock_transfer", "stock_lot",
            "condition", "outbound_sms", "verification_code"}


def import_every_module() -> None:
    for module in pkgutil.walk_packages([str(APP_DIR)], prefix="app."):
        importlib.import_module(module.name)


def test_no_code_writes_a_status_column_except_the_state_machine():
    offenders = []
    for path in APP_DIR.rglob("*.py"):
        if path.name == "state_machine.py" and path.parent == APP_DIR:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            code = line.split("#", 1)[0]
            if DIRECT_WRITE.search(code):
                offenders.append(f"{path.relative_to(APP_DIR.parent)}:{number}: {line.strip()}")
    assert offenders == [], "status written outside a state machine's move():\n" + "\n".join(offenders)


def test_the_guard_would_catch_a_direct_assignment():
    for line in ('prescription.status = S.APPROVED', 'row.status: CodeStatus = CodeStatus.EXPIRED',
                 'setattr(lot, "status", new)', 'update(Payment).values(status=PaymentStatus.CANCELED)'):
        assert DIRECT_WRITE.search(line), line
    for line in ('if lot.status == LotStatus.AVAILABLE:', 'status = ConditionStatus.VERIFIED',
                 'Payment(status=PaymentStatus.PENDING)', 'x.status != y'):
        assert not DIRECT_WRITE.search(line), line


def test_every_entity_with_a_status_has_a_machine(app):
    import_every_module()
    assert set(MACHINES) >= ENTITIES


def transitions():
    import_every_module()
    for name, machine in sorted(MACHINES.items()):
        for current in machine.transitions:
            for target in machine.transitions:
                yield pytest.param(machine, current, target, id=f"{name}:{current}->{target}")


@pytest.mark.parametrize(("machine", "current", "target"), list(transitions()))
def test_each_move_is_allowed_exactly_when_the_table_lists_it(app, machine: StateMachine, current, target):
    row = SimpleNamespace(**{machine.attribute: current})
    with app.test_request_context():  # refusal messages are translated
        if target in machine.transitions[current]:
            machine.move(row, target)
            assert getattr(row, machine.attribute) == target
        else:
            with pytest.raises(InvalidTransition) as refused:
                machine.move(row, target)
            assert str(refused.value)  # a sentence for the user, not an empty error
            assert getattr(row, machine.attribute) == current


def test_every_machine_has_an_end_and_every_state_leads_to_one():
    import_every_module()
    for name, machine in MACHINES.items():
        ends = machine.terminal()
        assert ends, f"{name}: nothing ever ends"
        for state in machine.transitions:  # no state from which the entity can never finish
            seen, frontier = {state}, [state]
            while frontier:
                for target in machine.transitions[frontier.pop()] - seen:
                    seen.add(target)
                    frontier.append(target)
            assert seen & ends, f"{name}: {state} can never end"
