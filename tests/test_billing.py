"""The recurring biller (SPEC §3 bill/reconcile, §8): Kill Bill-style clock walks that assert the exact charges each
move makes, dunning, faults, and a second pass that charges nothing."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime

import pytest
import requests

from billing_support import (SEOUL, add_months, approved_by_order, days_later, execute_script, insert_due_subscriptions, iso,
                             sandbox_charges, summary)



@pytest.fixture(params=["sqlite", "postgres"])
def billing(request, make_stack):
    """A private stack and sandbox per test: a pass at a later --now must see only this test's subscriptions."""
    return make_stack(db=request.param, env={"GUDOK_TEST_CLOCK": "1"}, sandbox="own")


def bill(stack, now: datetime, *extra: str) -> dict[str, int]:
    result = stack.run("bill", "--now", iso(now), *extra, timeout=180)
    assert result.returncode == 0, result.stderr
    return summary(result.stdout)


def subscription(stack, sid: str) -> dict:
    [[status, period, next_billing, failed, cancel_flag, sealed]] = stack.query(
        f"SELECT status, current_period, next_billing_date, failed_attempts, cancel_at_period_end, billing_key_sealed "
        f"FROM subscriptions WHERE id = '{sid}'")
    return {"status": status, "period": int(period), "next": int(next_billing) if next_billing is not None else None,
            "failed": int(failed), "cancel_at_period_end": int(cancel_flag), "has_card": sealed is not None}


def charges_for(stack, sid: str) -> list[dict]:
    prefix = "sub-" + sid.replace("-", "")
    return [p for p in sandbox_charges(stack.sandbox.url) if p["orderId"].startswith(prefix)]


def fault(stack, **rule) -> None:
    response = requests.post(stack.sandbox.url + "/sandbox/faults", json=rule, timeout=10)
    assert response.status_code in (200, 201), response.text


def clear_faults(stack) -> None:
    requests.delete(stack.sandbox.url + "/sandbox/faults", timeout=10).raise_for_status()


def test_month_end_walk_charges_exactly_once_per_period_without_drift(billing):
    stack = billing
    anchor = datetime(2031, 1, 31, 10, 0, tzinfo=SEOUL)
    [row] = insert_due_subscriptions(stack, 1, anchor)
    sid = row["id"]
    expected_dues = [add_months(anchor, k) for k in range(1, 6)]  # Feb 28, Mar 31, Apr 30, May 31, Jun 30
    assert [d.day for d in expected_dues] == [28, 31, 30, 31, 30]
    assert bill(stack, days_later(expected_dues[0], -1))["charged"] == 0
    for k, due in enumerate(expected_dues, start=1):
        before = len(charges_for(stack, sid))
        assert bill(stack, due) == {"charged": 1, "failed": 0, "pending": 0, "expired": 0}
        assert bill(stack, due)["charged"] == 0, "a second pass at the same time must charge nothing"
        made = charges_for(stack, sid)[before:]
        assert [c["orderId"] for c in made] == ["sub-" + sid.replace("-", "") + f"-p{k}-a1"]
        assert made[0]["totalAmount"] == 9900 and made[0]["status"] == "DONE"
        state = subscription(stack, sid)
        assert state["status"] == "ACTIVE" and state["period"] == k
        assert state["next"] == int(add_months(anchor, k + 1).timestamp())
    [[completed]] = stack.query(f"SELECT COUNT(*) FROM payments WHERE subscription_id = '{sid}' AND status = 'COMPLETED'")
    assert int(completed) == 5


def test_a_pass_far_ahead_catches_up_every_due_period_once(billing):
    stack = billing
    anchor = datetime(2031, 3, 15, 9, 30, tzinfo=SEOUL)
    [row] = insert_due_subscriptions(stack, 1, anchor)
    assert bill(stack, add_months(anchor, 3))["charged"] == 3
    assert bill(stack, add_months(anchor, 3))["charged"] == 0
    assert subscription(stack, row["id"])["period"] == 3


def test_dunning_retries_at_plus_1_3_5_days_then_inactive(billing):
    stack = billing
    anchor = datetime(2031, 5, 10, 8, 0, tzinfo=SEOUL)
    [row] = insert_due_subscriptions(stack, 1, anchor)
    sid, due = row["id"], row["due"]
    fault(stack, match={"customerKey": row["customer_key"]}, action="decline", code="REJECT_CARD_PAYMENT",
          message="한도초과 혹은 잔액부족", count=-1)
    assert bill(stack, due)["failed"] == 1
    state = subscription(stack, sid)
    assert state["status"] == "PAST_DUE" and state["failed"] == 1
    assert state["next"] == int(days_later(due, 1).timestamp())
    for attempt, offset in [(2, 1), (3, 3)]:
        assert bill(stack, days_later(due, offset - 1))["failed"] == 0, "no retry before its day"
        assert bill(stack, days_later(due, offset))["failed"] == 1
        assert subscription(stack, sid)["failed"] == attempt
        assert bill(stack, days_later(due, offset))["failed"] == 0
    assert bill(stack, days_later(due, 5))["failed"] == 1
    assert subscription(stack, sid)["status"] == "INACTIVE"
    assert bill(stack, days_later(due, 40)) == {"charged": 0, "failed": 0, "pending": 0, "expired": 0}
    orders = sorted(c["orderId"] for c in charges_for(stack, sid))
    prefix = "sub-" + sid.replace("-", "") + "-p1-a"
    assert orders == [prefix + str(n) for n in (1, 2, 3, 4)]
    [[failed]] = stack.query(f"SELECT COUNT(*) FROM payments WHERE subscription_id = '{sid}' AND status = 'FAILED' "
                             f"AND failure_code = 'REJECT_CARD_PAYMENT'")
    assert int(failed) == 4


