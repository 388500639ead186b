import gc
import weakref

from app.connections import registry


def test_reset_releases_connections():
    connection = registry.open("erin")
    released = weakref.ref(connection)
    del connection
    registry.reset()
    gc.collect()  # connections form reference cycles: only the collector frees them
    assert released() is None
