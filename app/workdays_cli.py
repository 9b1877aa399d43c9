"""`flask --app wsgi holidays seed|show YEAR`."""
import click
from flask.cli import AppGroup

from app.extensions import db

holidays = AppGroup("holidays", help="The working-day calendar.")


@holidays.command("seed")
def seed():
    """Copy the chinese-calendar package's schedule into the table (years not entered yet)."""
    from app.workdays import seed_from_package
    added = seed_from_package()
    db.session.commit()
    click.echo(f"{added} days added")


@holidays.command("show")
@click.argument("year", type=int)
def show(year: int):
    """Print a year's days off and make-up working days."""
    from datetime import date, timedelta

    from app.workdays import is_confirmed, is_working_day
    click.echo(f"{year}: {'confirmed' if is_confirmed(year) else 'NOT CONFIRMED (Monday–Friday assumed)'}")
    day = date(year, 1, 1)
    while day.year == year:
        if is_working_day(day) != (day.weekday() < 5):
            click.echo(f"  {day.isoformat()} {'working (make-up)' if is_working_day(day) else 'off'}")
        day += timedelta(days=1)


def register(app) -> None:
    app.cli.add_command(holidays)
