"""A chat WebSocket server and a Prometheus-style metrics exporter, deployed on the same port."""
