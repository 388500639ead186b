"""A line-based TCP gateway (PING -> PONG), its handshake, and a price feed."""
