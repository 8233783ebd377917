"""Organisation and geography: the unit tree (分局 → 派出所 → 社区 → 网格) with jurisdiction
polygons, watch points (守望点) and routing of locations to units."""
