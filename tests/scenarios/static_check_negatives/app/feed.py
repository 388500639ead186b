"""A price feed that buffers events for subscribers."""

from __future__ import annotations


class PriceFeed:
    def __init__(self) -> None:
        self.history: list[dict[str, object]] = []
        self.subscribers: list[object] = []

    def publish(self, symbol: str, price: float) -> list[dict[str, object]]:
        event = {"type": "price", "symbol": symbol, "price": price}
        self.history.append(event)
        for subscriber in self.subscribers:
            subscriber.send_json(event)  # type: ignore[attr-defined]
        return [event]
