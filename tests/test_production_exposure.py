"""What production shows the world: no API description beyond the GraphQL schema it allows, and no
`/metrics` open to anyone (a token, or a server reachable only from a private network)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from core import processes
from core.settings import Settings
from server import create_app
from tests.conftest import ROOT, TEST_ENV

REAL_PSP_SECRETS = json.dumps({"cardpay": "s3cret-card", "swiftpay": "s3cret-swift", "bankwire": "s3cret-wire"})
REAL_IDV_SECRETS = {"IDV_SECRET_KEY": "s3cret-idv-api", "IDV_WEBHOOK_SECRET": "s3cret-idv-hook"}
# The CRM's signing keys (tracking and unsubscribe links, the SMS/push webhook), as Settings' fields.
REAL_CRM_SECRETS = {"crm_link_secret": "s3cret-crm-links", "crm_webhook_secret": "s3cret-crm-hook",
                    "crm_unsubscribe_secret": "s3cret-crm-unsubscribe"}  # fmt: skip


async def get(settings: Settings, path: str, *, base_url: str = "http://127.0.0.1", **headers: str) -> httpx.Response:
    """One request to a fresh app; ASGITransport gives the app `base_url`'s host as the address the
    request arrived on (`scope["server"]`)."""
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url) as http:
        return await http.get(path, headers=headers)


@pytest.mark.parametrize("path", ["/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect"])
async def test_production_serves_no_api_description(path: str) -> None:
    assert (await get(Settings(env="production"), path)).status_code == 404


async def test_development_still_describes_its_rest_routes() -> None:
    response = await get(Settings(env="development"), "/openapi.json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Croupier"


async def test_production_serves_no_graphiql() -> None:
    response = await get(Settings(env="production"), "/graphql", accept="text/html")
    assert "graphiql" not in response.text.lower()


@pytest.mark.parametrize(
    ("base_url", "status"),
    [("http://93.184.216.34", 404), ("http://10.1.2.3", 200), ("http://192.168.0.4", 200), ("http://127.0.0.1", 200)],
)
async def test_production_metrics_without_a_token_answer_only_on_a_private_address(base_url: str, status: int) -> None:
    response = await get(Settings(env="production"), "/metrics", base_url=base_url)
    assert response.status_code == status


async def test_metrics_token_is_required_wherever_the_request_arrives() -> None:
    settings = Settings(env="production", metrics_token="scrape-me")
    assert (await get(settings, "/metrics", base_url="http://10.1.2.3")).status_code == 401
    allowed = await get(settings, "/metrics", base_url="http://93.184.216.34", authorization="Bearer scrape-me")
    assert allowed.status_code == 200
    assert "croupier_http_requests_total" in allowed.text


@pytest.mark.parametrize(
    ("host", "token", "refused"),
    [
        ("0.0.0.0", None, True),
        ("::", None, True),
        ("93.184.216.34", None, True),
        ("0.0.0.0", "scrape-me", False),
        ("127.0.0.1", None, False),
        ("localhost", None, False),
        ("10.0.0.8", None, False),
        ("fd00::8", None, False),
    ],
)
def test_production_refuses_a_public_bind_without_a_metrics_token(host: str, token: str | None, refused: bool) -> None:
    settings = Settings(env="production", metrics_token=token)
    if refused:
        with pytest.raises(RuntimeError, match="METRICS_TOKEN"):
            settings.check_production_exposure(host)
    else:
        settings.check_production_exposure(host)
    Settings(env="development").check_production_exposure(host)  # development binds where it is told


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    from authz.jwt import generate_key

    generate_key(tmp_path / "keys")
    env = {**os.environ, **TEST_ENV, "ENV": "production", "JWT_KEY_DIR": str(tmp_path / "keys")}
    crm = {name.upper(): secret for name, secret in REAL_CRM_SECRETS.items()}
    env.update({"PSP_SECRETS": REAL_PSP_SECRETS, **REAL_IDV_SECRETS, **crm, **extra})
    for name in ("METRICS_TOKEN", "ARGON2_TIME_COST", "ARGON2_MEMORY_KIB", "ARGON2_PARALLELISM"):
        env.pop(name, None)  # production's own password cost, not the suite's cheap one
    return env


@pytest.mark.parametrize(
    ("time_cost", "memory_kib", "refused"),
    [(1, 1024, True), (1, 65536, True), (2, 16384, True), (2, 19 * 1024, False), (3, 65536, False)],
)
def test_production_refuses_password_hashing_below_owasps_floor(time_cost: int, memory_kib: int, refused: bool) -> None:
    settings = Settings(env="production", argon2_time_cost=time_cost, argon2_memory_kib=memory_kib)
    if refused:
        with pytest.raises(RuntimeError, match="ARGON2"):
            settings.check_production_password_cost()
    else:
        settings.check_production_password_cost()
    Settings(env="test", argon2_time_cost=1, argon2_memory_kib=1024).check_production_password_cost()


def test_serve_refuses_production_on_every_interface_without_a_metrics_token(tmp_path: Path) -> None:
    port = processes.free_port()
    done = subprocess.run(
        [sys.executable, "-m", "cli", "serve", "--host", "0.0.0.0", "--port", str(port)],
        cwd=ROOT,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "METRICS_TOKEN" in done.stderr
    with pytest.raises(httpx.ConnectError):  # it never listened
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)


@pytest.mark.usefixtures("app")  # the test database is migrated, as production requires
def test_production_on_a_private_address_serves_metrics_but_no_api_description(tmp_path: Path) -> None:
    port = processes.free_port()
    base = f"http://127.0.0.1:{port}"
    process = processes.start_and_wait(
        [sys.executable, "-m", "cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        health_url=f"{base}/readyz",
        cwd=ROOT,
        env=production_env(tmp_path),
        log_file=tmp_path / "serve.log",
    )
    try:
        assert httpx.get(f"{base}/metrics", timeout=10).status_code == 200
        for path in ("/openapi.json", "/docs", "/redoc"):
            assert httpx.get(f"{base}{path}", timeout=10).status_code == 404, path
        introspection = httpx.post(f"{base}/graphql", json={"query": "{ __schema { types { name } } }"}, timeout=10)
        assert introspection.json().get("data") is None
    finally:
        processes.stop(process)


@pytest.mark.parametrize(
    ("secret_key", "webhook_secret", "refused"),
    [
        ("demo-idv-api-secret", "s3cret-idv-hook", "IDV_SECRET_KEY"),
        ("s3cret-idv-api", "demo-idv-webhook-secret", "IDV_WEBHOOK_SECRET"),
        ("s3cret-idv-api", "s3cret-idv-hook", None),
    ],
)
def test_production_refuses_the_demo_idv_secrets(secret_key: str, webhook_secret: str, refused: str | None) -> None:
    """Whoever knows the demo IDV webhook secret could sign a GREEN result for any player."""
    psp = json.loads(REAL_PSP_SECRETS)
    settings = Settings(
        env="production",
        psp_secrets=psp,
        idv_secret_key=secret_key,
        idv_webhook_secret=webhook_secret,
        **REAL_CRM_SECRETS,  # type: ignore[arg-type]
    )
    if refused:
        with pytest.raises(RuntimeError, match=refused):
            settings.check_production_secrets()
    else:
        settings.check_production_secrets()
    Settings(env="development").check_production_secrets()  # the demo keeps its defaults
