import os

import pytest

# The port the app is deployed on; the test servers use it too, as the docker-compose file
# and the frontend's dev proxy expect. CI may override it.
APP_PORT = int(os.environ.get("WS_TEST_PORT", "18765"))


@pytest.fixture(scope="session")
def app_port():
    return APP_PORT
