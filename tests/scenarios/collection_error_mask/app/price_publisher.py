"""Publishes price ticks to Redis so every API worker can fan them out."""
import json

from app.schemas.websocket import PriceUpdate


def channel_for(stock_code: str) -> str:
    return f"price:{stock_code}"


class PricePublisher:
    def __init__(self, redis) -> None:
        self._redis = redis

    async def publish(self, update: PriceUpdate) -> int:
        return await self._redis.publish(
            channel_for(update.stock_code), json.dumps(update.to_dict())
        )

    async def publish_many(self, updates: list[PriceUpdate]) -> int:
        receivers = 0
        for update in updates:
            receivers += await self.publish(update)
        return receivers
