"""Expectation suites, defined in code. The same rules validate the generated frames before the load and the
election's rows after it, inside the load's transaction (the loaded rows are read through queries that add the
same derived columns, restricted to the election being loaded: `current_setting('election.loading')`, set by
the load with a bound parameter).

After the load, a rule that the table's own constraints enforce on every row it accepts is not evaluated again
(`ENFORCED_BY_TABLE`): the load could not have committed a row that breaks it, so the check could not fail.

Derived columns of the voters (`seeding.pipeline.with_derived_columns`, `sql/seed/loaded_voters.sql`):
`age_on_election_day`, whole years between `date_of_birth` and election day; `own_picture`, the voter's own
avatar URL, `avatars/voters/<voter_id>.svg` (`election.avatars`).
"""

from __future__ import annotations

import great_expectations as gx
import great_expectations.expectations as gxe

from election.domain import GENDERS, MIN_CANDIDATES, VOTING_AGE
from election.regions import state_codes

# Valid, and meaning the same, as RE2 regexes (Arrow's, the generated frames: see `validate_frame`) and PostgreSQL
# POSIX regexes (the loaded tables): `$` is the end of the value in both, never before a trailing newline.
EMAIL_PATTERN = r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$"
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
COLOR_PATTERN = r"^#[0-9a-f]{6}$"
CANDIDATE_PHOTO_PATTERN = r"^avatars/candidates/[0-9a-f-]{36}\.svg$"

PARTY_REQUIRED = ("party_id", "party_name", "color")
CANDIDATE_REQUIRED = ("candidate_id", "candidate_name", "party_id", "biography", "campaign_platform", "photo_url")
VOTER_REQUIRED = (
    "voter_id",
    "voter_name",
    "date_of_birth",
    "gender",
    "nationality",
    "registration_number",
    "address_street",
    "address_city",
    "address_state",
    "address_country",
    "address_postcode",
    "email",
    "picture",
    "registered_age",
)


# The rules each table's constraints (the migrations) enforce on every row it accepts, as (expectation, column) ->
# the constraint (`NOT_NULL`: the column is declared NOT NULL). Ids are unique per election because the keys
# include `election_id`, and the checks after the load read one election's rows. A test checks that each
# constraint exists and rejects a row breaking its rule (`tests/integration/test_schema_and_seed_dags.py`).
NOT_NULL = "NOT NULL"
_EXPECT_NOT_NULL = "expect_column_values_to_not_be_null"
_EXPECT_UNIQUE = "expect_column_values_to_be_unique"
_EXPECT_IN_SET = "expect_column_values_to_be_in_set"
_EXPECT_MATCH = "expect_column_values_to_match_regex"
ENFORCED_BY_TABLE: dict[str, dict[tuple[str, str], str]] = {
    "parties": {
        **{(_EXPECT_NOT_NULL, column): NOT_NULL for column in PARTY_REQUIRED},
        (_EXPECT_UNIQUE, "party_id"): "parties_pkey",
        (_EXPECT_UNIQUE, "party_name"): "parties_election_id_party_name_key",
        (_EXPECT_MATCH, "color"): "parties_color_check",
    },
    "candidates": {
        **{(_EXPECT_NOT_NULL, column): NOT_NULL for column in CANDIDATE_REQUIRED},
        (_EXPECT_UNIQUE, "candidate_id"): "candidates_pkey",
        (_EXPECT_UNIQUE, "party_id"): "candidates_election_id_party_id_key",
        (_EXPECT_IN_SET, "party_id"): "candidates_election_id_party_id_fkey",
    },
    "voters": {
        **{(_EXPECT_NOT_NULL, column): NOT_NULL for column in VOTER_REQUIRED},
        (_EXPECT_UNIQUE, "voter_id"): "voters_pkey",
        (_EXPECT_UNIQUE, "registration_number"): "voters_election_id_registration_number_key",
        (_EXPECT_IN_SET, "gender"): "voters_gender_check",
        (_EXPECT_IN_SET, "address_state"): "voters_address_state_fkey",
    },
}


