"""Vote simulation: who votes and for whom, casting votes crash-safely into PostgreSQL and votes_topic."""
