"""Code shared by the 信访 services: event envelope and schemas, settings, clock, Kafka and DB helpers.

No business logic of any one service lives here.
"""
