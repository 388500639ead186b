"""Renderers: they format records and never compute verdicts."""
