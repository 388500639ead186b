"""A chat gateway: rooms, message validation and a per-user rate limit."""
