"""WebSocket framing for a small relay."""
