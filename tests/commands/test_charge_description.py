"""The description the ledger gives a charge names its subscription, and only that text is
read back as the ledger's own (PayPal keeps no metadata on an order)."""

from uuid import uuid4

import pytest

from subledger.commands.gateways import charge_description, described_subscription


def test_a_charge_description_gives_back_its_subscription() -> None:
    subscription_id = str(uuid4())
    text = charge_description(subscription_id, "inv_2026-11_0001")
    assert described_subscription(text) == subscription_id


@pytest.mark.parametrize("text", [
    "",
    "Monthly plan",
    "subscription 0c5e9b3a-71d2-4f08-b6a4-93e1d5c7f2a0",
    "subscription not-a-uuid invoice inv_1",
    "order for subscription 5a7d3c19-2e64-4b8f-a0d1-c6f9e2b4a837 invoice inv_1",
    "subscription e2b8f6d4-0a3c-4975-8e1b-7c5d9f0a3b62 invoice inv_1 and more",
])
def test_a_description_another_system_wrote_names_no_subscription(text: str) -> None:
    assert described_subscription(text) is None
