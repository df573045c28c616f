"""The identity-verification provider port, and its Sumsub-shaped HTTP adapter.

API requests are signed as Sumsub's app tokens are: `X-App-Token`, `X-App-Access-Ts` (Unix seconds) and
`X-App-Access-Sig` = hex HMAC-SHA256 under the secret key of `ts + METHOD + path-with-query + body`.
Webhooks carry `X-Payload-Digest` = hex HMAC of the raw body under the webhook secret, its algorithm named
in `X-Payload-Digest-Alg` (HMAC_SHA256_HEX by default; HMAC_SHA512_HEX and HMAC_SHA1_HEX also verify).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from core import json_body
from core.settings import Settings

DIGEST_ALGORITHMS = {
    "HMAC_SHA256_HEX": hashlib.sha256,
    "HMAC_SHA512_HEX": hashlib.sha512,
    "HMAC_SHA1_HEX": hashlib.sha1,
}


class IdvUnavailable(Exception):
    """The provider did not answer usably (or is not configured): the player may try again later."""


class InvalidSignature(Exception):
    """A webhook whose digest does not verify: refused with 401."""


class MalformedWebhook(Exception):
    """A signed webhook that is not an acceptable JSON object of the expected shape: refused with 400."""


@dataclass(frozen=True)
class Applicant:
    applicant_id: str
    external_user_id: str
    level_name: str


@dataclass(frozen=True)
class ReviewResult:
    answer: str  # GREEN | RED
    reject_type: str | None  # RED only: FINAL | RETRY
    reject_labels: tuple[str, ...]


@dataclass(frozen=True)
class IdvEvent:
    """A verified webhook, in the provider's words."""

    delivery_id: str  # unique per event: `type:correlationId`, else the body's SHA-256
    event_type: str  # applicantCreated | applicantPending | applicantOnHold | applicantReviewed | …
    applicant_id: str | None
    external_user_id: str | None
    level_name: str | None
    review_status: str | None  # init | pending | onHold | completed | …
    created_at: datetime | None  # the provider's `createdAtMs` (UTC)
    review: ReviewResult | None  # applicantReviewed only
    payload: Mapping[str, Any]


def sign_request(secret: str, ts: str, method: str, path: str, body: bytes) -> str:
    message = ts.encode() + method.upper().encode() + path.encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def payload_digest(secret: str, body: bytes, algorithm: str = "HMAC_SHA256_HEX") -> str:
    return hmac.new(secret.encode(), body, DIGEST_ALGORITHMS[algorithm]).hexdigest()


