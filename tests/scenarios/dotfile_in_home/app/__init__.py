"""A WebSocket client library: user config in ~/.wsclientrc, ops feature flags in the working directory."""
