"""Volunteers, teams and training: the "five unifieds" (五个统一) — unified recruitment,
archive, management, identification and training of community-safety volunteers."""
