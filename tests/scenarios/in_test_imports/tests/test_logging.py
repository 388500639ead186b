def test_default_log_level_is_info():
    from app import config

    assert config.log_level() == "INFO"
