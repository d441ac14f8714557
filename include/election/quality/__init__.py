"""Data-quality gates (Great Expectations 1.x), shared by the seed DAG's tasks and the tests."""
