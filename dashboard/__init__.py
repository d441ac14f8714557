"""The live election results dashboard (Streamlit): `data` reads, `results` computes, `charts` draws, `render`
lays out the page, `app` is the entrypoint `streamlit run dashboard/app.py`."""
