"""The invoices migration (SPEC §10): a database holding a year of payments made before invoices existed gets one
invoice per (subscription, period) from `gudok migrate`, with nothing lost, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.both_databases


def legacy_shape(stack) -> None:
    """Turns the database back into what gudok wrote before invoices: no invoices, payments and orders without one."""
    from billing_support import execute_script
    execute_script(stack, "UPDATE payments SET invoice_id = NULL, surplus = 0;\nUPDATE orders SET invoice_id = NULL;\nDELETE FROM invoices;")


def test_migrate_gives_every_payment_of_the_demo_year_its_invoice(stack):
    seeded = stack.run("seed", "--demo-history", check=True)
    assert "invoice" not in seeded.stderr.lower(), seeded.stderr
    before_payments = stack.query("SELECT id, subscription_id, period_index, amount, status FROM payments ORDER BY id")
    before_subscriptions = stack.query("SELECT id, status, plan_id FROM subscriptions ORDER BY id")
    assert len(before_payments) > 100, "the demo year has payments"
    legacy_shape(stack)

    migrated = stack.run("migrate", check=True)
    assert "invoice backfill: invoices=" in migrated.stdout, migrated.stdout
    again = stack.run("migrate", check=True)
    assert again.stdout.strip() == "schema is up to date", "the backfill runs once: " + again.stdout

    # Nothing lost or changed: the same payments and subscriptions, every payment bound to an invoice.
    assert stack.query("SELECT id, subscription_id, period_index, amount, status FROM payments ORDER BY id") == before_payments
    assert stack.query("SELECT id, status, plan_id FROM subscriptions ORDER BY id") == before_subscriptions
    assert stack.query("SELECT COUNT(*) FROM payments WHERE invoice_id IS NULL") in ([[0]], [["0"]])

    # One invoice per (subscription, period), numbered uniquely, priced at what was charged.
    periods = {(row[1], int(row[2])) for row in before_payments}
    invoices = stack.query("SELECT id, subscription_id, period_index, total, status, paid_payment_id, vat, supply_amount, number FROM invoices")
    assert {(row[1], int(row[2])) for row in invoices} == periods
    assert len(invoices) == len(periods)
    assert len({row[8] for row in invoices}) == len(invoices), "invoice numbers are unique"
    for _, _, _, total, _, _, vat, supply, number in invoices:
        assert int(vat) == (int(total) + 5) // 11 and int(vat) + int(supply) == int(total), (number, total, vat, supply)
        assert number.startswith("GD-20"), number

    # Paid invoices are exactly the periods with an approval, each paid by one of its own payments.
    approved = {(row[1], int(row[2])) for row in before_payments if row[4] in ("COMPLETED", "PARTIAL_CANCELLED", "CANCELLED")}
    paid = [row for row in invoices if row[4] == "PAID"]
    assert {(row[1], int(row[2])) for row in paid} == approved
    owners = dict(stack.query("SELECT id, invoice_id FROM payments"))
    for invoice_id, *_rest in paid:
        paying = _rest[4]
        assert owners[paying] == invoice_id
    amounts = {row[0]: int(row[3]) for row in before_payments}
    for invoice_id, _sub, _period, total, status, paying, *_ in paid:
        assert amounts[paying] == int(total), "the invoice is priced at what was charged"

    # Periods never paid: open while the subscription may still pay, void or uncollectible once it ended.
    statuses = {row[0]: row[1] for row in before_subscriptions}
    for _id, subscription_id, _period, _total, status, *_ in invoices:
        if status == "PAID":
            continue
        expected = {"INACTIVE": "UNCOLLECTIBLE", "CANCELLED": "VOID", "EXPIRED": "VOID"}.get(statuses[subscription_id], "OPEN")
        assert status == expected, (subscription_id, statuses[subscription_id], status)


def test_a_legacy_double_approval_of_one_period_is_marked_for_refund(stack):
    """The old code could keep two approvals for one period; the backfill pays the invoice with the first and marks the
    other surplus, which reconcile then refunds."""
    stack.run("seed", "--demo-history", check=True)
    [[subscription_id, period]] = stack.query(
        "SELECT subscription_id, period_index FROM payments WHERE status = 'COMPLETED' ORDER BY id LIMIT 1")
    [[payment_id]] = stack.query(
        f"SELECT id FROM payments WHERE subscription_id = '{subscription_id}' AND period_index = {period} AND status = 'COMPLETED' LIMIT 1")
    legacy_shape(stack)
    from billing_support import execute_script
    execute_script(stack, f"""
        INSERT INTO payments (id, subscription_id, user_id, payment_type, amount, status, order_id, order_name, payment_key, period_index,
          attempt, paid_at, refunded_amount, created_at, updated_at)
        SELECT '00000000-0000-7000-8000-00000000d0b1', subscription_id, user_id, payment_type, amount, 'COMPLETED', order_id || '-dup',
          order_name, 'pk_dup_legacy', period_index, attempt + 90, paid_at + 60, 0, created_at + 60, updated_at + 60
        FROM payments WHERE id = '{payment_id}';""")
    stack.run("migrate", check=True)
    rows = stack.query(f"SELECT id, surplus, invoice_id FROM payments WHERE subscription_id = '{subscription_id}' AND period_index = {period} "
                       "AND status = 'COMPLETED' ORDER BY created_at")
    assert [int(row[1]) for row in rows] == [0, 1], rows
    assert rows[0][2] == rows[1][2], "both bound to the period's one invoice"
    [[paying]] = stack.query(f"SELECT paid_payment_id FROM invoices WHERE id = '{rows[0][2]}'")
    assert paying == rows[0][0]
