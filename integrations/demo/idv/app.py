"""The demo IDV provider's FastAPI app (state in memory; one instance per process).

Provider-side guarantees the platform relies on, as Sumsub gives them: one applicant per external user id
(a second create answers 409 and the applicant is read by that id), API requests authenticated by an app
token and an HMAC of `ts + METHOD + path + body` under the secret key, and webhooks signed with an HMAC of
the raw body under the webhook secret (`X-Payload-Digest`, `X-Payload-Digest-Alg: HMAC_SHA256_HEX`). Every
event's `createdAtMs` is later than the applicant's previous one, so the platform can order them.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import json
import secrets as token_source
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

# The platform's development defaults (core/settings.py); production refuses them.
DEMO_APP_TOKEN = "demo-idv-app-token"
DEMO_SECRET_KEY = "demo-idv-api-secret"
DEMO_WEBHOOK_SECRET = "demo-idv-webhook-secret"
PROVIDER = "sumsub"
SIGNATURE_TOLERANCE_SECONDS = 300

WebhookMode = Literal["normal", "late", "twice", "out_of_order", "hold", "none"]
OUTCOMES = {
    "approve": ("GREEN", None, []),
    "retry": ("RED", "RETRY", ["UNSATISFACTORY_PHOTOS"]),
    "final": ("RED", "FINAL", ["FORGERY"]),
}


@dataclass
class Behaviour:
    webhook: WebhookMode = "normal"
    delay_seconds: float = 1.0  # for late webhooks
    webhook_url: str | None = None  # overrides <webhook base>/sumsub


@dataclass
class Applicant:
    id: str
    external_user_id: str
    level_name: str
    inspection_id: str
    created_at: str
    review_status: str = "init"  # init | pending | completed
    review_answer: str | None = None
    reject_type: str | None = None
    reviews: int = 0
    last_event_ms: int = 0


@dataclass
class Delivery:
    event_type: str
    applicant_id: str
    external_user_id: str
    body: str
    digest: str
    status_code: int | None = None  # the platform's answer to the last attempt (0: unreachable)
    attempts: int = 0


@dataclass
class State:
    app_token: str
    secret_key: str
    webhook_secret: str
    webhook_base: str | None
    behaviour: Behaviour = field(default_factory=Behaviour)
    applicants: dict[str, Applicant] = field(default_factory=dict)
    by_external: dict[str, str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)  # link token -> applicant id
    deliveries: list[Delivery] = field(default_factory=list)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


def digest(secret: str, body: str) -> str:
    return hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()


def created_at_ms(applicant: Applicant) -> str:
    """`yyyy-MM-dd HH:mm:ss.fff` in UTC, strictly later than the applicant's previous event."""
    now_ms = max(int(time.time() * 1000), applicant.last_event_ms + 1)
    applicant.last_event_ms = now_ms
    moment = datetime.fromtimestamp(now_ms / 1000, UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{now_ms % 1000:03d}"


def render(applicant: Applicant) -> dict[str, Any]:
    return {
        "id": applicant.id,
        "createdAt": applicant.created_at,
        "clientId": "croupier-demo",
        "inspectionId": applicant.inspection_id,
        "externalUserId": applicant.external_user_id,
        "levelName": applicant.level_name,
        "type": "individual",
        "review": {"reviewStatus": applicant.review_status, "reviewResult": review_result(applicant)},
    }


def review_result(applicant: Applicant) -> dict[str, Any] | None:
    if applicant.review_answer is None:
        return None
    result: dict[str, Any] = {"reviewAnswer": applicant.review_answer}
    if applicant.review_answer == "RED":
        result["reviewRejectType"] = applicant.reject_type
        result["rejectLabels"] = ["FORGERY"] if applicant.reject_type == "FINAL" else ["UNSATISFACTORY_PHOTOS"]
        result["moderationComment"] = "The document could not be verified."
    return result


def create_demo_idv(
    *,
    app_token: str = DEMO_APP_TOKEN,
    secret_key: str = DEMO_SECRET_KEY,
    webhook_secret: str = DEMO_WEBHOOK_SECRET,
    webhook_base: str | None = None,
) -> FastAPI:
    state = State(app_token, secret_key, webhook_secret, webhook_base)
    app = FastAPI(title="Croupier demo IDV provider", docs_url=None, redoc_url=None)
    app.state.idv = state

    async def authenticate(request: Request) -> bytes:
        """Sumsub's app-token scheme: the token, a fresh timestamp, the HMAC of the request."""
        body = await request.body()
        ts = request.headers.get("x-app-access-ts", "")
        if request.headers.get("x-app-token") != state.app_token or not ts.isdigit():
            raise HTTPException(401, "app token missing or unknown")
        if abs(time.time() - int(ts)) > SIGNATURE_TOLERANCE_SECONDS:
            raise HTTPException(401, "request timestamp too far from now")
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        message = ts.encode() + request.method.upper().encode() + path.encode() + body
        expected = hmac.new(state.secret_key.encode(), message, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("x-app-access-sig", "")):
            raise HTTPException(401, "request signature mismatch")
        return body

    def new_applicant(external_user_id: str, level_name: str) -> Applicant:
        applicant = Applicant(
            id=token_source.token_hex(12),
            external_user_id=external_user_id,
            level_name=level_name,
            inspection_id=token_source.token_hex(12),
            created_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        )
        state.applicants[applicant.id] = applicant
        state.by_external[external_user_id] = applicant.id
        return applicant

    def spawn(work: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(work)
        state.tasks.add(task)
        task.add_done_callback(state.tasks.discard)

    async def deliver(batch: list[Delivery], url: str | None, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        if url is None:
            return
        async with httpx.AsyncClient(timeout=5) as client:
            for delivery in batch:
                try:
                    response = await client.post(
                        url,
                        content=delivery.body,
                        headers={
                            "content-type": "application/json",
                            "x-payload-digest": delivery.digest,
                            "x-payload-digest-alg": "HMAC_SHA256_HEX",
                        },
                    )
                    delivery.status_code = response.status_code
                except httpx.HTTPError:
                    delivery.status_code = 0
                delivery.attempts += 1

    def event(applicant: Applicant, event_type: str, review: dict[str, Any] | None) -> Delivery:
        payload: dict[str, Any] = {
            "applicantId": applicant.id,
            "inspectionId": applicant.inspection_id,
            "correlationId": f"req-{token_source.token_hex(12)}",
            "externalUserId": applicant.external_user_id,
            "levelName": applicant.level_name,
            "type": event_type,
            "sandboxMode": True,
            "reviewStatus": applicant.review_status,
            "createdAtMs": created_at_ms(applicant),
            "applicantType": "individual",
            "clientId": "croupier-demo",
        }
        if review is not None:
            payload["reviewResult"] = review
        body = json.dumps(payload, separators=(",", ":"))
        delivery = Delivery(
            event_type, applicant.id, applicant.external_user_id, body, digest(state.webhook_secret, body)
        )
        state.deliveries.append(delivery)
        return delivery

    def review(applicant: Applicant, outcome: str) -> None:
        """The applicant submitted; the provider reviews at once and says so (pending, then the result)."""
        answer, reject_type, _ = OUTCOMES[outcome]
        behaviour = state.behaviour
        if behaviour.webhook == "none":
            applicant.review_status, applicant.review_answer, applicant.reject_type = "completed", answer, reject_type
            return
        applicant.review_status = "pending"
        pending = event(applicant, "applicantPending", None)
        applicant.review_status, applicant.review_answer, applicant.reject_type = "completed", answer, reject_type
        applicant.reviews += 1
        reviewed = event(applicant, "applicantReviewed", review_result(applicant))
        if behaviour.webhook == "hold":
            return
        url = behaviour.webhook_url or (f"{state.webhook_base}/{PROVIDER}" if state.webhook_base else None)
        if behaviour.webhook == "out_of_order":  # the result first, the older pending event after it
            spawn(deliver([reviewed, pending], url, 0.05))
            return
        delay = behaviour.delay_seconds if behaviour.webhook == "late" else 0.05
        spawn(deliver([pending, reviewed], url, delay))
        if behaviour.webhook == "twice":
            spawn(deliver([pending, reviewed], url, delay + 0.2))

    # ---- the API (Sumsub's paths) --------------------------------------------------------------

    @app.post("/resources/applicants")
    async def create_applicant(request: Request, levelName: str) -> Response:
        body = await authenticate(request)
        try:
            external_user_id = str(json.loads(body)["externalUserId"])
        except (ValueError, KeyError, TypeError) as exc:
            raise HTTPException(400, "externalUserId is required") from exc
        existing = state.by_external.get(external_user_id)
        if existing is not None:
            return JSONResponse(
                {
                    "description": f"Applicant with external user id '{external_user_id}' already exists: {existing}",
                    "code": 409,
                    "correlationId": token_source.token_hex(16),
                },
                status_code=409,
            )
        return JSONResponse(render(new_applicant(external_user_id, levelName)), status_code=201)

    @app.get("/resources/applicants/{selector}/one")
    async def applicant_by_external_id(selector: str, request: Request) -> Response:
        await authenticate(request)
        prefix = "-;externalUserId="
        applicant_id = state.by_external.get(selector[len(prefix) :]) if selector.startswith(prefix) else selector
        applicant = state.applicants.get(applicant_id or "")
        if applicant is None:
            return JSONResponse({"description": "Applicant not found", "code": 404}, status_code=404)
        return JSONResponse(render(applicant))

    @app.post("/resources/sdkIntegrations/levels/-/websdkLink")
    async def websdk_link(request: Request) -> Response:
        body = await authenticate(request)
        try:
            data = json.loads(body)
            user_id, level_name = str(data["userId"]), str(data["levelName"])
        except (ValueError, KeyError, TypeError) as exc:
            raise HTTPException(400, "levelName and userId are required") from exc
        applicant_id = state.by_external.get(user_id)
        applicant = state.applicants[applicant_id] if applicant_id else new_applicant(user_id, level_name)
        token = token_source.token_urlsafe(12)
        state.links[token] = applicant.id
        return JSONResponse({"url": f"{str(request.base_url).rstrip('/')}/websdk/p/{token}"})

    # ---- the hosted flow (WebSDK) the player's browser visits -----------------------------------

    def linked(token: str) -> Applicant:
        applicant_id = state.links.get(token)
        if applicant_id is None:
            raise HTTPException(404, "this link is unknown or expired")
        return state.applicants[applicant_id]

    @app.get("/websdk/p/{token}", response_class=HTMLResponse)
    async def hosted_flow(token: str) -> str:
        applicant = linked(token)
        if applicant.review_status == "completed" and applicant.review_answer == "GREEN":
            return "<!doctype html><title>Verified</title><h1>Your identity is verified.</h1>"
        return f"""<!doctype html><title>Verify your identity</title>
<h1>Verify your identity (demo provider)</h1>
<p>Applicant {html.escape(applicant.id)}. In this demo nothing is uploaded: pick the outcome of the review.</p>
<form method="post">
<label>Document <select name="document"><option>ID card</option><option>Passport</option></select></label>
<button name="result" value="approve">Submit (approved)</button>
<button name="result" value="retry">Submit (rejected, may retry)</button>
<button name="result" value="final">Submit (rejected for good)</button>
</form>"""

    @app.post("/websdk/p/{token}", response_class=HTMLResponse)
    async def hosted_flow_submit(token: str, result: str = Form("approve")) -> str:
        applicant = linked(token)
        if result not in OUTCOMES:
            raise HTTPException(422, "result must be approve, retry or final")
        review(applicant, result)
        return """<!doctype html><title>Submitted</title><h1>Thank you</h1>
<p>Your documents were submitted; the casino will be told the result.</p>"""

    # ---- control (tests and the demo) ----------------------------------------------------------

    @app.get("/control/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/control/reset")
    async def reset() -> dict[str, str]:
        for task in list(state.tasks):
            task.cancel()
        state.behaviour = Behaviour()
        state.applicants.clear()
        state.by_external.clear()
        state.links.clear()
        state.deliveries.clear()
        return {"status": "reset"}

    @app.post("/control/behaviour")
    async def configure(request: Request) -> dict[str, Any]:
        current = asdict(state.behaviour)
        changes = await request.json()
        unknown = set(changes) - set(current)
        if unknown:
            raise HTTPException(422, f"unknown settings {sorted(unknown)}")
        current.update(changes)
        state.behaviour = Behaviour(**current)
        return current

    @app.post("/control/applicants/{applicant_id}/review")
    async def control_review(applicant_id: str, request: Request) -> dict[str, Any]:
        """What the hosted flow's buttons do, for scripts: {"result": "approve" | "retry" | "final"}."""
        applicant = state.applicants.get(applicant_id)
        if applicant is None:
            raise HTTPException(404, "no such applicant")
        result = str((await request.json()).get("result", "approve"))
        if result not in OUTCOMES:
            raise HTTPException(422, "result must be approve, retry or final")
        review(applicant, result)
        return render(applicant)

    @app.get("/control/applicants")
    async def applicants(external_user_id: str | None = None) -> list[dict[str, Any]]:
        return [render(a) for a in state.applicants.values() if external_user_id in (None, a.external_user_id)]

    @app.get("/control/webhooks")
    async def webhooks(external_user_id: str | None = None) -> list[dict[str, Any]]:
        return [asdict(d) for d in state.deliveries if external_user_id in (None, d.external_user_id)]

    return app
