"""The holiday table: days off and make-up working days (调休), per year, with who confirmed them."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class HolidayDay(db.Model):
    """A day that differs from Monday–Friday: a day off on a weekday, or a make-up working day."""
    __tablename__ = "holiday_day"
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(unique=True)
    is_working: Mapped[bool] = mapped_column(default=False)  # True: 调休上班
    name: Mapped[str] = mapped_column(String(40), default="")
    source: Mapped[str] = mapped_column(String(20), default="notice")  # package / notice


class HolidayYear(db.Model):
    """A year whose schedule is known: seeded from the package or entered from the State Council notice."""
    __tablename__ = "holiday_year"
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    confirmed: Mapped[bool] = mapped_column(default=True)
    source: Mapped[str] = mapped_column(String(20), default="notice")
    notice: Mapped[str] = mapped_column(String(200), default="")
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    entered_at: Mapped[datetime | None]
