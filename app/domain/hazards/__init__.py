"""Hazards (隐患) and their rectification (整改): report, verify, assign, rectify,
re-inspect, close; duplicates merged; overdue items escalate."""
