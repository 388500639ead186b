"""Loads the toxicity model. In production this reads ~2 GB of weights; here the time it takes
is APP_WARMUP_SECONDS (default 20), spent sleeping."""

from __future__ import annotations

import os
import time


class ToxicityModel:
    BLOCKLIST = ("idiot", "stupid")

    def score(self, text: str) -> float:
        return 1.0 if any(word in text.lower() for word in self.BLOCKLIST) else 0.0


def load_model() -> ToxicityModel:
    time.sleep(float(os.environ.get("APP_WARMUP_SECONDS", "20")))
    return ToxicityModel()
