SELECT (SELECT count(*) FROM parties), (SELECT count(*) FROM candidates), (SELECT count(*) FROM voters);
