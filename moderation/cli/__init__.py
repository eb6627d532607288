"""The command line faces: scan, demo, models (main.py), watch and serve (live.py), and the
shared one-line error handling (common.py)."""
