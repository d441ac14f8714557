"""How an election's votes arrive: how many vote in each state, and in which order the states report.

- **How many**: each state votes exactly its expected vote. With the seeded per-state expected turnouts, that is
  round(registered × turnout) per state; with one turnout for the whole election (the simulation's `turnout`),
  exactly round(N × turnout) in all, shared between the states by largest remainder (Hamilton's method), so every
  state's share is within one vote of registered × turnout and the national count is exact.
- **In which order** (`reporting_order`): `random` casts the voters in their topic's order, every state at once;
  `east_to_west` casts them in waves by time zone, the eastern states first, and closes a wave's polls once its
  votes are in: a state whose polls closed can be called on the votes it holds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from zoneinfo import ZoneInfo

from election.domain import REPORTING_ORDERS

POLLS_CLOSE = dt.time(20, 0)  # local time: the hour at which the waves are compared (most polls close by 20:00)


def apportion(total: int, weights: Mapping[str, int]) -> dict[str, int]:
    """`total` shared in proportion to `weights` by largest remainder: the shares sum to `total` exactly and each is
    within one of its exact quota. Ties go to the larger weight, then to the first key in sorted order."""
    whole = sum(weights.values())
    if total < 0 or total > whole:
        raise ValueError(f"cannot share {total} between weights summing to {whole}")
    if whole == 0:
        return dict.fromkeys(weights, 0)
    shares = {key: total * weight // whole for key, weight in weights.items()}
    left = total - sum(shares.values())
    by_remainder = sorted(weights, key=lambda key: (-(total * weights[key] % whole), -weights[key], key))
    for key in by_remainder[:left]:
        shares[key] += 1
    return shares


def votes_per_state(
    registered: Mapping[str, int], turnout: float | None, expected_turnout: Mapping[str, float | None]
) -> dict[str, int]:
    """How many vote in each state: with `turnout`, round(N × turnout) shared by largest remainder; without it,
    each state's round(registered × its expected turnout) (which the seed drew)."""
    if turnout is not None:
        if not 0 <= turnout <= 1:
            raise ValueError(f"turnout must be between 0 and 1, got {turnout}")
        return apportion(round(sum(registered.values()) * turnout), registered)
    missing = sorted(state for state in registered if expected_turnout.get(state) is None)
    if missing:
        raise ValueError(
            f"no expected turnout for {', '.join(missing)} (an election seeded before expected turnouts): "
            "give the simulation a turnout"
        )
    return {state: round(voters * float(expected_turnout[state] or 0)) for state, voters in registered.items()}


def utc_offset(time_zone: str, on: dt.date) -> dt.timedelta:
    """The zone's offset from UTC at POLLS_CLOSE on the day (daylight saving time as it is that day)."""
    offset = dt.datetime.combine(on, POLLS_CLOSE, tzinfo=ZoneInfo(time_zone)).utcoffset()
    assert offset is not None
    return offset


def waves(
    states: Iterable[str], time_zones: Mapping[str, str], order: str, on: dt.date
) -> list[tuple[str, ...]] | None:
    """The states in reporting waves, or None for `random` (no waves: every state at once). `east_to_west`: one wave
    per UTC offset on election day, the easternmost (largest offset) first, states sorted within a wave."""
    if order not in REPORTING_ORDERS:
        raise ValueError(f"reporting_order must be one of {', '.join(REPORTING_ORDERS)}, got {order!r}")
    if order == "random":
        return None
    by_offset: dict[dt.timedelta, list[str]] = {}
    for state in sorted(states):
        if state not in time_zones:
            raise ValueError(f"no time zone for state {state!r}")
        by_offset.setdefault(utc_offset(time_zones[state], on), []).append(state)
    return [tuple(by_offset[offset]) for offset in sorted(by_offset, reverse=True)]
