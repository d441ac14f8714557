"""Generate the election's parties, candidates and voters: offline, vectorised, deterministic per seed.

The original project called randomuser.me once per voter. Here Faker supplies small pools (names from its
frequency-weighted lists, streets, cities, biographies) and numpy samples a million voters from them in a
couple of seconds. The same `(random_seed, num_voters, num_candidates)` always gives the same rows, so
re-running the seed is idempotent. Voters are spread over the states by population (the reference table).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from faker import Faker
from faker.providers.person.en_US import Provider as PersonProvider

from election.avatars import avatar_url, avatar_url_parts
from election.domain import GENDER_WEIGHTS, GENDERS, MAX_AGE, MAX_CANDIDATES, MIN_CANDIDATES, PARTIES, VOTING_AGE
from election.regions import population_weights

NATIONALITY = "US"
COUNTRY = "United States"
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")  # reserved for documentation: never real

_PLATFORM_POINTS = (
    "affordable housing near transit",
    "a balanced budget without new sales taxes",
    "universal pre-kindergarten",
    "rural broadband for every county",
    "lower prescription drug prices",
    "modernised water infrastructure",
    "a clean-energy jobs programme",
    "smaller class sizes",
    "open data for every public contract",
    "safer streets through community policing",
    "apprenticeships in every high school",
    "property-tax relief for seniors",
    "faster permits for small businesses",
    "paid family leave",
    "wildfire and flood resilience",
    "a state-wide mental-health hotline",
)


@dataclass(frozen=True)
class SeedFrames:
    parties: pd.DataFrame
    candidates: pd.DataFrame
    voters: pd.DataFrame | pa.Table


def _streams(random_seed: int, count: int) -> list[np.random.Generator]:
    """Independent random streams, so one column's draws never shift another's."""
    return [np.random.default_rng(s) for s in np.random.SeedSequence(random_seed).spawn(count)]


def uuid4_strings(rng: np.random.Generator, count: int, *, sort: bool = False) -> pa.Array:
    """`count` random version-4 UUIDs in canonical text form, generated without a Python loop.

    `sort=True` returns them in ascending order (byte order is text order for lowercase hex).
    """
    raw = rng.integers(0, 256, size=(count, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    if sort:
        halves = raw.view(">u8").reshape(count, 2)
        raw = raw[np.lexsort((halves[:, 1], halves[:, 0]))]
    hex_digits = np.frombuffer(raw.tobytes().hex().encode(), dtype="S1").reshape(count, 32)
    dash = np.full((count, 1), b"-", dtype="S1")
    parts = [
        hex_digits[:, :8],
        dash,
        hex_digits[:, 8:12],
        dash,
        hex_digits[:, 12:16],
        dash,
        hex_digits[:, 16:20],
        dash,
        hex_digits[:, 20:],
    ]
    text = np.ascontiguousarray(np.concatenate(parts, axis=1))
    # 36 ASCII bytes per id, back to back: an Arrow string array is exactly that plus offsets (no copy).
    offsets = np.arange(0, 36 * (count + 1), 36, dtype=np.int32)
    return pa.StringArray.from_buffers(count, pa.py_buffer(offsets), pa.py_buffer(text))


def _weighted_names(names: dict[str, float], size: int) -> tuple[list[str], int, np.ndarray]:
    """(pool, size, probabilities) for `_sample` from one of Faker's name -> frequency lists."""
    weights = np.array(list(names.values()), dtype=float)
    return list(names.keys()), size, weights / weights.sum()


def _sample(
    rng: np.random.Generator,
    pool: list[str] | tuple[str, ...],
    size: int,
    p: np.ndarray | None = None,
    *,
    indices: np.ndarray | None = None,
) -> pa.Array:
    """`size` draws from a small pool of strings, gathered by Arrow (no Python string per row)."""
    if indices is None:
        indices = rng.choice(len(pool), size=size, p=p)
    return pa.array(pool, pa.string()).take(pa.array(indices))


