"""The points ledger (积分): credits for verified reports, reversals, redemptions."""
