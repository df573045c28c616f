"""Review of issue 16's `croupier kyc provider-check`: a wrong player id is answered with a code, not a trace."""

from __future__ import annotations

import uuid

from tests.test_audit import run_cli


async def test_review_a_provider_result_for_an_unknown_or_malformed_player_id_is_refused_with_a_code() -> None:
    code, output = await run_cli("kyc", "provider-check", str(uuid.uuid4()), "--provider", "demo-idv")
    assert (code, "Traceback" in output, "NOT_FOUND" in output) == (1, False, True), output

    code, output = await run_cli("kyc", "provider-check", "not-a-player", "--provider", "demo-idv")
    assert (code, "Traceback" in output) == (2, False), output
    assert "not a player id" in output
