"""Realtime notifications: Socket.IO-style packets and a pub/sub broker client."""
