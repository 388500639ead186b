"""Presence for a chat service: who is online, and their status labels."""
