"""What the generator's steps share: the run's random source, clock and writer, and the ids made so far."""

from array import array
from dataclasses import dataclass, field

from app.benchdata.volumes import Clock, Volumes
from app.benchdata.writer import BulkWriter


@dataclass
class World:
    rng: object  # random.Random, seeded: the same scale and seed give the same rows
    clock: Clock
    writer: BulkWriter
    volumes: Volumes
    password_hash: str
    stores: list[int] = field(default_factory=list)
    admins: list[int] = field(default_factory=list)
    doctors: list[int] = field(default_factory=list)
    doctor_fee: dict[int, int] = field(default_factory=dict)
    pharmacists: list[int] = field(default_factory=list)
    couriers: list[int] = field(default_factory=list)
    bench: dict[str, int] = field(default_factory=dict)
    # Patients are one block of user ids: patient number i is user patient_first + i.
    patient_first: int = 0
    # Patient i's verified conditions are ids condition_first[i] … + condition_count[i] - 1;
    # condition id c has the ICD-10 entry icd[condition_icd[c - condition_base]].
    condition_first: array = field(default_factory=lambda: array("q"))
    condition_count: array = field(default_factory=lambda: array("b"))
    condition_base: int = 0
    condition_icd: array = field(default_factory=lambda: array("H"))
    icd: list = field(default_factory=list)
    drugs: list = field(default_factory=list)  # app.benchdata.catalogue.DrugInfo, prescribable ones
    long_drugs: list = field(default_factory=list)  # those a long prescription may carry
    # Consultations that reached a doctor, as parallel arrays (prescriptions are written on them).
    seen_id: array = field(default_factory=lambda: array("q"))
    seen_patient: array = field(default_factory=lambda: array("q"))
    seen_doctor: array = field(default_factory=lambda: array("q"))
    seen_condition: array = field(default_factory=lambda: array("q"))
    seen_accepted: array = field(default_factory=lambda: array("q"))
    # Indexes into the seen_* arrays of those accepted in the last few days (open work lives there).
    seen_recent: array = field(default_factory=lambda: array("q"))

    def patient_id(self, number: int) -> int:
        return self.patient_first + number

    def phone(self, user_id: int) -> str:
        """A unique, invented mainland mobile number per user (the 170 range, E.164)."""
        return f"+86170{user_id:08d}"

    def random_condition(self, patient_number: int) -> int:
        return self.condition_first[patient_number] + self.rng.randrange(self.condition_count[patient_number])

    def icd_of(self, condition_id: int):
        return self.icd[self.condition_icd[condition_id - self.condition_base]]
