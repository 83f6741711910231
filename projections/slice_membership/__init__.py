"""Saved slices' members in each run of their model, stored and kept current."""
