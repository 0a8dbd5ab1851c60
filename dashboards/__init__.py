"""Stage 4: the Streamlit leadership dashboard over the published aggregate file (issue #6)."""
