"""Chat rooms with a capacity, and moderation locks."""
