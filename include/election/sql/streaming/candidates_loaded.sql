-- election_streaming's sensor: true once election_seed has loaded the candidates.
SELECT count(*) >= 2 FROM candidates;