def test_a_new_card_during_past_due_retries_at_once(billing):
    stack = billing
    anchor = datetime(2031, 6, 20, 12, 0, tzinfo=SEOUL)
    [row] = insert_due_subscriptions(stack, 1, anchor)
    sid, due = row["id"], row["due"]
    fault(stack, match={"customerKey": row["customer_key"]}, action="decline", count=1)
    assert bill(stack, due)["failed"] == 1
    assert subscription(stack, sid)["status"] == "PAST_DUE"
    # The customer signs in and registers another card half a day later.
    [[user_id]] = stack.query(f"SELECT user_id FROM subscriptions WHERE id = '{sid}'")
    [[username]] = stack.query(f"SELECT username FROM users WHERE id = '{user_id}'")
    stack.run("clock", "set", iso(days_later(due, 0).replace(hour=23)), check=True)
    try:
        password = "correct horse battery"
        derived = base64.b64encode(hashlib.pbkdf2_hmac("sha256", password.encode(), b"salt", 1000)).decode()
        execute_script(stack, f"UPDATE users SET password_hash = 'pbkdf2_sha256$1000$salt${derived}' WHERE id = '{user_id}';")
        client = stack.login(username, password)
        auth = requests.post(stack.sandbox.url + "/sandbox/billing/authorize",
                             json={"customerKey": row["customer_key"], "cardNumber": "5123450000000008"}, timeout=10).json()
        response = client.post("/api/subscriptions/billing/issue", json={"customer_key": row["customer_key"], "auth_key": auth["authKey"]})
        assert response.status_code == 200, response.text
        assert response.json()["subscription"]["status"] == "ACTIVE"
    finally:
        stack.run("clock", "reset", check=True)
    state = subscription(stack, sid)
    assert state["status"] == "ACTIVE" and state["period"] == 1 and state["failed"] == 0
    assert state["next"] == int(add_months(anchor, 2).timestamp())
    approved = [c for c in charges_for(stack, sid) if c["status"] == "DONE"]
    assert [c["orderId"][-5:] for c in approved] == ["p1-a2"]


def test_cancel_at_period_end_expires_at_the_boundary_without_a_charge(billing):
    stack = billing
    anchor = datetime(2031, 7, 1, 0, 0, tzinfo=SEOUL)
    [row] = insert_due_subscriptions(stack, 1, anchor)
    execute_script(stack, f"UPDATE subscriptions SET cancel_at_period_end = 1 WHERE id = '{row['id']}';")
    assert bill(stack, days_later(row["due"], -1))["expired"] == 0
    assert bill(stack, row["due"]) == {"charged": 0, "failed": 0, "pending": 0, "expired": 1}
    assert subscription(stack, row["id"])["status"] == "EXPIRED"
    assert charges_for(stack, row["id"]) == []


def test_timeout_after_toss_charged_is_pending_then_reconciled_once(billing):
    stack = billing
    anchor = datetime(2031, 8, 5, 10, 0, tzinfo=SEOUL)
    [row] = insert_due_subscriptions(stack, 1, anchor)
    fault(stack, match={"customerKey": row["customer_key"]}, action="timeout", latencyMs=8000, apply=True, count=1)
    fault(stack, match={"path": "/v1/payments/orders/*"}, action="error", status=500, code="COMMON_ERROR", message="x", count=1)
    assert bill(stack, row["due"])["pending"] == 1
    [[status]] = stack.query(f"SELECT status FROM payments WHERE subscription_id = '{row['id']}'")
    assert status == "PENDING"
    result = stack.run("reconcile", "--now", iso(days_later(row["due"], 1)))
    assert result.returncode == 0, result.stderr
    [[status]] = stack.query(f"SELECT status FROM payments WHERE subscription_id = '{row['id']}'")
    assert status == "COMPLETED"
    assert subscription(stack, row["id"])["period"] == 1
    assert bill(stack, row["due"])["charged"] == 0
    assert list(approved_by_order(stack.sandbox.url).get(c["orderId"]) for c in charges_for(stack, row["id"])) == [1]


