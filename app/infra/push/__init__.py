"""Vendor push: JPush (极光推送) in production, a log/JSONL writer in development."""
