"""Metrics and health endpoints."""
