"""Realtime gateway: WebSocket rooms, presence and a sync bridge for the admin CLI.

Nothing is imported here on purpose: the tests import what they need inside their bodies.
"""
