"""Message schemas for the real-time price WebSocket."""
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from enum import Enum


class MessageType(str, Enum):
    PRICE_UPDATE = "price_update"
    SUBSCRIBED = "subscribed"
    ERROR = "error"


class SubscriptionType(str, Enum):
    STOCK = "stock"
    INDEX = "index"


@dataclass
class PriceUpdate:
    stock_code: str
    price: float
    change: float
    volume: int
    timestamp: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat())
    type: MessageType = MessageType.PRICE_UPDATE

    def to_dict(self) -> dict:
        data = asdict(self)
        data["type"] = self.type.value
        return data


@dataclass
class ErrorMessage:
    code: str
    message: str
    type: MessageType = MessageType.ERROR
