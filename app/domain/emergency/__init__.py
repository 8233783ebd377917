"""Minimum emergency units (最小应急单元): units, capabilities and equipment, duty and
locations, incidents (急、难、险) with ring dispatch and responses, drills and readiness.

Pure domain: entities, value objects and policies; services, ports and adapters live
elsewhere.
"""
