"""Uploaded files: type from the bytes (PDF, JPEG, PNG), at most 10 MB, stored outside static/."""

import hashlib
import re
import secrets
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage

from app.errors import DomainError
from app.extensions import db
from app.patients.models import Upload, UploadPurpose
from app.text import clean_name

# Magic numbers: the start of the file decides its type, never its name.
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
EXTENSIONS = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}
# What a file's name says it is; a name that disagrees with the bytes is a disguised file.
TYPE_BY_EXTENSION = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg",
                     ".jpeg": "image/jpeg"}


def sniff_type(head: bytes) -> str | None:
    for magic, content_type in SIGNATURES:
        if head.startswith(magic):
            return content_type
    return None


def original_name(filename: str | None) -> str:
    """The file's own name as the browser sent it: no folders, no invisible controls (a right-to-left
    override makes "scan_fdp.exe" read as "scan_exe.pdf")."""
    return clean_name(re.split(r"[/\\]", filename or "")[-1])


def upload_root() -> Path:
    root = Path(current_app.config["UPLOAD_FOLDER"])
    root.mkdir(parents=True, exist_ok=True)
    return root


def save_upload(file: FileStorage, *, patient, uploaded_by, purpose: UploadPurpose,
                field: str = "file") -> Upload:
    """Check and store one file; DomainError (on `field`) for an empty, disguised or large file."""
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    data = file.stream.read(limit + 1) if file else b""
    if not data:
        raise DomainError({field: _l("Choose a file to upload.")})
    if len(data) > limit:
        raise DomainError({field: _l("The file is larger than %(mb)d MB.", mb=limit // (1024 * 1024))})
    content_type = sniff_type(data[:16])
    name = original_name(file.filename)
    claimed = TYPE_BY_EXTENSION.get(Path(name).suffix.lower())
    if content_type is None or claimed is None:
        raise DomainError({field: _l("Only PDF, JPEG and PNG files are accepted.")})
    if claimed != content_type:
        raise DomainError({field: _l("The file's content does not match its name (%(name)s).",
                                     name=name)})
    key = f"{patient.id}/{secrets.token_hex(16)}{EXTENSIONS[content_type]}"
    path = upload_root() / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    upload = Upload(
        patient_id=patient.id,
        uploaded_by_id=uploaded_by.id,
        purpose=purpose,
        storage_key=key,
        content_type=content_type,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        original_name=(name or "upload")[:255],
    )
    db.session.add(upload)
    db.session.flush()
    return upload


def upload_path(upload: Upload) -> Path:
    return upload_root() / upload.storage_key
