"""Stores, staff and patients with their records; every name, number and address is invented."""

from datetime import date, timedelta
from decimal import Decimal

from app.benchdata.volumes import DAY, bench_email
from app.benchdata.world import World
from app.benchdata.writer import Batch, moment
from app.patients import catalog
from app.patients.services import CONSENT_VERSIONS

# (city, 城市, province, latitude, longitude)
CITIES = [
    ("Shanghai", "上海", "Shanghai", 31.23, 121.47), ("Beijing", "北京", "Beijing", 39.90, 116.40),
    ("Guangzhou", "广州", "Guangdong", 23.13, 113.26), ("Shenzhen", "深圳", "Guangdong", 22.54, 114.06),
    ("Hangzhou", "杭州", "Zhejiang", 30.27, 120.15), ("Chengdu", "成都", "Sichuan", 30.57, 104.07),
    ("Wuhan", "武汉", "Hubei", 30.59, 114.31), ("Nanjing", "南京", "Jiangsu", 32.06, 118.80),
    ("Xi'an", "西安", "Shaanxi", 34.34, 108.94), ("Tianjin", "天津", "Tianjin", 39.34, 117.36),
]
SURNAMES = ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun",
            "Ma", "Zhu", "Hu", "Guo", "He", "Lin", "Luo", "Gao")
GIVEN = ("Wei", "Fang", "Min", "Jing", "Lei", "Yan", "Jun", "Hui", "Tao", "Xin", "Ping", "Hong",
         "Qiang", "Na", "Yu", "Chao", "Mei", "Bo", "Ying", "Lan")
DEPARTMENTS = ("Cardiology", "Endocrinology", "Oncology", "Nephrology", "Rheumatology", "Neurology",
               "Respiratory Medicine", "Gastroenterology", "Hematology", "Infectious Diseases")
HOSPITALS = ("Riverside People's Hospital", "Eastlake Central Hospital", "Hillview University Hospital",
             "Harbour District Hospital", "Greenfield Cancer Centre")
ALLERGY_INGREDIENTS = ("aspirin", "ibuprofen", "sulfamethoxazole", "amoxicillin", "metformin")
REACTIONS = ("Rash", "Hives", "Swelling of the lips", "Nausea", "Shortness of breath")
PATIENTS_PER_BATCH = 5_000


def _name(rng) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)}{rng.choice(GIVEN).lower()}"


def write_stores(world: World) -> None:
    count = world.volumes.stores
    first = world.writer.ids("stores", count)
    cities_first = world.writer.ids("store_service_cities", count)
    batch, created = Batch(), moment(world.clock.start)
    for n in range(count):
        city, city_zh, _province, lat, lng = CITIES[n % len(CITIES)]
        number = n // len(CITIES) + 1
        world.stores.append(first + n)
        batch.add("stores", (
            first + n, f"BN{n + 1:03d}", f"{city} DTP Pharmacy {number}", f"{city_zh}DTP药房{number}号店",
            city, f"{10 + n} Bench Road, {city}", "Asia/Shanghai", Decimal(f"{lat + number * 0.01:.6f}"),
            Decimal(f"{lng + number * 0.01:.6f}"), "Mon–Sun 08:30–21:00", Decimal(30), True, True, created))
        batch.add("store_service_cities", (cities_first + n, first + n, city))
    world.writer.flush(batch)


def _staff_user(world: World, batch: Batch, user_id: int, role: str, email: str, locale: str = "zh") -> None:
    created = moment(world.clock.start)
    batch.add("users", (user_id, email, world.phone(user_id), created, world.password_hash, role,
                        _name(world.rng), locale, "Asia/Shanghai", True, 1, created, None))


def write_staff(world: World) -> None:
    volumes, batch, rng = world.volumes, Batch(), world.rng
    created = moment(world.clock.start)
    groups = (("admin", volumes.admins, world.admins), ("doctor", volumes.doctors, world.doctors),
              ("pharmacist", volumes.pharmacists, world.pharmacists),
              ("courier", volumes.couriers, world.couriers))
    for role, count, ids in groups:
        first = world.writer.ids("users", count)
        for n in range(count):
            user_id = first + n
            ids.append(user_id)
            email = bench_email(role) if n == 0 else f"{role}{n:05d}@bench.example"
            _staff_user(world, batch, user_id, role, email, locale="en" if role == "admin" else "zh")
            # Store-bound staff: the first of each role works at the first store, which has every lot.
            store = world.stores[n % len(world.stores)]
            if role == "doctor":
                fee = rng.choice((3000, 3000, 5000, 8000))
                world.doctor_fee[user_id] = fee
                batch.add("doctor_profiles", (user_id, f"DOC-BN-{user_id:07d}", rng.choice(DEPARTMENTS), fee,
                                              True, created))
            elif role == "pharmacist":
                batch.add("pharmacist_profiles", (user_id, f"PHA-BN-{user_id:07d}", store))
            elif role == "courier":
                batch.add("courier_profiles", (user_id, store))
        world.bench[role] = first
    world.writer.flush(batch)


