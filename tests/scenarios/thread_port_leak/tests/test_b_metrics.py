import http.client

from app.metrics import MetricsServer, render_metrics


def test_render_metrics():
    text = render_metrics({"ws_messages_sent_total": 12, "ws_connections_active": 3})
    assert text == "ws_connections_active 3\nws_messages_sent_total 12\n"


def test_metrics_server_binds(ws_port):
    exporter = MetricsServer({"ws_connections_active": 2}, "127.0.0.1", ws_port).start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", ws_port, timeout=2)
        conn.request("GET", "/metrics")
        resp = conn.getresponse()
        body = resp.read().decode()
        conn.close()
    finally:
        exporter.stop()
    assert resp.status == 200
    assert body == "ws_connections_active 2\n"
