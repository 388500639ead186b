import json

from app import flags


def test_export_flags_for_the_ops_team():
    path = flags.export_flags({"compression": False})
    assert json.loads(path.read_text())["compression"] is False
