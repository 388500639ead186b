import unittest
from unittest.mock import patch


class TestStalePresence(unittest.TestCase):
    def setUp(self):
        # Freezes the clock for the class; the matching patcher.stop() (or
        # self.addCleanup(patcher.stop)) was never written.
        patcher = patch("app.clock.now", return_value=1_700_000_100.0)
        patcher.start()

    def test_client_silent_past_timeout_is_stale(self):
        from app import presence

        self.assertTrue(presence.is_stale(1_700_000_000.0))