def _not_null(*columns: str) -> list[gxe.Expectation]:
    return [gxe.ExpectColumnValuesToNotBeNull(column=c) for c in columns]


def voters_suite() -> gx.ExpectationSuite:
    return gx.ExpectationSuite(
        name="voters",
        expectations=[
            *_not_null(*VOTER_REQUIRED),
            gxe.ExpectColumnValuesToBeUnique(column="voter_id"),
            gxe.ExpectColumnValuesToMatchRegex(column="voter_id", regex=UUID_PATTERN),
            gxe.ExpectColumnValuesToBeUnique(column="registration_number"),
            gxe.ExpectColumnValuesToBeBetween(column="age_on_election_day", min_value=VOTING_AGE, max_value=130),
            gxe.ExpectColumnValuesToBeInSet(column="gender", value_set=list(GENDERS)),
            gxe.ExpectColumnValuesToBeInSet(column="address_state", value_set=state_codes()),
            gxe.ExpectColumnValuesToMatchRegex(column="email", regex=EMAIL_PATTERN),
            # the voter's own local avatar; an equality, not a regex (PostgreSQL's took ~6 s on a million pictures)
            gxe.ExpectColumnPairValuesToBeEqual(
                column_A="picture",
                column_B="own_picture",
                description="every voter's picture is their own avatar, avatars/voters/<voter_id>.svg",
            ),
            gxe.ExpectColumnValuesToBeBetween(column="registered_age", min_value=0, max_value=130),
        ],
    )


def parties_suite() -> gx.ExpectationSuite:
    return gx.ExpectationSuite(
        name="parties",
        expectations=[
            *_not_null(*PARTY_REQUIRED),
            gxe.ExpectColumnValuesToBeUnique(column="party_id"),
            gxe.ExpectColumnValuesToBeUnique(column="party_name"),
            gxe.ExpectColumnValuesToMatchRegex(column="color", regex=COLOR_PATTERN),
        ],
    )


def candidates_suite(party_ids: list[int]) -> gx.ExpectationSuite:
    """`party_ids`: the parties that exist (the generated frame before the load, the table after)."""
    return gx.ExpectationSuite(
        name="candidates",
        expectations=[
            *_not_null(*CANDIDATE_REQUIRED),
            gxe.ExpectTableRowCountToBeBetween(min_value=MIN_CANDIDATES),
            gxe.ExpectColumnValuesToBeUnique(column="candidate_id"),
            gxe.ExpectColumnValuesToMatchRegex(column="candidate_id", regex=UUID_PATTERN),
            gxe.ExpectColumnValuesToBeInSet(column="party_id", value_set=sorted(party_ids)),
            gxe.ExpectColumnValuesToBeUnique(column="party_id"),
            gxe.ExpectColumnValuesToMatchRegex(column="photo_url", regex=CANDIDATE_PHOTO_PATTERN),
        ],
    )


def loaded_suite(table: str, suite: gx.ExpectationSuite, expected_rows: int) -> gx.ExpectationSuite:
    """The checks of `table`'s rows after the load: `suite`'s rules but those the table's constraints enforce,
    and exactly the rows the run asked for (none lost or added between the frame's checks and the load)."""
    enforced = ENFORCED_BY_TABLE[table]
    return gx.ExpectationSuite(
        name=suite.name,
        expectations=[
            *(e for e in suite.expectations if (e.expectation_type, getattr(e, "column", None)) not in enforced),
            gxe.ExpectTableRowCountToEqual(value=expected_rows),
        ],
    )


def reconciliation_suite(dimension: str) -> gx.ExpectationSuite:
    """Certification: per key of a dimension (candidate, state, party), the stream's total equals PostgreSQL's."""
    return gx.ExpectationSuite(
        name=f"{dimension}_reconciliation",
        expectations=[
            *_not_null("key", "stream", "postgres"),
            gxe.ExpectColumnValuesToBeUnique(column="key"),
            gxe.ExpectColumnPairValuesToBeEqual(column_A="stream", column_B="postgres"),
        ],
    )
