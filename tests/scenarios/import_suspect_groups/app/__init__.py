"""A JSON-over-WebSocket command server with a plugin registry of handlers."""
