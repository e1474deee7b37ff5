"""Alert outbox, pacing and delivery."""
