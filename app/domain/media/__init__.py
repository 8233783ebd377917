"""Media context: photos, short videos and voice notes attached to records (tip-offs)."""
