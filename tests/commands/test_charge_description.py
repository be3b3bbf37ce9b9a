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
    f"subscription {uuid4()}",
    "subscription not-a-uuid invoice inv_1",
    f"order for subscription {uuid4()} invoice inv_1",
    f"subscription {uuid4()} invoice inv_1 and more",
])
def test_a_description_another_system_wrote_names_no_subscription(text: str) -> None:
    assert described_subscription(text) is None
