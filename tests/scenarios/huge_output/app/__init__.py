"""WebSocket frame parsing, with a hex dump for debugging."""
