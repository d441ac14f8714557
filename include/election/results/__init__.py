"""An election's results: certification (the stream's totals reconciled against PostgreSQL) and the final result."""
