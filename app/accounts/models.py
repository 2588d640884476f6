"""Accounts: one user table for every role, staff profiles and one-time verification codes."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, enum_column, utcnow
from app.extensions import db


class Role(StrEnum):
    PATIENT = "patient"
    DOCTOR = "doctor"
    PHARMACIST = "pharmacist"
    COURIER = "courier"
    ADMIN = "admin"


STAFF_ROLES = (Role.DOCTOR, Role.PHARMACIST, Role.COURIER, Role.ADMIN)




class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint("email IS NOT NULL OR phone IS NOT NULL", name="email_or_phone"),
        # The admin's user list filtered by role, newest accounts first.
        sa.Index("ix_users_role_id", "role", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(sa.String(20), unique=True)
    phone_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"), index=True)
    display_name: Mapped[str] = mapped_column(sa.String(120))
    locale: Mapped[str] = mapped_column(sa.String(10), default="en")
    time_zone: Mapped[str] = mapped_column(sa.String(64), default="Asia/Shanghai")
    is_active: Mapped[bool] = mapped_column(default=True)
    # Bumped on password change so that every other signed-in session ends.
    auth_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    doctor_profile: Mapped["DoctorProfile | None"] = relationship(back_populates="user")
    pharmacist_profile: Mapped["PharmacistProfile | None"] = relationship(back_populates="user")
    courier_profile: Mapped["CourierProfile | None"] = relationship(back_populates="user")

    def get_id(self) -> str:
        return f"{self.id}.{self.auth_version}"

    @property
    def login_name(self) -> str:
        return self.email or self.phone or ""

    @property
    def has_verified_phone(self) -> bool:
        """Booking, payment and new conditions need a number that has answered an SMS code."""
        return bool(self.phone and self.phone_verified_at)

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class DoctorProfile(db.Model):
    __tablename__ = "doctor_profiles"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    licence_number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    department: Mapped[str] = mapped_column(sa.String(80))
    # 诊查费 for one online follow-up consultation, in fen.
    consultation_fee_fen: Mapped[int] = mapped_column(default=3000, server_default="3000")
    is_verified: Mapped[bool] = mapped_column(default=False)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(back_populates="doctor_profile")


class PharmacistProfile(db.Model):
    __tablename__ = "pharmacist_profiles"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    licence_number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    home_store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id"), index=True)

    user: Mapped[User] = relationship(back_populates="pharmacist_profile")
    home_store = relationship("Store")


class CourierProfile(db.Model):
    __tablename__ = "courier_profiles"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    home_store_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stores.id"), index=True)

    user: Mapped[User] = relationship(back_populates="courier_profile")
    home_store = relationship("Store")


class CodePurpose(StrEnum):
    PHONE_VERIFICATION = "phone_verification"
    PASSWORD_RESET = "password_reset"  # noqa: S105


class CodeStatus(StrEnum):
    ACTIVE = "active"
    CONSUMED = "consumed"
    EXPIRED = "expired"


class VerificationCode(db.Model):
    """A one-time code sent by SMS; only its keyed hash is stored."""

    __tablename__ = "verification_codes"
    __table_args__ = (
        sa.CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        sa.Index("ix_verification_codes_due", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    purpose: Mapped[CodePurpose] = mapped_column(enum_column(CodePurpose, "code_purpose"))
    status: Mapped[CodeStatus] = mapped_column(
        enum_column(CodeStatus, "code_status"), default=CodeStatus.ACTIVE
    )
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
