"""A subscriber's consent to marketing messages: ``PUT /subscribers/{id}/marketing``."""

from __future__ import annotations

import httpx
from support.ledger import log_types

from subledger.commands.ledger import Ledger


def _subscriber(http: httpx.Client) -> str:
    made = http.post("/subscribers", json={"email": "m@example.com", "name": "Mo"})
    assert made.status_code == 201, made.text
    assert made.json()["marketing_consent"] is True  # opt-out: consent until they say no
    return str(made.json()["subscriber_id"])


def test_an_opt_out_is_recorded_and_shown_and_repeating_it_appends_nothing(
        http: httpx.Client, ledger: Ledger) -> None:
    sid = _subscriber(http)
    out = http.put(f"/subscribers/{sid}/marketing", json={"consent": False})
    assert out.status_code == 200, out.text
    assert out.json()["marketing_consent"] is False
    assert http.get(f"/subscribers/{sid}").json()["marketing_consent"] is False
    types = log_types(ledger)
    assert types[-1] == "MarketingConsentChanged"
    assert http.put(f"/subscribers/{sid}/marketing", json={"consent": False}).status_code == 200
    assert log_types(ledger) == types
    back = http.put(f"/subscribers/{sid}/marketing", json={"consent": True})
    assert back.json()["marketing_consent"] is True
    assert log_types(ledger)[-1] == "MarketingConsentChanged"


def test_consent_is_true_or_false_and_nothing_else(http: httpx.Client) -> None:
    sid = _subscriber(http)
    for body in ({"consent": "no"}, {"consent": 0}, {}, {"consent": None}):
        refused = http.put(f"/subscribers/{sid}/marketing", json=body)
        assert refused.status_code == 422, (body, refused.text)


def test_the_consent_of_an_unknown_subscriber_is_a_404(http: httpx.Client) -> None:
    answer = http.put("/subscribers/00000000-0000-4000-8000-000000000000/marketing",
                      json={"consent": False})
    assert answer.status_code == 404
