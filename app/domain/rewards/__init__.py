"""Cash rewards (奖励) for verified reports, approved by station admins, paid once."""
