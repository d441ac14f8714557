"""Entrypoint: `streamlit run dashboard/app.py` (`make up` starts it on ELECTION_DASHBOARD_PORT, default 8501)."""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run` puts dashboard/ on sys.path, not the repository: make the `dashboard` package importable.
REPOSITORY = Path(__file__).resolve().parent.parent
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))

import streamlit as st  # noqa: E402

from dashboard import data, render  # noqa: E402

st.set_page_config(page_title="Election results", page_icon="🗳️", layout="wide")
render.main(data.live_sources())
