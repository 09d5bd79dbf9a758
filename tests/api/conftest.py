"""Fixtures of the API and websocket tests."""

from __future__ import annotations

import pytest
from channels.layers import channel_layers


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """Each test gets its own channel layer instance. The Redis layer keeps asyncio locks of the event loop it
    first ran on (its receive lock, the per-channel clean-up locks); pytest-asyncio gives every test a new
    loop, and a lock a finished test left held would fail the next test's consumers."""
    channel_layers.backends = {}
    yield
    channel_layers.backends = {}
