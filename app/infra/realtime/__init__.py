"""Real-time fan-out adapters."""