def generate_parties_and_candidates(num_candidates: int, random_seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`num_candidates` parties with one candidate each."""
    if not MIN_CANDIDATES <= num_candidates <= MAX_CANDIDATES:
        raise ValueError(f"num_candidates must be between {MIN_CANDIDATES} and {MAX_CANDIDATES}")
    ids_rng, pick_rng = _streams(random_seed, 2)
    fake = Faker("en_US")
    fake.seed_instance(random_seed)
    chosen = sorted(pick_rng.choice(len(PARTIES), size=num_candidates, replace=False))
    parties = pd.DataFrame(
        {
            "party_id": np.arange(1, num_candidates + 1, dtype=np.int32),
            "party_name": [PARTIES[i][0] for i in chosen],
            "color": [PARTIES[i][1] for i in chosen],
        }
    )
    candidate_ids = uuid4_strings(ids_rng, num_candidates).to_pylist()
    rows = []
    for candidate_id, party in zip(candidate_ids, parties.itertuples(), strict=True):
        name = fake.name()
        points = pick_rng.choice(len(_PLATFORM_POINTS), size=3, replace=False)
        rows.append(
            {
                "candidate_id": candidate_id,
                "candidate_name": name,
                "party_id": party.party_id,
                "biography": f"{name} ({party.party_name}) {fake.paragraph(nb_sentences=3)}",
                "campaign_platform": "; ".join(_PLATFORM_POINTS[i] for i in points).capitalize() + ".",
                "photo_url": avatar_url("candidates", candidate_id),
            }
        )
    return parties, pd.DataFrame(rows)


def _digits(rng: np.random.Generator, count: int, low: int, high: int, width: int) -> pa.Array:
    values = pa.array(rng.integers(low, high, size=count))
    return pc.utf8_lpad(pc.cast(values, pa.string()), width=width, padding="0")


def generate_voters(num_voters: int, random_seed: int, election_date: dt.date) -> pd.DataFrame:
    """`num_voters` adult voters, spread over the states by population."""
    return voters_table(num_voters, random_seed, election_date).to_pandas(
        types_mapper=_ARROW_STRINGS.get, date_as_object=False
    )


def voters_table(num_voters: int, random_seed: int, election_date: dt.date) -> pa.Table:
    """The voters as an Arrow table (what the seed stages), in voter_id order."""
    if num_voters < 1:
        raise ValueError("num_voters must be at least 1")
    (ids_rng, name_rng, gender_rng, age_rng, state_rng, street_rng, contact_rng) = _streams(random_seed + 1, 7)
    fake = Faker("en_US")
    fake.seed_instance(random_seed)
    n = num_voters

    # Ascending ids, and registration numbers in that same order: both unique indexes of the voters table
    # then grow at their right edge during the COPY, which makes the load ~40% faster. Every other column is
    # drawn independently, so ordering the ids orders nothing else.
    voter_ids = uuid4_strings(ids_rng, n, sort=True)
    registration_number = pc.binary_join_element_wise(
        "VR", pc.utf8_lpad(pc.cast(pa.array(np.arange(1, n + 1)), pa.string()), width=9, padding="0"), ""
    )

    gender_idx = gender_rng.choice(len(GENDERS), size=n, p=GENDER_WEIGHTS)
    gender = _sample(gender_rng, GENDERS, n, indices=gender_idx)
    # First names from Faker's frequency-weighted lists for the voter's gender (nonbinary voters: either).
    female = _sample(name_rng, *_weighted_names(PersonProvider.first_names_female, n))
    male = _sample(name_rng, *_weighted_names(PersonProvider.first_names_male, n))
    use_female = (gender_idx == 0) | ((gender_idx == 2) & (name_rng.random(n) < 0.5))
    first_a = pc.if_else(pa.array(use_female), female, male)
    last_a = _sample(name_rng, *_weighted_names(PersonProvider.last_names, n))

    # Ages: flat from 18 to 64, then thinning out to 100 (roughly the US adult population).
    ages = np.arange(VOTING_AGE, MAX_AGE + 1)
    age_weights = np.where(ages < 65, 1.0, np.maximum(0.03, 1.0 - (ages - 64) / 38))
    age = age_rng.choice(ages, size=n, p=age_weights / age_weights.sum())
    # Born between one day after (election day - age - 1 years) and (election day - age years):
    # exactly `age` years old on election day.
    anniversaries = np.array([election_date.replace(year=election_date.year - a) for a in ages], dtype="datetime64[D]")
    date_of_birth = anniversaries[age - VOTING_AGE] - age_rng.integers(0, 365, size=n).astype("timedelta64[D]")
    registered_age = (age_rng.random(n) * (age - VOTING_AGE + 1)).astype(np.int32)

    weights = population_weights()
    states = _sample(state_rng, weights.index.tolist(), n, p=weights.to_numpy())

    street = pc.binary_join_element_wise(
        pc.cast(pa.array(street_rng.integers(1, 9999, size=n)), pa.string()),
        _sample(street_rng, [fake.street_name() for _ in range(4096)], n),
        " ",
    )
    city = _sample(street_rng, [fake.city() for _ in range(2048)], n)
    postcode = _digits(street_rng, n, 1001, 99951, 5)

    def phone() -> pa.Array:
        return pc.binary_join_element_wise(
            "(",
            _digits(contact_rng, n, 201, 990, 3),
            ") ",
            _digits(contact_rng, n, 200, 1000, 3),
            "-",
            _digits(contact_rng, n, 0, 10000, 4),
            "",
        )

    number = pc.cast(pa.array(contact_rng.integers(1, 999, n)), pa.string())
    local_part = pc.utf8_lower(pc.binary_join_element_wise(first_a, last_a, number, "."))
    local_part = pc.replace_substring_regex(local_part, r"[^a-z0-9.]", "")
    domain = _sample(contact_rng, EMAIL_DOMAINS, n)
    email = pc.binary_join_element_wise(local_part, domain, "@")
    picture_prefix, picture_suffix = avatar_url_parts("voters")

    table = pa.table(
        {
            "voter_id": voter_ids,
            "voter_name": pc.binary_join_element_wise(first_a, last_a, " "),
            "date_of_birth": pa.array(date_of_birth).cast(pa.date32()),
            "gender": gender,
            "nationality": pa.repeat(NATIONALITY, n),
            "registration_number": registration_number,
            "address_street": street,
            "address_city": city,
            "address_state": states,
            "address_country": pa.repeat(COUNTRY, n),
            "address_postcode": postcode,
            "email": email,
            "phone_number": phone(),
            "cell_number": phone(),
            "picture": pc.binary_join_element_wise(picture_prefix, voter_ids, picture_suffix, ""),
            "registered_age": pa.array(registered_age, pa.int32()),
        }
    )
    return table


# Arrow-backed strings: a million voters' text columns stay in Arrow memory, and the validators' string
# operations (regexes, uniqueness) run in Arrow's compute kernels instead of on Python objects.
_ARROW_STRINGS = {pa.string(): pd.StringDtype("pyarrow")}


def generate(
    num_voters: int, num_candidates: int, random_seed: int, election_date: dt.date, *, arrow: bool = False
) -> SeedFrames:
    """Parties, candidates and voters; `arrow=True` keeps the voters an Arrow table (no pandas copy)."""
    parties, candidates = generate_parties_and_candidates(num_candidates, random_seed)
    make_voters = voters_table if arrow else generate_voters
    return SeedFrames(parties, candidates, make_voters(num_voters, random_seed, election_date))
