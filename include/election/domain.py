"""The election's domain, defined once: parties, genders, ages, how many candidates an election may have.

The generator, the data-quality suites, the database's checks, the streaming job and the dashboard all import
these; none keeps a copy of its own. (The states themselves, with population and map cell, are the reference
table of `election.regions`.)
"""

from __future__ import annotations

# Genders a voter may be registered with (the voters table's CHECK lists the same values).
GENDERS: tuple[str, ...] = ("female", "male", "nonbinary")
GENDER_WEIGHTS: tuple[float, ...] = (0.505, 0.48, 0.015)

# Voting age and the oldest age the generator produces.
VOTING_AGE = 18
MAX_AGE = 100

# Age bands of the demographics aggregate: (label, lowest age, highest age or None).
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("18-24", 18, 24),
    ("25-34", 25, 34),
    ("35-44", 35, 44),
    ("45-54", 45, 54),
    ("55-64", 55, 64),
    ("65+", 65, None),
)
AGE_BAND_ORDER: tuple[str, ...] = tuple(label for label, _, _ in AGE_BANDS)
UNKNOWN = "unknown"

# Fictional parties, each with the colour the dashboard draws it in; an election draws its parties from these.
PARTIES: tuple[tuple[str, str], ...] = (
    ("Civic Renewal Party", "#1f77b4"),
    ("Liberty Union", "#d62728"),
    ("Green Future", "#2ca02c"),
    ("Workers' Alliance", "#9467bd"),
    ("Heritage Party", "#8c564b"),
    ("Forward Coalition", "#ff7f0e"),
    ("Common Ground", "#17becf"),
    ("Frontier Party", "#bcbd22"),
    ("Unity Movement", "#e377c2"),
    ("Reform League", "#7f7f7f"),
    ("Harbor and Plains Party", "#393b79"),
    ("New Horizons", "#637939"),
)
# One candidate per party.
MIN_CANDIDATES, MAX_CANDIDATES = 2, len(PARTIES)
MAX_VOTERS = 5_000_000
# Each state's expected turnout is drawn between these when an election is seeded (US states ranged from about
# 55 % to 80 % of eligible voters in 2020).
DEFAULT_TURNOUT_RANGE = (0.55, 0.80)
# How the vote simulation lets votes arrive: in the voters' topic order, or state by state in waves by time zone,
# east first, each state's polls closing once its votes are in.
REPORTING_ORDERS = ("random", "east_to_west")

# An election's lifecycle: votes are accepted while `open`; `closed` counts what was cast; `certified` is final.
OPEN, CLOSED, CERTIFIED = "open", "closed", "certified"
STATUSES: tuple[str, ...] = (OPEN, CLOSED, CERTIFIED)


def age_band(age: int | None) -> str:
    """The demographics band of an age (UNKNOWN when there is none)."""
    if age is None:
        return UNKNOWN
    for label, low, high in AGE_BANDS:
        if age >= low and (high is None or age <= high):
            return label
    return UNKNOWN


def candidate_label(candidate_name: str, party: str) -> str:
    """How a candidate is named wherever one is shown: "Jane Doe (Liberty Union)"."""
    return f"{candidate_name} ({party})"
