"""GoQuant Bot: cross-venue arbitrage signals and a consolidated market view on Telegram."""

__version__ = "0.1.0"
