"""The state machine itself, on a small table of its own: the conditional UPDATE that lets only one of
two requests move a row, the states a move may start from, and the message a refused move gives."""

from enum import StrEnum
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from app.consultations import states as consultation_states
from app.errors import InvalidTransition
from app.inventory import states as inventory_states
from app.prescribing import states as prescription_states
from app.state_machine import CHANGED_MEANWHILE, MACHINES, StateMachine


class Door(StrEnum):
    SHUT = "shut"
    OPEN = "open"
    AJAR = "ajar"
    GONE = "gone"


DOOR = {Door.SHUT: frozenset({Door.OPEN, Door.AJAR}), Door.AJAR: frozenset({Door.OPEN, Door.SHUT}),
        Door.OPEN: frozenset({Door.SHUT, Door.GONE}), Door.GONE: frozenset()}


class Base(DeclarativeBase):
    pass


class DoorRow(Base):
    __tablename__ = "door"
    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[str]
    note: Mapped[str] = mapped_column(default="")


@pytest.fixture
def machines():
    """Machines built here are taken out of the registry again, so the app's own checks never see them."""
    built = []

    def build(name="door", table=DOOR, **options):
        machine = StateMachine(f"test-{name}", table, **options)
        built.append(machine.name)
        return machine

    yield build
    for name in built:
        MACHINES.pop(name, None)


@pytest.fixture
def doors():
    engine = sa.create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with engine.begin() as connection:
        rows = enumerate(("shut", "open", "ajar", "gone", "open"), start=1)
        connection.execute(sa.insert(DoorRow), [{"id": number, "position": where} for number, where in rows])
    yield engine
    engine.dispose()


def positions(engine) -> dict[int, tuple[str, str]]:
    with engine.connect() as connection:
        return {row.id: (row.position, row.note) for row in connection.execute(sa.select(DoorRow))}


def test_a_move_starts_only_from_the_states_the_table_lists(machines):
    machine = machines()
    assert machine.sources(Door.OPEN) == {Door.SHUT, Door.AJAR}
    assert machine.sources(Door.GONE) == {Door.OPEN}
    assert machine.terminal() == {Door.GONE}
    assert machine.can_move(Door.SHUT, Door.AJAR) and not machine.can_move(Door.SHUT, Door.GONE)


def test_the_guarded_update_moves_the_row_only_from_an_allowed_state(machines, doors):
    machine = machines(attribute="position")
    with Session(doors) as session:  # as the services run it: in the ORM session, with rows loaded
        session.get(DoorRow, 1)
        moved = session.execute(machine.guarded_update(DoorRow, 1, Door.OPEN, note="by the porter"))
        assert moved.rowcount == 1
        # The second of two requests finds the row already open: nothing matches, nothing changes.
        again = session.execute(machine.guarded_update(DoorRow, 1, Door.OPEN, note="twice"))
        assert again.rowcount == 0
        refused = session.execute(machine.guarded_update(DoorRow, 3, Door.GONE, note="no"))
        assert refused.rowcount == 0
        session.commit()
    assert positions(doors) == {1: ("open", "by the porter"), 2: ("open", ""), 3: ("ajar", ""),
                                4: ("gone", ""), 5: ("open", "")}


def test_the_bulk_guarded_update_leaves_rows_that_may_not_move(machines, doors):
    machine = machines(attribute="position")
    with Session(doors) as session:
        session.get(DoorRow, 2)
        night = machine.guarded_update_many(DoorRow, DoorRow.id <= 3, Door.SHUT, note="night")
        moved = session.execute(night)
        assert moved.rowcount == 2  # the open and the ajar door; the shut one is not a move
        session.commit()
    # Door 5 is open too, but not among those asked for.
    assert positions(doors) == {1: ("shut", ""), 2: ("shut", "night"), 3: ("shut", "night"), 4: ("gone", ""),
                                5: ("open", "")}


def test_a_refused_move_says_what_the_table_says_for_its_target(app, machines):
    machine = machines(refused={Door.GONE: "Only an open door can be taken away."})
    with app.test_request_context():
        with pytest.raises(InvalidTransition) as named:
            machine.move(SimpleNamespace(status=Door.SHUT), Door.GONE)
        assert str(named.value) == "Only an open door can be taken away."
        with pytest.raises(InvalidTransition) as generic:
            machine.move(SimpleNamespace(status=Door.GONE), Door.OPEN)
        assert str(generic.value) == str(CHANGED_MEANWHILE)


def test_a_refusal_may_be_worded_from_the_object_and_the_target(app, machines):
    machine = machines(refused=lambda door, target: f"Door {door.number} cannot become {target}.")
    door = SimpleNamespace(status=Door.GONE, number=7)
    with pytest.raises(InvalidTransition, match=r"^Door 7 cannot become open\.$"):
        machine.move(door, Door.OPEN)
    assert door.status == Door.GONE


def test_the_moved_column_may_have_another_name(machines):
    machine = machines(attribute="position")
    door = SimpleNamespace(position=Door.SHUT, status="untouched")
    machine.move(door, Door.AJAR)
    assert (door.position, door.status) == (Door.AJAR, "untouched")


def test_a_table_naming_a_state_it_does_not_list_is_refused(machines):
    with pytest.raises(ValueError, match=r"test-broken: shut leads to unknown states \['open'\]"):
        machines("broken", {Door.SHUT: frozenset({Door.OPEN})})
    assert "test-broken" not in MACHINES


def test_a_machine_is_defined_once(machines):
    machines("once")
    with pytest.raises(ValueError, match="state machine 'test-once' defined twice"):
        StateMachine("test-once", DOOR)


def test_the_features_read_their_moves_off_their_one_table():
    c, p, t = consultation_states, prescription_states, inventory_states
    assert c.can_move(c.S.WAITING, c.S.IN_PROGRESS) and not c.can_move(c.S.COMPLETED, c.S.IN_PROGRESS)
    assert p.can_move(p.S.DRAFT, p.S.SIGNED) and not p.can_move(p.S.APPROVED, p.S.DRAFT)
    for target in inventory_states.TransferStatus:
        assert t.transfer_sources(target) == t.TRANSFER.sources(target)
