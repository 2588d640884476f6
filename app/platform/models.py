"""Research tokens: the random pseudonyms the data platform knows patients, staff and prescriptions by."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime, utcnow
from app.extensions import db


class ResearchToken(db.Model):
    """One random token per subject, made the first time the subject is pushed and never changed.

    The mapping stays in the app: the token is not derived from any identifier, so without this
    table nobody can turn it back into a person. `id` is the OMOP person_id of a patient's export.
    """

    __tablename__ = "research_tokens"
    __table_args__ = (sa.UniqueConstraint("subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(sa.String(20))  # patient | staff | prescription
    subject_id: Mapped[int] = mapped_column()
    token: Mapped[str] = mapped_column(sa.String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
