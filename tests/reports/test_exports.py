"""Exports without manual magic: the same figures as CSV and Parquet from the CLI, as a download from
GraphQL (finance only), and on a schedule to a folder and to a real S3-compatible server (moto's, started
here) — each completed day once, missed days caught up, the same rows giving the same bytes."""

from __future__ import annotations

import base64
import csv
import dataclasses
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pyarrow.parquet as pq
import pytest

from core.clock import clock
from services.reports import schedule
from tests.conftest import error_codes
from tests.providers.conftest import Aggregator
from tests.reports.conftest import EUR, Reports
from tests.reports.test_projection import play, seated
from tests.test_startup_and_cli import run_cli

EXPORT = """query($kind: ReportExportKind!, $start: Date!, $end: Date!, $format: ReportFormat!) {
  reportExport(kind: $kind, start: $start, end: $end, format: $format) { filename mediaType rows sha256 contentBase64 }
}"""


@pytest.fixture
async def yesterday(
    rt: Any, reports: Reports, make_player: Any, card_deposit: Any, hub88_provider: Any, aggregator: Aggregator
) -> str:
    """Yesterday a player deposited 60 and played two rounds (stake 10, win 3; stake 5)."""
    clock.advance(timedelta(days=-1))
    player = await make_player()
    await card_deposit(player, "60.00")
    seat = await seated(rt, hub88_provider, player)
    await play(aggregator, seat, 10 * EUR, 3 * EUR, round_ref="x-1")
    await play(aggregator, seat, 5 * EUR, round_ref="x-2")
    await reports.drain()
    day = clock.now().date().isoformat()
    clock.reset()
    return day


def _csv(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode())))


async def test_the_cli_writes_the_same_rows_as_csv_and_parquet(yesterday: str, tmp_path: Path) -> None:
    for fmt in ("csv", "parquet"):
        result = run_cli(
            "reports", "export", "games", "--from", yesterday, "--to", yesterday, "--format", fmt,
            "-o", str(tmp_path / f"games.{fmt}"),
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert "wrote 1 rows" in result.stdout
    [row] = _csv((tmp_path / "games.csv").read_bytes())
    [read] = pq.read_table(tmp_path / "games.parquet").to_pylist()
    wanted = {"day": yesterday, "brand": "royal", "currency": "EUR", "stakes_cash": "1500", "wins_cash": "300"}
    assert {k: row[k] for k in wanted} == wanted
    assert (row["ggr"], row["bets"]) == ("1200", "2")
    assert {k: str(v) for k, v in read.items()} == row


def test_the_cli_refuses_an_unknown_kind_or_format_clearly() -> None:
    unknown = run_cli("reports", "export", "players", "--from", "2026-01-01", "--to", "2026-01-02")
    assert unknown.returncode == 2
    assert "No export 'players'" in unknown.stderr
    bad_format = run_cli("reports", "export", "games", "--from", "2026-01-01", "--to", "2026-01-02", "--format", "xls")
    assert bad_format.returncode == 2
    assert "csv or parquet" in bad_format.stderr
    assert "Traceback" not in unknown.stderr + bad_format.stderr


async def test_finance_downloads_an_export_and_marketing_may_not(gql: Any, make_staff: Any, yesterday: str) -> None:
    finance, marketing = await make_staff("finance"), await make_staff("marketing")
    variables = {"kind": "FIGURES", "start": yesterday, "end": yesterday, "format": "CSV"}
    body = await gql(EXPORT, variables, token=finance.token)
    assert "errors" not in body, body
    download = body["data"]["reportExport"]
    assert download["filename"] == f"croupier-figures-{yesterday}-{yesterday}.csv"
    assert download["mediaType"].startswith("text/csv")
    [row] = _csv(base64.b64decode(download["contentBase64"]))
    assert (row["day"], row["currency"], row["turnover"], row["ggr"], row["deposits"], row["ftd_count"]) == (
        yesterday, "EUR", "1500", "1200", "6000", "1",
    )  # fmt: skip
    again = await gql(EXPORT, variables, token=finance.token)
    assert again["data"]["reportExport"]["sha256"] == download["sha256"]  # same rows, same bytes
    parquet = await gql(EXPORT, {**variables, "format": "PARQUET"}, token=finance.token)
    [read] = pq.read_table(io.BytesIO(base64.b64decode(parquet["data"]["reportExport"]["contentBase64"]))).to_pylist()
    assert (read["turnover"], read["ggr"]) == (1500, 1200)
    denied = await gql(EXPORT, variables, token=marketing.token)
    assert denied["data"] == {"reportExport": None}
    assert error_codes(denied) == ["FORBIDDEN"]


async def test_scheduled_exports_land_once_per_day_in_a_folder_and_a_bucket(
    rt: Any, yesterday: str, tmp_path: Path, s3_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        monkeypatch.setenv(name, value)
    boto3.client("s3", endpoint_url=s3_server).create_bucket(Bucket="reports")
    settings = rt.settings.model_copy(
        update={
            "report_exports": [
                {"kind": "games", "format": "parquet", "destination": "s3://reports/daily"},
                {"kind": "cashier", "format": "csv", "destination": str(tmp_path / "exports")},
            ],
            "report_export_catch_up_days": 3,
            "s3_endpoint_url": s3_server,
        }
    )
    scheduled = dataclasses.replace(rt, settings=settings)
    done = await schedule.run_due(scheduled)
    assert len(done) == 6  # 3 days x 2 exports: the quiet days too (an empty file says "nothing happened")
    assert await schedule.run_due(scheduled) == []  # each day once
    key = f"daily/croupier-games-{yesterday}-{yesterday}.parquet"
    stored = boto3.client("s3", endpoint_url=s3_server).get_object(Bucket="reports", Key=key)["Body"].read()
    assert [r["game"] for r in pq.read_table(io.BytesIO(stored)).to_pylist()] != []
    [cashier] = _csv((tmp_path / "exports" / f"croupier-cashier-{yesterday}-{yesterday}.csv").read_bytes())
    assert (cashier["deposits"], cashier["deposit_count"]) == ("6000", "1")


def test_a_bad_schedule_is_refused_with_its_reason() -> None:
    from core.errors import DomainError

    with pytest.raises(DomainError, match="folder or s3://"):
        schedule.Schedule.parse({"kind": "games", "destination": "ftp://example.com/x"})
    with pytest.raises(DomainError, match="No export"):
        schedule.Schedule.parse({"kind": "ledger", "destination": "/tmp/x"})
