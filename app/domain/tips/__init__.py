"""Tip-offs (情报线索): submission, routing, the handling lifecycle and reporter feedback."""