def test_5xx_and_resets_leave_pending_and_the_next_pass_resends_the_same_order(billing):
    stack = billing
    anchor = datetime(2031, 9, 9, 9, 0, tzinfo=SEOUL)
    [row] = insert_due_subscriptions(stack, 1, anchor)
    fault(stack, match={"customerKey": row["customer_key"]}, action="error", status=500, code="FAILED_INTERNAL_SYSTEM_PROCESSING",
          message="busy", count=3)
    fault(stack, match={"customerKey": row["customer_key"]}, action="reset", apply=False, count=1)
    assert bill(stack, row["due"])["pending"] == 1, "three 5xx answers: retried with the same key, then left PENDING"
    assert bill(stack, row["due"])["pending"] == 1, "a reset after sending is ambiguous: looked up, not found, left PENDING"
    assert bill(stack, row["due"])["charged"] == 1
    orders = {c["orderId"] for c in charges_for(stack, row["id"])}
    assert orders == {"sub-" + row["id"].replace("-", "") + "-p1-a1"}
    assert approved_by_order(stack.sandbox.url)[orders.pop()] == 1


def test_billing_deleted_webhook_sends_the_next_charge_to_dunning_without_calling_toss(billing):
    stack = billing
    anchor = datetime(2031, 10, 3, 10, 0, tzinfo=SEOUL)
    [row] = insert_due_subscriptions(stack, 1, anchor)
    response = stack.new_client().post("/api/webhooks/toss", csrf=False, json={
        "eventType": "BILLING_DELETED", "createdAt": "2031-10-20T10:00:00.000000",
        "data": {"billingKey": row["billing_key"], "reason": "삭제 API 요청"}})
    assert response.status_code == 200, response.text
    assert subscription(stack, row["id"])["has_card"] is False
    calls_before = requests.get(stack.sandbox.url + "/sandbox/calls", timeout=10).json()
    assert bill(stack, row["due"])["failed"] == 1
    calls_after = requests.get(stack.sandbox.url + "/sandbox/calls", timeout=10).json()
    assert len(calls_after) == len(calls_before), "no Toss call for a subscription without a card"
    state = subscription(stack, row["id"])
    assert state["status"] == "PAST_DUE"
    [[code]] = stack.query(f"SELECT failure_code FROM payments WHERE subscription_id = '{row['id']}'")
    assert code == "NO_BILLING_KEY"


def test_a_plan_price_edit_does_not_reprice_current_subscribers(billing):
    """전자상거래법 시행령: a current subscriber's price rises only through a scheduled change they agree to."""
    stack = billing
    anchor = datetime(2031, 11, 11, 11, 0, tzinfo=SEOUL)
    [row] = insert_due_subscriptions(stack, 1, anchor, plan_type="PREMIUM")
    [[plan_id, price]] = stack.query("SELECT id, price FROM plans WHERE plan_type = 'PREMIUM'")
    try:
        # The price the subscriber signed up at (rows inserted here bypass activation, which records it).
        execute_script(stack, f"UPDATE subscriptions SET price = {int(price)} WHERE id = '{row['id']}';\n"
                              f"UPDATE plans SET price = 24900 WHERE id = '{plan_id}';")
        assert bill(stack, row["due"])["charged"] == 1
        [charge] = charges_for(stack, row["id"])
        assert charge["totalAmount"] == int(price)
    finally:
        execute_script(stack, f"UPDATE plans SET price = {int(price)} WHERE id = '{plan_id}';")


def test_bill_usage_errors_exit_2(billing):
    stack = billing
    assert stack.run("bill", "--now", "yesterday").returncode == 2
    assert stack.run("bill", "--concurrency", "0").returncode == 2
    assert stack.run("bill", "--bogus").returncode == 2
    assert stack.run("bill", "--help").returncode == 0


def test_bill_exits_1_when_the_database_is_unreachable(billing):
    stack = billing
    url = "postgres://nobody@127.0.0.1:1/none" if stack.db == "postgres" else "sqlite:///nonexistent-dir/deeper/x.sqlite3"
    result = stack.run("bill", env={"DATABASE_URL": url})
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert "password" not in result.stderr.lower() or "nobody" not in result.stderr


def test_an_unanswered_charge_is_looked_up_before_a_deleted_card_sends_it_to_dunning(billing):
    stack = billing
    anchor = datetime(2031, 12, 12, 12, 0, tzinfo=SEOUL)
    [row] = insert_due_subscriptions(stack, 1, anchor)
    fault(stack, match={"customerKey": row["customer_key"]}, action="timeout", latencyMs=8000, apply=True, count=1)
    fault(stack, match={"path": "/v1/payments/orders/*"}, action="error", status=500, code="COMMON_ERROR", message="x", count=1)
    assert bill(stack, row["due"])["pending"] == 1, "Toss charged the card but the answer was lost"
    response = stack.new_client().post("/api/webhooks/toss", csrf=False, json={
        "eventType": "BILLING_DELETED", "createdAt": "2032-01-12T12:00:00.000000", "data": {"billingKey": row["billing_key"]}})
    assert response.status_code == 200, response.text
    assert bill(stack, row["due"]) == {"charged": 1, "failed": 0, "pending": 0, "expired": 0}
    state = subscription(stack, row["id"])
    assert state["status"] == "ACTIVE" and state["period"] == 1
    [[status]] = stack.query(f"SELECT status FROM payments WHERE subscription_id = '{row['id']}'")
    assert status == "COMPLETED"
