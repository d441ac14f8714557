-- Each state's electoral votes (none: a map decided on the popular vote).
SELECT state_code, electoral_votes
FROM results.regions
WHERE electoral_votes > 0;
