"""A Starlette WebSocket service whose frame formats are registered by the app factory."""
