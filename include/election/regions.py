"""The reference table of regions: the 50 US states and DC, shipped in the repository.

Each row: `state_code`, `state_name`, centroid `latitude`/`longitude`, `population` (2020 census, the weight
voters are spread by), `tile_row`/`tile_col`, the state's cell in the tile-grid map the dashboard draws
(a map that needs no geometry, tiles or scripts from the internet), and `electoral_votes`: the state's votes in
the Electoral College as apportioned after the 2020 census (in force for the 2024 and 2028 elections), 538 in
all, 270 to win. Source: U.S. National Archives, "Distribution of Electoral Votes",
https://www.archives.gov/electoral-college/allocation (each state's House seats plus two; DC three, by the
23rd Amendment). `time_zone`: the IANA zone where most of the state votes, in which its polls close (the
vote simulation's `east_to_west` reporting order closes them in that order).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd

REGIONS_CSV = Path(__file__).parent / "data" / "us_states.csv"


@cache
def _regions() -> pd.DataFrame:
    frame = pd.read_csv(REGIONS_CSV, dtype={"state_code": str, "state_name": str}, keep_default_na=False)
    return frame.sort_values("state_code").reset_index(drop=True)


def load_regions() -> pd.DataFrame:
    """The reference table, one row per state, sorted by code (a copy: callers may modify it)."""
    return _regions().copy()


def state_codes() -> list[str]:
    return _regions()["state_code"].tolist()


def population_weights() -> pd.Series:
    """Each state's share of the population, indexed by state code; sums to 1."""
    regions = _regions().set_index("state_code")["population"]
    return regions / regions.sum()


def electoral_votes() -> dict[str, int]:
    """Each state's electoral votes (2020 apportionment): 538 in all."""
    regions = _regions()
    return dict(zip(regions["state_code"], regions["electoral_votes"].astype(int), strict=True))


def time_zones() -> dict[str, str]:
    """Each state's IANA time zone (where most of it votes)."""
    regions = _regions()
    return dict(zip(regions["state_code"], regions["time_zone"], strict=True))
