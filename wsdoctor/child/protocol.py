"""File names shared by the child plugin and the parent (stdlib only: shipped to the child)."""

EVENTS_FILE = "events.jsonl"
REPORT_FILE = "report.json"
HANG_FILE = "hang.txt"
PROTOCOL_VERSION = 1
