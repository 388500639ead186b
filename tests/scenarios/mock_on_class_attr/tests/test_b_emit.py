from app.server import Server


def test_emit_event_frame():
    assert Server().emit("message", "hi") == '2["message","hi"]'


def test_emit_keeps_a_record():
    server = Server()
    server.emit("message", {"text": "hi"})
    assert server.sent == ['2["message",{"text":"hi"}]']
