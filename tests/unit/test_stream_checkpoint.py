"""A stream's checkpoint knows its source: a new one is marked, the same source resumes, another is refused with the
setting to change; and a state folder knows its profile."""

from __future__ import annotations

import json

import pytest

from election.config import read_settings
from election.streaming.checkpoint import MARKER, CheckpointMismatchError, Source, claim
from localstack import state
from localstack.process import StackError

HERE = Source(cluster_id="Xq1oR0dAT5yG2nS8LkM3vA", topic="votes_topic", topic_id="b2Fp0kQ9TnSx4r1VwZc7yQ")


def test_a_new_checkpoint_is_marked_with_its_source_and_resumes_on_it(tmp_path) -> None:
    checkpoint = tmp_path / "vote_stream"
    claim(checkpoint, HERE)
    assert json.loads((checkpoint / MARKER).read_text()) == {
        "cluster_id": HERE.cluster_id,
        "topic": "votes_topic",
        "topic_id": HERE.topic_id,
    }
    claim(checkpoint, HERE)  # the same brokers and topic: resumed


@pytest.mark.parametrize(
    ("other", "said"),
    [
        (Source("AnotherClusterIdAAAAAAA", HERE.topic, HERE.topic_id), "another Kafka cluster"),
        (Source(HERE.cluster_id, "test_x_votes_topic", "c3Fp0kQ9TnSx4r1VwZc7yQ"), "another votes topic"),
        (Source(HERE.cluster_id, HERE.topic, "d4Fp0kQ9TnSx4r1VwZc7yQ"), "deleted and created again"),
    ],
)
def test_a_checkpoint_of_another_source_is_refused_naming_the_setting(tmp_path, other: Source, said: str) -> None:
    checkpoint = tmp_path / "vote_stream"
    claim(checkpoint, HERE)
    with pytest.raises(CheckpointMismatchError, match=said) as refused:
        claim(checkpoint, other)
    assert "ELECTION_CHECKPOINT_DIR" in str(refused.value)
    assert str(checkpoint) in str(refused.value)
    assert json.loads((checkpoint / MARKER).read_text())["cluster_id"] == HERE.cluster_id, "left as it was"


def _settings(monkeypatch, tmp_path, profile: str):
    monkeypatch.setenv("ELECTION_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("ELECTION_CREDENTIALS_FILE", str(tmp_path / "none.env"))
    return read_settings(profile)


def test_a_state_folder_is_marked_with_its_profile_and_refused_to_the_other(monkeypatch, tmp_path) -> None:
    cluster = _settings(monkeypatch, tmp_path, "cluster")
    state.claim(cluster)
    state.claim(cluster)  # its own: started again
    with pytest.raises(StackError, match="holds the cluster profile's state") as refused:
        state.claim(_settings(monkeypatch, tmp_path, "single"))
    assert "ELECTION_STATE_DIR" in str(refused.value)
    assert "PROFILE=cluster" in str(refused.value)


def test_a_folder_started_before_folders_were_marked_is_told_by_its_kafka_storage(monkeypatch, tmp_path) -> None:
    (tmp_path / "state" / "kafka" / "data").mkdir(parents=True)
    with pytest.raises(StackError, match="holds the single profile's state"):
        state.claim(_settings(monkeypatch, tmp_path, "cluster"))
    assert (tmp_path / "state" / state.MARKER).read_text().strip() == "single"
