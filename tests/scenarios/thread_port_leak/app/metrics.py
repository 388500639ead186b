"""Prometheus-style /metrics exporter for the WebSocket gateway."""
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def render_metrics(counters: dict[str, int]) -> str:
    return "".join(f"{name} {value}\n" for name, value in sorted(counters.items()))


class _ExporterHTTPServer(ThreadingHTTPServer):
    # On Windows SO_REUSEADDR lets a second process steal a bound port; we want a loud failure.
    allow_reuse_address = False
    daemon_threads = True


class MetricsServer:
    def __init__(self, counters: dict[str, int], host: str, port: int) -> None:
        self.counters = counters
        self.host = host
        self.port = port
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> "MetricsServer":
        counters = self.counters

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # scrapers keep the connection alive

            def do_GET(self) -> None:
                if self.path != "/metrics":
                    self.send_error(404)
                    return
                body = render_metrics(counters).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self._httpd = _ExporterHTTPServer((self.host, self.port), Handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="metrics-exporter", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
