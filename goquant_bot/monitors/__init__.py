"""The monitor service: monitor records, their one schema, their lifecycle and its events."""
