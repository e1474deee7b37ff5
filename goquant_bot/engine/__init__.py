"""Signal services: arbitrage and consolidated market view."""
