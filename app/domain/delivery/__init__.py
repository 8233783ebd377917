"""Delivery of outbox events to idempotent handlers, with retries and a dead letter."""
