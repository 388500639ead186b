"""A WebSocket client's keepalive: a background thread that sends heartbeats."""
