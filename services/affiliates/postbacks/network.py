"""The postback worker's connections: to public addresses only, checked at send time (SSRF).

A template is checked when saved (templates.py: no internal address written in it), but a name is resolved only
when a postback is sent, and a partner's DNS may answer with an internal address then (or change its answer
between a check and the connection: DNS rebinding). So the worker's HTTP client connects through
`PublicOnlyNetwork`: it resolves the host, refuses when *any* address it resolves to is internal (loopback,
private, link-local, shared, reserved: `templates.internal_address`), and connects to the address it checked —
never resolving again. TLS still checks the certificate against the host name. A refusal is a failed try with
its reason in the delivery log (`ConnectError: … resolves to an internal address`), retried like any other.

`allow_private` (the setting `affiliate_postback_allow_private_hosts`) lets it reach internal addresses: the
tests' local receiver, a developer's; never production.
"""

from __future__ import annotations

import asyncio
import socket
import typing

import httpcore
import httpx

from services.affiliates.postbacks.templates import internal_address


class InternalAddress(httpcore.ConnectError):
    """The host resolves to an address the worker must not call."""


class PublicOnlyNetwork(httpcore.AsyncNetworkBackend):
    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private
        self._inner = httpcore.AnyIOBackend()

    async def resolve(self, host: str, port: int) -> str:
        """The address to connect to, once every address of the host was checked."""
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not addresses:
            raise httpcore.ConnectError(f"cannot resolve {host}")
        internal = [address for address in addresses if internal_address(address)]
        if internal and not self.allow_private:
            raise InternalAddress(f"refused: {host} resolves to an internal address ({internal[0]})")
        return addresses[0]

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109  (httpcore's interface)
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        address = await self.resolve(host, port)
        return await self._inner.connect_tcp(
            address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109  (httpcore's interface)
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("postbacks call TCP hosts only")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def transport(*, limits: httpx.Limits, allow_private: bool) -> httpx.AsyncHTTPTransport:
    """httpx's transport with its connection pool on `PublicOnlyNetwork` (httpx takes no network backend of its
    own: its pool's is set, and tests/affiliate_postbacks check that a name of an internal address is refused)."""
    made = httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
    pool = made._pool
    assert isinstance(pool, httpcore.AsyncConnectionPool)
    pool._network_backend = PublicOnlyNetwork(allow_private=allow_private)
    return made
