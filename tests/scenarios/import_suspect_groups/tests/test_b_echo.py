import json


async def test_echo_round_trip(client):
    await client.send(json.dumps({"op": "echo", "text": "hello"}))
    assert json.loads(await client.recv()) == {"op": "echo", "text": "hello"}


async def test_ping_pong(client):
    await client.send(json.dumps({"op": "ping"}))
    assert json.loads(await client.recv()) == {"op": "pong"}
