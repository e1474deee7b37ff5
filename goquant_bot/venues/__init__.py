"""Venue protocols (sans-I/O), the shared I/O driver, capture and replay, the demo simulator."""
