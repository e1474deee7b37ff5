"""Atomic JSON state, JSON Lines history, CSV export."""
