"""WebSocket connections that can be closed from sync code (admin tools) or from the loop."""
