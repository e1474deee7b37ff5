"""Market-data hub: subscriptions, book store, staleness, symbol directory."""
