"""Patient-record fixtures: separate browsers per person, real file bytes, profiles and conditions."""

import io
import struct
import zlib
from datetime import date
from pathlib import Path

import pytest
from werkzeug.datastructures import FileStorage

from app.extensions import db as database
from app.patients import services
from app.patients.models import PatientProfile, Sex
from tests import factories

VALID_ID = "11010519491231002X"  # the check digit is right (GB 11643 example number)


def _png() -> bytes:
    """A real 1×1 PNG, so an image viewer would open it."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


PNG = _png()
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
       b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


class Browser:
    """One person's browser; each request gets its own app context, as on a server (a shared one
    would carry Flask-Login's user and Flask-Babel's language from one request to the next)."""

    def __init__(self, app, language: str = "en"):
        self.app, self.client = app, app.test_client()
        self.headers = {"Accept-Language": language}

    def open(self, method, url, *, follow=False, **kwargs):
        with self.app.app_context():
            response = self.client.open(url, method=method, headers=self.headers, **kwargs)
        while follow and response.status_code in (302, 303):
            with self.app.app_context():
                response = self.client.get(response.location, headers=self.headers)
        return response

    def get(self, url, **kwargs):
        return self.open("GET", url, **kwargs)

    def post(self, url, data=None, **kwargs):
        return self.open("POST", url, data=data, **kwargs)

    def page(self, url) -> str:
        response = self.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response.get_data(as_text=True)


@pytest.fixture
def person(app, db):
    """person(role_or_user, **user_fields) → (Browser signed in, user)."""

    def sign_in(role_or_user="patient", language="en", **fields):
        user = role_or_user if hasattr(role_or_user, "id") else factories.make_user(role_or_user, **fields)
        database.session.commit()
        web = Browser(app, language)
        response = web.post("/accounts/login",
                            data={"identifier": user.login_name, "password": factories.PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        return web, user

    return sign_in


@pytest.fixture
def upload_files(app):
    """Every file under the upload folder right now (to prove nothing stray was left)."""
    root = Path(app.config["UPLOAD_FOLDER"])
    return lambda: sorted(p for p in root.rglob("*") if p.is_file())


def make_profile(patient, **fields) -> PatientProfile:
    values = dict(user_id=patient.id, legal_name="Wang Fang", sex=Sex.FEMALE,
                  date_of_birth=date(1970, 3, 14), id_document_number=VALID_ID)
    values.update(fields)
    profile = PatientProfile(**values)
    database.session.add(profile)
    database.session.flush()
    database.session.refresh(patient)
    return profile


def file_storage(data: bytes, name: str) -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name)


def make_condition(patient, code="I10", data=PDF, name="record.pdf", **fields):
    """A pending condition with a stored proof, made through the service as the patient would."""
    if patient.patient_profile is None:
        make_profile(patient)
    values = dict(icd10_code=code, hospital="Shanghai Ruijin Hospital", diagnosed_on=date(2020, 6, 1))
    values.update(fields)
    condition = services.add_condition(patient, proof_file=file_storage(data, name), uploaded_by=patient,
                                       **values)
    database.session.commit()
    return condition
