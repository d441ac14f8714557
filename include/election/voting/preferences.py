"""Who votes, and for whom: deterministic per voter, seeded, with regional preferences.

- **Turnout**: voter v votes when md5("<seed>:<v>") is among the k smallest of all registered voters
  (k = round(N x turnout), at most max_votes). The k-th key is found once in PostgreSQL; then deciding is one hash
  per voter, the same whichever order, batch or run the voter arrives in. So exactly k voters vote, a re-run
  decides the same way, and a crash changes nothing.
- **Choice**: each state leans its own way. The national weights (configurable, default: a seeded, uneven split)
  are tilted per state by seeded log-normal factors of strength `regional_variation`, so the turnout map is not
  uniform; the voter's candidate is then drawn from their state's distribution with a second per-voter hash.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate

import numpy as np

DEFAULT_REGIONAL_VARIATION = 0.35


def voter_hash(random_seed: int, voter_id: str) -> tuple[str, float]:
    """The voter's own two numbers, from one md5("<seed>:<voter_id>"): their place in the seeded turnout order
    (the hex digest, the same text as the SQL's md5()) and a uniform draw in [0, 1) for their candidate (the
    digest's last 8 bytes; the order only depends on its first bytes)."""
    digest = hashlib.md5(f"{random_seed}:{voter_id}".encode(), usedforsecurity=False)
    return digest.hexdigest(), int.from_bytes(digest.digest()[8:], "big") / 2**64


def default_weights(num_candidates: int, random_seed: int) -> list[float]:
    """An uneven but plausible national split: the leader well ahead, a long tail."""
    rng = np.random.default_rng(random_seed)
    weights = np.sort(rng.dirichlet(np.full(num_candidates, 2.0)))[::-1]
    return [float(w) for w in weights]


@dataclass(frozen=True)
class Preferences:
    candidate_ids: tuple[str, ...]
    national: tuple[float, ...]
    by_state: Mapping[str, tuple[float, ...]]  # cumulative distribution per state

    def choose(self, state: str, draw: float) -> str:
        cumulative = self.by_state.get(state)
        if cumulative is None:  # a state with no preference of its own votes like the nation
            cumulative = tuple(accumulate(self.national))
        index = min(bisect_right(cumulative, draw * cumulative[-1]), len(self.candidate_ids) - 1)
        return self.candidate_ids[index]

    def state_shares(self, state: str) -> list[float]:
        cumulative = self.by_state[state]
        total = cumulative[-1]
        return [(b - a) / total for a, b in zip((0.0, *cumulative[:-1]), cumulative, strict=True)]

    def expected_shares(self, voters_per_state: Mapping[str, int]) -> dict[str, float]:
        """The national share each candidate should get when these voters vote."""
        total = sum(voters_per_state.values())
        shares = dict.fromkeys(self.candidate_ids, 0.0)
        for state, voters in voters_per_state.items():
            for candidate, share in zip(self.candidate_ids, self.state_shares(state), strict=True):
                shares[candidate] += share * voters / total
        return shares


def build_preferences(
    candidate_ids: Sequence[str],
    states: Sequence[str],
    random_seed: int,
    weights: Sequence[float] | None = None,
    regional_variation: float = DEFAULT_REGIONAL_VARIATION,
) -> Preferences:
    """Candidates in party order; `weights` the national split (normalised); states tilted around it."""
    if len(candidate_ids) < 2:
        raise ValueError("an election needs at least two candidates")
    national = np.asarray(weights if weights is not None else default_weights(len(candidate_ids), random_seed), float)
    if len(national) != len(candidate_ids) or (national < 0).any() or national.sum() <= 0:
        raise ValueError(
            f"candidate_weights must be {len(candidate_ids)} non-negative numbers, not all zero; got {list(national)}"
        )
    if not 0 <= regional_variation <= 2:
        raise ValueError(f"regional_variation must be between 0 and 2, got {regional_variation}")
    national = national / national.sum()
    rng = np.random.default_rng([random_seed, 7])
    tilts = rng.lognormal(mean=0.0, sigma=regional_variation, size=(len(states), len(candidate_ids)))
    by_state = {}
    for state, tilt in zip(sorted(states), tilts, strict=True):
        shares = national * tilt
        by_state[state] = tuple(float(c) for c in np.cumsum(shares / shares.sum()))
    return Preferences(tuple(candidate_ids), tuple(float(x) for x in national), by_state)
