"""A real-time election data platform: Airflow, PostgreSQL, Kafka, Spark Structured Streaming, Streamlit."""
