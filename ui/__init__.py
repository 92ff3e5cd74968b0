"""The Streamlit chat (see docs/ui.md)."""
