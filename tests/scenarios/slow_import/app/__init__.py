"""A moderation service that scores chat messages with a model loaded at startup."""
