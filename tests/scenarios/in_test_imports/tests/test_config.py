def test_debug_toolbar_switches_log_level():
    from app import config

    config.DEBUG = True  # what the toolbar's "debug on" button does; never switched back
    assert config.log_level() == "DEBUG"


def test_slow_callback_threshold_is_small():
    from app import config

    assert config.SLOW_CALLBACK_WARNING < 1
