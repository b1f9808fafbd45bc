"""Time windows (day, week, month): the one definition the rules, the features and the report use.

A week starts on Monday; a month on its first day. ``window_of`` is the window of one date (start
and end, both inclusive), ``window_starts`` the window starts of a column of timestamps.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

GRANULARITIES = ("day", "week", "month")


def _unknown(granularity: str) -> ValueError:
    return ValueError(f"unknown window {granularity!r} (day, week or month)")


def window_of(date: dt.date, granularity: str = "week") -> tuple[dt.date, dt.date]:
    if granularity == "day":
        return date, date
    if granularity == "week":
        start = date - dt.timedelta(days=date.weekday())
        return start, start + dt.timedelta(days=6)
    if granularity == "month":
        start = date.replace(day=1)
        nxt = (start + dt.timedelta(days=32)).replace(day=1)
        return start, nxt - dt.timedelta(days=1)
    raise _unknown(granularity)


def window_starts(dates: pd.Series, granularity: str) -> pd.Series:
    """The start (midnight) of each timestamp's window."""
    if granularity == "day":
        return dates.dt.normalize()
    if granularity == "week":
        return (dates - pd.to_timedelta(dates.dt.day_of_week, unit="D")).dt.normalize()
    if granularity == "month":
        return dates.dt.to_period("M").dt.start_time
    raise _unknown(granularity)


def window_frequency(granularity: str) -> str:
    """The pandas frequency of consecutive window starts."""
    try:
        return {"day": "D", "week": "W-MON", "month": "MS"}[granularity]
    except KeyError:
        raise _unknown(granularity) from None
