"""Presence and usage statistics for a chat gateway."""
