"""Centers, users, role grants and the audit trail."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.timeutil import now

CENTER_KINDS = {
    "county": "County centre",
    "township": "Township centre",
    "subcenter": "Sub-centre",
    "village": "Village service point",
}

# scrypt (memory-hard); tests swap in a fast method.
PASSWORD_METHOD = "scrypt"

# Role codes; titles are translated where shown (app.access.ROLE_TITLES).
CLERK, AGENT, INSPECTOR, DEPUTY, DIRECTOR, LEADER, COUNTY, ADMIN = (
    "clerk", "agent", "inspector", "deputy", "director", "leader", "county", "admin")
ROLES = (CLERK, AGENT, INSPECTOR, DEPUTY, DIRECTOR, LEADER, COUNTY, ADMIN)


class Center(db.Model):
    __tablename__ = "center"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    code: Mapped[str] = mapped_column(String(30), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="township")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("center.id"), index=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    complaint_phone: Mapped[str] = mapped_column(String(30), default="")
    active: Mapped[bool] = mapped_column(default=True)

    parent: Mapped[Center | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Center]] = relationship(back_populates="parent")

    def __str__(self) -> str:
        return self.name

    def descendant_ids(self) -> set[int]:
        """This centre and every centre below it (a county's townships, their points …)."""
        from app.access import centre_directory
        return centre_directory().below(self.id)


class User(UserMixin, db.Model):
    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    name: Mapped[str] = mapped_column(String(60))
    phone: Mapped[str] = mapped_column(String(30), default="")
    center_id: Mapped[int] = mapped_column(ForeignKey("center.id"), index=True)
    dispatching_department: Mapped[str] = mapped_column(String(100), default="")
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    locale: Mapped[str | None] = mapped_column(String(10))
    # Bumped on password change so other sessions of the user end (Flask-Login alternative id).
    session_epoch: Mapped[int] = mapped_column(default=0)

    center: Mapped[Center] = relationship()
    grants: Mapped[list[RoleGrant]] = relationship(back_populates="user", cascade="all, delete-orphan")

    def __str__(self) -> str:
        return self.name

    def get_id(self) -> str:
        return f"{self.id}:{self.session_epoch}"

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=globals()['PASSWORD_METHOD'])
        self.end_sessions()

    def end_sessions(self) -> None:
        """Every session cookie issued so far (and every copy of one) stops working."""
        self.session_epoch = (self.session_epoch or 0) + 1

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def is_locked(self, at: datetime | None = None) -> bool:
        """Inside a login delay after repeated failures (see app.auth): attempts are refused until it ends."""
        return self.locked_until is not None and self.locked_until > (at or now())


class RoleGrant(db.Model):
    """A role held by a user in one centre; a grant at a county centre reaches its centres below."""
    __tablename__ = "role_grant"
    __table_args__ = (UniqueConstraint("user_id", "center_id", "role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("center.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))

    user: Mapped[User] = relationship(back_populates="grants")
    center: Mapped[Center] = relationship()


class AuditEntry(db.Model):
    """One change to one record: never edited, never deleted."""
    __tablename__ = "audit_entry"
    id: Mapped[int] = mapped_column(primary_key=True)
    center_id: Mapped[int | None] = mapped_column(ForeignKey("center.id"))
    record_table: Mapped[str] = mapped_column(String(60))
    record_id: Mapped[int] = mapped_column()
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(default=now)
    action: Mapped[str] = mapped_column(String(20))  # create / edit / transition / void / sweep
    field: Mapped[str] = mapped_column(String(60), default="")
    before: Mapped[str] = mapped_column(Text, default="")
    after: Mapped[str] = mapped_column(Text, default="")
    comment: Mapped[str] = mapped_column(Text, default="")

    user: Mapped[User | None] = relationship()

    __table_args__ = (db.Index("ix_audit_record", "record_table", "record_id"),)


class RecordOpinion(db.Model):
    """An opinion or decision given at a step of an approval chain (who, as what, when, what they said):
    kept with the record for as long as it is kept, and printed on its paper form."""
    __tablename__ = "record_opinion"
    id: Mapped[int] = mapped_column(primary_key=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("center.id"))
    record_table: Mapped[str] = mapped_column(String(60))
    record_id: Mapped[int] = mapped_column()
    step: Mapped[str] = mapped_column(String(60))       # the transition's name
    role: Mapped[str] = mapped_column(String(20))       # the role the person acted in
    kind: Mapped[str] = mapped_column(String(20))       # opinion / approve / reject / return
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(default=now)
    text: Mapped[str] = mapped_column(Text, default="")

    user: Mapped[User] = relationship()

    __table_args__ = (db.Index("ix_record_opinion_record", "record_table", "record_id"),)


class SubmissionToken(db.Model):
    """A form's one-time token: a second submit of the same form finds the first record."""
    __tablename__ = "submission_token"
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    record_table: Mapped[str] = mapped_column(String(60))
    record_id: Mapped[int | None]
    at: Mapped[datetime] = mapped_column(default=now)


class IssuedForm(db.Model):
    """The number a printed form of a record received: a reprint shows the same number."""
    __tablename__ = "issued_form"
    __table_args__ = (UniqueConstraint("record_table", "record_id", "form_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("center.id"))
    record_table: Mapped[str] = mapped_column(String(60))
    record_id: Mapped[int]
    form_name: Mapped[str] = mapped_column(String(40))
    number: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime] = mapped_column(default=now)
