"""Built-in protocol handlers; they need settings, so configure() installs them."""
from app.router import Router
from app.settings import Settings


def install(router: Router, settings: Settings) -> None:
    def ping(message: dict) -> dict:
        return {"type": "pong", "id": message.get("id"), "server": settings.server_name,
                "heartbeat_interval": settings.heartbeat_interval}

    def echo(message: dict) -> dict:
        payload = message.get("payload", "")
        if len(payload) > settings.max_message_size:
            return {"type": "error", "reason": "message too large"}
        return {"type": "echo", "payload": payload}

    router.add("ping", ping)
    router.add("echo", echo)
