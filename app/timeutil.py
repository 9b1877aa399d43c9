"""Local time of the centre (Asia/Shanghai), stored naive."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    return datetime.now(TZ).replace(tzinfo=None, microsecond=0)


def today() -> date:
    return now().date()


def cn_date(d: date | datetime | None) -> str:
    """A date as written on paper: 2026年11月23日."""
    if d is None:
        return ""
    return f"{d.year}年{d.month}月{d.day}日"
