"""Fraud review (风控复核): velocity limits on submissions and the queue of suspicious reports."""
