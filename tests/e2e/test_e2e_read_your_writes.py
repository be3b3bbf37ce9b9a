"""`subledger serve` with its projector in the process: a refund read back at once, with the
refund's ``Subledger-Position``, shows in the subscriber's invoices every time."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import httpx
from support.http import api_events, api_subscription
from support.serve import served

from subledger.config import Settings


def test_every_refund_read_back_with_its_position_shows_at_once(database_url: str,
                                                                tmp_path: Path) -> None:
    env = {"SUBLEDGER_DATABASE_URL": database_url, "SUBLEDGER_BILLING_INTERVAL": "0"}
    assert Settings.from_env(env).read_wait == 5.0
    with served(env, tmp_path / "serve.log") as url, httpx.Client(base_url=url, timeout=30) as http:
        api_subscription(http, "pro-m", plan={"amount": 4900, "trial_days": 0})
        [charge] = api_events(http, "ChargeSucceeded")
        shown = []
        for _ in range(5):
            refund = http.post(f"/charges/{charge['data']['charge_id']}/refunds", json={"amount": 100})
            assert refund.status_code == 201, refund.text
            invoices = http.get(f"/subscribers/{charge['subscriber_id']}/invoices",
                                params={"format": "csv"},
                                headers={"Subledger-Min-Position": refund.headers["Subledger-Position"]})
            assert invoices.status_code == 200, invoices.text
            [row] = csv.DictReader(io.StringIO(invoices.text))
            shown.append(int(row["refunded"]))
            assert int(invoices.headers["Subledger-Position"]) >= int(refund.headers["Subledger-Position"])

    assert shown == [100, 200, 300, 400, 500]
