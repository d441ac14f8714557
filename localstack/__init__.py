"""The local stack: PostgreSQL, Kafka, Airflow and the dashboard on one machine, without Docker."""