def write_patients(world: World) -> None:
    volumes, writer = world.volumes, world.writer
    world.icd = list(catalog.icd10().values())
    world.patient_first = writer.ids("users", volumes.patients)
    world.bench["patient"] = world.patient_first
    for start in range(0, volumes.patients, PATIENTS_PER_BATCH):
        writer.flush(_patient_batch(world, range(start, min(start + PATIENTS_PER_BATCH, volumes.patients))))


def _patient_batch(world: World, numbers: range) -> Batch:
    rng, clock, writer, batch = world.rng, world.clock, world.writer, Batch()
    conditions = [rng.choice((1, 1, 2, 2, 3)) for _ in numbers]
    allergies = [rng.choice((0, 0, 0, 1, 1, 2)) for _ in numbers]
    condition_id = writer.ids("conditions", sum(conditions))
    upload_id = writer.ids("uploads", sum(conditions))
    allergy_id = writer.ids("allergies", sum(allergies))
    address_id = writer.ids("addresses", len(numbers))
    consent_id = writer.ids("consents", 2 * len(numbers))
    if not world.condition_base:
        world.condition_base = condition_id
    reviewer = world.admins[-1]
    today = date.fromtimestamp(clock.now)
    for offset, number in enumerate(numbers):
        user_id = world.patient_id(number)
        joined = rng.randint(clock.start - 30 * DAY, clock.start + 60 * DAY)
        email = bench_email("patient") if number == 0 else f"patient{number:06d}@bench.example"
        name, phone = _name(rng), world.phone(user_id)
        batch.add("users", (user_id, email, phone, moment(joined + 600), world.password_hash, "patient", name,
                            rng.choice(("zh", "zh", "en")), "Asia/Shanghai", True, 1, moment(joined),
                            moment(clock.now - rng.randrange(30 * DAY))))
        born = today - timedelta(days=rng.randint(25 * 365, 85 * 365))
        batch.add("patient_profiles", (
            user_id, name, rng.choice(("female", "male")), born,
            f"{rng.randint(110000, 659999)}{born:%Y%m%d}{rng.randint(100, 999)}{rng.choice('0123456789X')}",
            moment(joined)))
        city, _zh, province, _lat, _lng = rng.choice(CITIES)
        batch.add("addresses", (address_id + offset, user_id, name, phone, province, city, "Central District",
                                f"{rng.randint(1, 999)} Example Lane, Building {rng.randint(1, 30)}",
                                f"{rng.randint(100000, 899999)}", True, True, moment(joined)))
        world.condition_first.append(condition_id)
        world.condition_count.append(conditions[offset])
        for icd_index in rng.sample(range(len(world.icd)), conditions[offset]):
            entry = world.icd[icd_index]
            world.condition_icd.append(icd_index)
            batch.add("uploads", (upload_id, user_id, user_id, "condition_proof",
                                  f"bench/{user_id}/{upload_id}.pdf", "application/pdf",
                                  rng.randint(40_000, 900_000), f"{rng.getrandbits(256):064x}",
                                  "outpatient-record.pdf", moment(joined + 900)))
            batch.add("conditions", (condition_id, user_id, entry.code, entry.name_en, rng.choice(HOSPITALS),
                                     today - timedelta(days=rng.randint(800, 4000)), upload_id, "verified",
                                     reviewer, moment(joined + DAY), "Record matches the diagnosis.",
                                     moment(joined + 900)))
            condition_id += 1
            upload_id += 1
        for _ in range(allergies[offset]):
            if rng.random() < 0.5:
                kind, substance = "class", rng.choice(list(catalog.allergy_classes()))
            else:
                kind, substance = "ingredient", rng.choice(ALLERGY_INGREDIENTS)
            batch.add("allergies", (allergy_id, user_id, kind, substance, rng.choice(REACTIONS),
                                    rng.choice(("mild", "moderate", "severe")), None, moment(joined + 1200),
                                    True))
            allergy_id += 1
        for kind_offset, kind in enumerate(("data_sharing", "sms_reminders")):
            batch.add("consents", (consent_id + 2 * offset + kind_offset, user_id, kind,
                                   CONSENT_VERSIONS[kind], moment(joined + 300), None, "10.0.0.1"))
    return batch
