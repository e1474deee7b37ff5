"""The shipped protobuf module is the one ``mexc.proto`` generates, and a push's JSON form is
protobuf's own JSON mapping of it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
from google.protobuf import json_format
from hypothesis import given, settings
from hypothesis import strategies as st

from goquant_bot.venues import mexc_pb2
from goquant_bot.venues.mexc_wire import push_to_json

ROOT = Path(__file__).resolve().parents[2]
PROTO = "goquant_bot/venues/mexc.proto"


def test_the_shipped_module_is_what_protoc_generates_from_the_proto(tmp_path: Path) -> None:
    from grpc_tools import protoc  # the dev extra's pinned protoc

    args = ["protoc", f"-I{ROOT}", f"--python_out={tmp_path}", f"--pyi_out={tmp_path}", PROTO]
    assert protoc.main([str(a) for a in args]) == 0
    for name in ("mexc_pb2.py", "mexc_pb2.pyi"):
        fresh = (tmp_path / "goquant_bot" / "venues" / name).read_text()
        shipped = (ROOT / "goquant_bot" / "venues" / name).read_text()
        assert fresh == shipped, f"{name} is out of date: regenerate it (see {PROTO})"


def test_the_protobuf_runtime_loads_the_module_without_a_warning() -> None:
    code = "import goquant_bot.venues.mexc_pb2"
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)
versions = st.integers(1, 2**62).map(str)
level = st.builds(mexc_pb2.PublicAggreDepthV3ApiItem, price=texts, quantity=texts)
deal = st.builds(
    mexc_pb2.PublicAggreDealsV3ApiItem,
    price=texts,
    quantity=texts,
    tradeType=st.integers(1, 2),
    time=st.integers(1, 2**62),
)
depths = st.builds(
    mexc_pb2.PublicAggreDepthsV3Api,
    asks=st.lists(level, max_size=4),
    bids=st.lists(level, max_size=4),
    eventType=texts,
    fromVersion=versions,
    toVersion=versions,
)
deals = st.builds(mexc_pb2.PublicAggreDealsV3Api, deals=st.lists(deal, max_size=4), eventType=texts)


@st.composite
def pushes(draw: st.DrawFn) -> mexc_pb2.PushDataV3ApiWrapper:
    push = mexc_pb2.PushDataV3ApiWrapper(channel=draw(texts))
    if draw(st.booleans()):
        push.symbol = draw(texts)
    if draw(st.booleans()):
        push.symbolId = draw(texts)
    if draw(st.booleans()):
        push.createTime = draw(st.integers(0, 2**62))
    push.sendTime = draw(st.integers(0, 2**62))
    body = draw(st.sampled_from(["depths", "deals", None]))
    if body == "depths":
        push.publicAggreDepths.CopyFrom(draw(depths))
    elif body == "deals":
        push.publicAggreDeals.CopyFrom(draw(deals))
    return push


@settings(max_examples=150, deadline=None)
@given(push=pushes())
def test_the_json_form_is_protobufs_json_mapping(push: mexc_pb2.PushDataV3ApiWrapper) -> None:
    assert orjson.loads(push_to_json(push.SerializeToString())) == json_format.MessageToDict(push)