def parse_created_at(value: Any) -> datetime | None:
    """`createdAtMs` is `yyyy-MM-dd HH:mm:ss.fff` in UTC (ISO 8601 is accepted too)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedWebhook("createdAtMs is not a string")
    try:
        parsed = datetime.fromisoformat(value.strip().replace(" ", "T", 1))
    except ValueError as exc:
        raise MalformedWebhook(f"createdAtMs {value[:40]!r} is not a timestamp") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _text(body: Mapping[str, Any], key: str, limit: int) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > limit:
        raise MalformedWebhook(f"{key} must be a non-empty string of at most {limit} characters")
    return value


def _review(body: Mapping[str, Any]) -> ReviewResult:
    result = body.get("reviewResult")
    if not isinstance(result, dict):
        raise MalformedWebhook("applicantReviewed without a reviewResult object")
    answer = result.get("reviewAnswer")
    if answer not in ("GREEN", "RED"):
        raise MalformedWebhook("reviewResult.reviewAnswer must be GREEN or RED")
    reject_type = result.get("reviewRejectType") if answer == "RED" else None
    if answer == "RED" and reject_type not in ("FINAL", "RETRY"):
        reject_type = "RETRY"  # Sumsub names one on every RED; without it, the player may try again
    labels = result.get("rejectLabels") or []
    if not isinstance(labels, list) or not all(isinstance(x, str) and len(x) <= 64 for x in labels[:20]):
        raise MalformedWebhook("reviewResult.rejectLabels must be a list of strings")
    return ReviewResult(str(answer), reject_type, tuple(labels[:20]))


class SumsubClient:
    """The platform's side of a Sumsub-shaped provider (the demo IDV provider speaks the same)."""

    name = "sumsub"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.name = settings.idv_provider

    # ---- outbound API --------------------------------------------------------------------------

    async def _call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> httpx.Response:
        base = self.settings.idv_base_url
        if not base:
            raise IdvUnavailable("no identity-verification provider is configured (IDV_BASE_URL)")
        body = json.dumps(payload, separators=(",", ":")).encode() if payload is not None else b""
        ts = str(int(time.time()))
        headers = {
            "accept": "application/json",
            "x-app-token": self.settings.idv_app_token,
            "x-app-access-ts": ts,
            "x-app-access-sig": sign_request(self.settings.idv_secret_key, ts, method, path, body),
        }
        if payload is not None:
            headers["content-type"] = "application/json"
        try:
            async with httpx.AsyncClient(base_url=base.rstrip("/"), timeout=self.settings.idv_timeout_seconds) as http:
                return await http.request(method, path, content=body or None, headers=headers)
        except httpx.HTTPError as exc:
            raise IdvUnavailable(f"the provider did not answer: {type(exc).__name__}") from exc

    @staticmethod
    def _applicant(response: httpx.Response) -> Applicant:
        try:
            data = response.json()
            return Applicant(str(data["id"]), str(data["externalUserId"]), str(data.get("levelName") or ""))
        except (ValueError, KeyError, TypeError) as exc:
            raise IdvUnavailable("the provider's applicant is unreadable") from exc

    async def create_applicant(self, external_user_id: str, level_name: str) -> Applicant:
        """Create the applicant, or read the one that exists for this external user id (409)."""
        response = await self._call(
            "POST", f"/resources/applicants?levelName={quote(level_name)}", {"externalUserId": external_user_id}
        )
        if response.status_code == 409:
            response = await self._call("GET", f"/resources/applicants/-;externalUserId={quote(external_user_id)}/one")
        if response.status_code not in (200, 201):
            raise IdvUnavailable(f"the provider answered {response.status_code}")
        found = self._applicant(response)
        if found.external_user_id != external_user_id:
            raise IdvUnavailable("the provider returned another user's applicant")
        return found

    async def websdk_link(self, external_user_id: str, level_name: str, *, lang: str | None = None) -> str:
        response = await self._call(
            "POST",
            "/resources/sdkIntegrations/levels/-/websdkLink" + (f"?lang={quote(lang.lower())}" if lang else ""),
            {"levelName": level_name, "userId": external_user_id, "ttlInSecs": self.settings.idv_link_ttl_seconds},
        )
        if response.status_code != 200:
            raise IdvUnavailable(f"the provider answered {response.status_code}")
        try:
            url = response.json()["url"]
        except (ValueError, KeyError, TypeError) as exc:
            raise IdvUnavailable("the provider's link is unreadable") from exc
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise IdvUnavailable("the provider's link is not a URL")
        return url

    # ---- inbound webhooks ----------------------------------------------------------------------

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> IdvEvent:
        """Check the digest of the raw body, then read it (InvalidSignature, MalformedWebhook)."""
        digest = headers.get("x-payload-digest")
        algorithm = headers.get("x-payload-digest-alg") or "HMAC_SHA256_HEX"
        if not digest:
            raise InvalidSignature("missing X-Payload-Digest")
        if algorithm not in DIGEST_ALGORITHMS:
            raise InvalidSignature(f"unsupported X-Payload-Digest-Alg {algorithm[:32]!r}")
        if not self.settings.idv_webhook_secret:  # anyone can compute an HMAC under the empty key
            raise InvalidSignature("no webhook secret is configured (IDV_WEBHOOK_SECRET)")
        expected = payload_digest(self.settings.idv_webhook_secret, body, algorithm).encode()
        # As bytes: compare_digest refuses str with non-ASCII characters (a TypeError: a 500 to anyone).
        if not hmac.compare_digest(expected, digest.strip().lower().encode("utf-8", "replace")):
            raise InvalidSignature("digest mismatch")
        try:
            data = json_body.parse_object(body)
        except json_body.BodyRefused as exc:
            raise MalformedWebhook(str(exc)) from exc
        event_type = _text(data, "type", 64)
        if event_type is None:
            raise MalformedWebhook("no webhook type")
        correlation = _text(data, "correlationId", 120)
        delivery = f"{event_type}:{correlation}" if correlation else "sha256:" + hashlib.sha256(body).hexdigest()
        return IdvEvent(
            delivery_id=delivery,
            event_type=event_type,
            applicant_id=_text(data, "applicantId", 100),
            external_user_id=_text(data, "externalUserId", 100),
            level_name=_text(data, "levelName", 64),
            review_status=_text(data, "reviewStatus", 32),
            created_at=parse_created_at(data.get("createdAtMs")),
            review=_review(data) if event_type == "applicantReviewed" else None,
            payload=data,
        )


def client_for(settings: Settings, provider: str) -> SumsubClient:
    """The adapter for a provider named in a webhook's URL (InvalidSignature when we have none by that name)."""
    if provider != settings.idv_provider:
        raise InvalidSignature("unknown identity-verification provider")
    return SumsubClient(settings)
