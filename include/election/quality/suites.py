"""Expectation suites, defined in code. The same suites validate the generated frames before the load and the
election's rows after it, inside the load's transaction (the loaded rows are read through queries that add the
same derived columns, restricted to the election being loaded: `current_setting('election.loading')`, set by
the load with a bound parameter).

Derived column: `age_on_election_day`, whole years between `date_of_birth` and election day.
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
VOTER_PICTURE_PATTERN = r"^avatars/voters/[0-9a-f-]{36}\.svg$"

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
            gxe.ExpectColumnValuesToMatchRegex(column="picture", regex=VOTER_PICTURE_PATTERN),
            gxe.ExpectColumnValuesToBeBetween(column="registered_age", min_value=0, max_value=130),
        ],
    )


def parties_suite() -> gx.ExpectationSuite:
    return gx.ExpectationSuite(
        name="parties",
        expectations=[
            *_not_null("party_id", "party_name", "color"),
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
            *_not_null("candidate_id", "candidate_name", "party_id", "biography", "campaign_platform", "photo_url"),
            gxe.ExpectTableRowCountToBeBetween(min_value=MIN_CANDIDATES),
            gxe.ExpectColumnValuesToBeUnique(column="candidate_id"),
            gxe.ExpectColumnValuesToMatchRegex(column="candidate_id", regex=UUID_PATTERN),
            gxe.ExpectColumnValuesToBeInSet(column="party_id", value_set=sorted(party_ids)),
            gxe.ExpectColumnValuesToBeUnique(column="party_id"),
            gxe.ExpectColumnValuesToMatchRegex(column="photo_url", regex=CANDIDATE_PHOTO_PATTERN),
        ],
    )


# Referential integrity of the loaded rows: rows of `{batch}` whose reference does not resolve.
_DANGLING = {
    "candidates": (
        "every candidate's party exists in the election",
        "SELECT c.candidate_id, c.party_id FROM {batch} c "
        "LEFT JOIN parties p ON p.election_id = c.election_id AND p.party_id = c.party_id WHERE p.party_id IS NULL",
    ),
    "voters": (
        "every voter's state is in the regions reference table",
        "SELECT v.voter_id, v.address_state FROM {batch} v "
        "LEFT JOIN regions r ON r.state_code = v.address_state WHERE r.state_code IS NULL",
    ),
}


def loaded_table_suite(table: str, expected_rows: int) -> gx.ExpectationSuite:
    """After the load: the table holds exactly the rows the run asked for, and its references resolve."""
    expectations: list[gxe.Expectation] = [gxe.ExpectTableRowCountToEqual(value=expected_rows)]
    if table in _DANGLING:
        description, query = _DANGLING[table]
        expectations.append(gxe.UnexpectedRowsExpectation(description=description, unexpected_rows_query=query))
    return gx.ExpectationSuite(name=f"{table}_loaded", expectations=expectations)


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
