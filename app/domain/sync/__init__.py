"""Mobile sync: what changed in the caller's own records since a token."""
