import pytest

from app.packet import ACK, EVENT, PACKET_NAMES, Packet

EVENTS = [
    (["message", "hi"], '2["message","hi"]'),
    (["join", "lobby"], '2["join","lobby"]'),
    (["typing", {"user": "alice"}], '2["typing",{"user":"alice"}]'),
    (["count", 3], '2["count",3]'),
    (["flags", True, False], '2["flags",true,false]'),
    (["nothing", None], '2["nothing",null]'),
    (["nested", [1, [2, [3]]]], '2["nested",[1,[2,[3]]]]'),
    (["unicode", "caf\u00e9"], '2["unicode","caf\\u00e9"]'),
    (["empty"], '2["empty"]'),
    (["float", 1.5], '2["float",1.5]'),
]


def test_encode_packet_without_data():
    assert Packet(EVENT).encode() == "2"


@pytest.mark.parametrize(("data", "encoded"), EVENTS, ids=[e[0][0] for e in EVENTS])
def test_encode_event(data, encoded):
    assert Packet(EVENT, data=data).encode() == encoded


@pytest.mark.parametrize("n", range(100))
def test_decode_event(n):
    decoded = Packet.decode(f'2["tick",{n}]')
    assert (decoded.packet_type, decoded.data) == (EVENT, ["tick", n])


@pytest.mark.parametrize("packet_type", range(7), ids=PACKET_NAMES)
def test_packet_type_digit(packet_type):
    assert Packet(packet_type).encode() == str(packet_type)


def test_ack_id_without_data():
    assert Packet(ACK, id=12).encode() == "312"
