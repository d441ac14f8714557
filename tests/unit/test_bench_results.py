"""The benchmarks' results file: each figure with its baseline/ceiling and ratios, replaced when measured again,
and the one table `make bench` prints of the figures of its run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from election import config

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from helpers import results, run_all  # the benchmarks' helpers, as `make bench` imports them


@pytest.fixture
def settings(tmp_path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ELECTION_STATE_DIR", str(tmp_path))
    config.get_settings.cache_clear()
    yield config.get_settings()
    config.get_settings.cache_clear()


def test_a_figure_is_written_with_its_ratios_and_replaced_when_measured_again(settings) -> None:
    results.record(settings, "vote_casting", 50_000.0, "votes/s", baseline=2_000.0, ceiling=200_000.0)
    results.record(settings, "stream_jvm_start", 9.5, "s")
    results.record(settings, "vote_casting", 60_000.0, "votes/s", baseline=2_000.0, ceiling=300_000.0)
    written = json.loads((settings.state_dir / "bench" / "results.json").read_text())["figures"]
    assert set(written) == {"vote_casting", "stream_jvm_start"}
    casting = written["vote_casting"]
    assert (casting["value"], casting["unit"], casting["ratio"], casting["of_ceiling"]) == (
        60_000.0,
        "votes/s",
        30.0,
        0.2,
    )
    assert (written["stream_jvm_start"]["baseline"], written["stream_jvm_start"]["ratio"]) == (None, None)


def test_the_run_prints_one_table_of_its_own_figures(settings) -> None:
    results.record(settings, "seed_1m", 18.25, "s")
    since = results.load(settings)["seed_1m"]["measured_at"]
    results.record(settings, "vote_casting", 50_000.0, "votes/s", baseline=2_000.0, ceiling=200_000.0)
    text = run_all.summary(settings, since)
    assert "seed_1m" in text
    assert "18.25 s" in text
    assert "25.0x" in text
    assert "25.0%" in text
    assert "figure" in text.splitlines()[2]
    assert "seed_1m" not in run_all.summary(settings, "9999")  # measured before the run: not its figure
