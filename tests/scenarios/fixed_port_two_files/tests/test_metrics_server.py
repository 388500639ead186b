import time
import urllib.request

import pytest

from app.metrics import COUNTERS, MetricsExporter


@pytest.fixture(scope="module")
def metrics_url(app_port):
    exporter = MetricsExporter("127.0.0.1", app_port).start()
    yield f"http://127.0.0.1:{app_port}/metrics"
    exporter.stop()


def scrape(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


def test_metrics_lists_the_counters(metrics_url):
    assert "ws_connections_total 0" in scrape(metrics_url)


def test_counter_change_shows_on_next_scrape(metrics_url):
    COUNTERS["ws_messages_total"] += 3
    time.sleep(0.5)  # one scrape interval
    try:
        assert "ws_messages_total 3" in scrape(metrics_url)
    finally:
        COUNTERS["ws_messages_total"] -= 3
