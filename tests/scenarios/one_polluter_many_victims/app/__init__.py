"""A small Socket.IO-style protocol: packets, namespaces, acks, and an async server."""
