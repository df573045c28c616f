"""Catalogue sync against a hostile game list (review): a list whose body never ends is cut off at the size cap and
recorded as a failed run, instead of being buffered whole (the client's timeout is per read, so a body trickling
forever would hold the sync, and its memory, for ever)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from core import processes
from services.providers import catalogue_sync
from tests.onboarding.conftest import add_provider, payload
from tests.providers.test_catalogue_sync import SYNC


@pytest.fixture(scope="module")
def endless_list() -> Iterator[str]:
    """A game list URL whose body is a JSON array that never ends (64 KiB every few milliseconds)."""
    app = FastAPI()

    @app.get("/games/list")
    async def games() -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            yield b"["
            while True:
                yield b'"x",' * 16_384
                await asyncio.sleep(0.005)  # a trickle: each read arrives well inside the client's timeout

        return StreamingResponse(body(), media_type="application/json")

    port = processes.free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", log_config=None))
    thread = threading.Thread(target=server.run, name="endless-list-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:  # a startup wait, not a test's sleep
        assert time.monotonic() < deadline, "the endless list server did not start"
        time.sleep(0.005)
    try:
        yield f"http://127.0.0.1:{port}/games/list"
    finally:
        server.should_exit = True
        thread.join(timeout=5)


async def test_an_endless_game_list_is_cut_off_at_the_size_cap_and_fails_the_run(
    gql: Any, make_staff: Any, endless_list: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalogue_sync, "MAX_LIST_BYTES", 256 * 1024)  # the cap, small enough to reach fast
    token = (await make_staff(("content_manager", None))).token
    await add_provider(
        gql, token, "acme", launchUrl="https://acme.example/play", gameListUrl=endless_list, reason="hostile list"
    )
    async with asyncio.timeout(5):  # before the fix the sync read the endless body for ever
        run = payload(await gql(SYNC, {"input": {"provider": "acme"}}, token=token), "syncGameCatalogue")["run"]
    assert run["status"] == "FAILED"
    assert "larger than 262144 bytes" in run["error"]


async def test_a_game_list_on_an_internal_address_is_refused_where_private_hosts_are_not_allowed(
    gql: Any, rt: Any, make_staff: Any, endless_list: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Production's default (tests allow private hosts: their lists are served on loopback).
    monkeypatch.setattr(rt.settings, "catalogue_sync_private_hosts", False)
    token = (await make_staff(("content_manager", None))).token
    await add_provider(
        gql, token, "acme", launchUrl="https://acme.example/play", gameListUrl=endless_list, reason="hostile list"
    )
    update = """mutation($input: UpdateGameProviderInput!) { updateGameProvider(input: $input) { errors { code } } }"""
    for url in (endless_list, endless_list.replace("127.0.0.1", "localhost"), "http://169.254.169.254/latest/"):
        body = await gql(update, {"input": {"provider": "acme", "gameListUrl": url}}, token=token)
        assert body["data"]["updateGameProvider"]["errors"] == [], body
        async with asyncio.timeout(5):
            run = payload(await gql(SYNC, {"input": {"provider": "acme"}}, token=token), "syncGameCatalogue")["run"]
        assert run["status"] == "FAILED", (url, run)
        assert "internal address" in run["error"], (url, run)
