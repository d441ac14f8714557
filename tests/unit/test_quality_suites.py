"""Each expectation suite accepts clean generated data and rejects a frame with exactly the matching defect."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd
import pytest

from election.quality import suites
from election.quality.validation import DataQualityError, validate_frame
from election.seeding.generate import generate
from election.seeding.pipeline import with_derived_columns

ELECTION_DAY = dt.date(2026, 11, 3)


@pytest.fixture(scope="module")
def clean():
    return generate(500, 4, 99, ELECTION_DAY)


def _voters(frames) -> pd.DataFrame:
    return with_derived_columns(frames.voters.copy(), ELECTION_DAY)


def _set(column: str, value, row: int = 3) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def plant(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.astype({column: object}) if value is None else frame
        frame.loc[row, column] = value
        return frame

    return plant


def _duplicate(column: str, row: int = 7) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def plant(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[row, column] = frame.loc[row + 1, column]
        return frame

    return plant


def _make_minor(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[5, "date_of_birth"] = pd.Timestamp(ELECTION_DAY) - pd.DateOffset(years=17)
    return with_derived_columns(frame.drop(columns=["age_on_election_day", "own_picture"]), ELECTION_DAY)


def test_clean_frames_pass_every_suite(clean) -> None:
    party_ids = clean.parties["party_id"].tolist()
    for suite, frame in [
        (suites.parties_suite(), clean.parties),
        (suites.candidates_suite(party_ids), clean.candidates),
        (suites.voters_suite(), _voters(clean)),
    ]:
        report = validate_frame(suite, frame, suite.name)
        assert report.success, report.summary()
        assert report.evaluated == len(suite.expectations)


VOTER_DEFECTS = {
    "duplicate voter_id": (_duplicate("voter_id"), "expect_column_values_to_be_unique", "voter_id"),
    "missing voter_id": (_set("voter_id", None), "expect_column_values_to_not_be_null", "voter_id"),
    "malformed voter_id": (_set("voter_id", "voter-3"), "expect_column_values_to_match_regex", "voter_id"),
    "duplicate registration": (
        _duplicate("registration_number"),
        "expect_column_values_to_be_unique",
        "registration_number",
    ),
    "minor": (_make_minor, "expect_column_values_to_be_between", "age_on_election_day"),
    "unknown gender": (_set("gender", "unknown"), "expect_column_values_to_be_in_set", "gender"),
    "state not in the reference table": (
        _set("address_state", "XX"),
        "expect_column_values_to_be_in_set",
        "address_state",
    ),
    "malformed email": (_set("email", "jane.doe.example.com"), "expect_column_values_to_match_regex", "email"),
    # Python's `$` would match before the newline; Arrow's RE2 (the frames) and PostgreSQL (the tables) do not
    "email with a trailing newline": (
        _set("email", "jane.doe@example.com\n"),
        "expect_column_values_to_match_regex",
        "email",
    ),
    "external picture URL": (
        _set("picture", "https://randomuser.me/api/portraits/women/3.jpg"),
        "expect_column_pair_values_to_be_equal",
        None,
    ),
    "another voter's picture": (_duplicate("picture"), "expect_column_pair_values_to_be_equal", None),
    "negative registered age": (_set("registered_age", -1), "expect_column_values_to_be_between", "registered_age"),
}


@pytest.mark.parametrize("defect", sorted(VOTER_DEFECTS))
def test_voters_suite_rejects_exactly_the_planted_defect(clean, defect: str) -> None:
    plant, expectation, column = VOTER_DEFECTS[defect]
    report = validate_frame(suites.voters_suite(), plant(_voters(clean)), "voters")
    assert [(f.expectation, f.column) for f in report.failures] == [(expectation, column)], report.summary()
    failure = report.failures[0]
    assert failure.unexpected_count in (1, 2)  # a duplicate counts both rows
    assert failure.element_count == len(clean.voters)
    with pytest.raises(DataQualityError, match=column):
        report.raise_on_failure()


def _candidate_party(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[0, "party_id"] = 99
    return frame


def _same_party(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[1, "party_id"] = frame.loc[0, "party_id"]
    return frame


CANDIDATE_DEFECTS = {
    "party does not exist": (_candidate_party, [("expect_column_values_to_be_in_set", "party_id")]),
    "two candidates for one party": (_same_party, [("expect_column_values_to_be_unique", "party_id")]),
    "fewer than two candidates": (
        lambda frame: frame.iloc[:1].copy(),
        [("expect_table_row_count_to_be_between", None)],
    ),
    "external photo URL": (
        _set("photo_url", "https://example.com/photo.jpg", row=1),
        [("expect_column_values_to_match_regex", "photo_url")],
    ),
    "duplicate candidate_id": (
        _duplicate("candidate_id", row=1),
        [("expect_column_values_to_be_unique", "candidate_id")],
    ),
}


@pytest.mark.parametrize("defect", sorted(CANDIDATE_DEFECTS))
def test_candidates_suite_rejects_exactly_the_planted_defect(clean, defect: str) -> None:
    plant, expected = CANDIDATE_DEFECTS[defect]
    suite = suites.candidates_suite(clean.parties["party_id"].tolist())
    report = validate_frame(suite, plant(clean.candidates.copy()), "candidates")
    assert [(f.expectation, f.column) for f in report.failures] == expected, report.summary()


@pytest.mark.parametrize(
    ("plant", "expected"),
    [
        (lambda f: f.assign(party_name=["Same"] * len(f)), ("expect_column_values_to_be_unique", "party_name")),
        (lambda f: f.assign(color="red"), ("expect_column_values_to_match_regex", "color")),
    ],
    ids=["duplicate party name", "colour not a hex code"],
)
def test_parties_suite_rejects_exactly_the_planted_defect(clean, plant, expected) -> None:
    report = validate_frame(suites.parties_suite(), plant(clean.parties.copy()), "parties")
    assert [(f.expectation, f.column) for f in report.failures] == [expected], report.summary()


def test_the_summary_names_the_expectation_the_count_and_sample_values(clean) -> None:
    frame = _voters(clean)
    frame.loc[[2, 4], "email"] = ["no-at-sign", "also bad"]
    summary = validate_frame(suites.voters_suite(), frame, "generated voters").summary()
    assert "voters on generated voters: 22/23 passed" in summary
    assert "expect_column_values_to_match_regex on column 'email': 2 of 500 rows fail" in summary
    assert "no-at-sign" in summary
    assert "also bad" in summary
