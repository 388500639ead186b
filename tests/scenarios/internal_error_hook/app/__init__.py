"""Chat rooms: create, join, close."""
