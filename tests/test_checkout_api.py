"""Checkout through the API (SPEC §4 Subscriptions): every route and error code, on SQLite and PostgreSQL,
against the Toss sandbox over real HTTP."""

from __future__ import annotations

import itertools
import uuid

import pytest
import requests

pytestmark = pytest.mark.both_databases

DECLINE_AT_APPROVAL = "4000000000000036"
_names = itertools.count(1)


def sandbox_post(stack, path: str, body: dict) -> dict:
    response = requests.post(stack.sandbox.url + path, json=body, timeout=10)
    assert response.status_code in (200, 201), (path, response.status_code, response.text)
    return response.json()


def sandbox_calls(stack, order_id: str) -> list[dict]:
    response = requests.get(stack.sandbox.url + "/sandbox/calls", params={"orderId": order_id}, timeout=10)
    response.raise_for_status()
    data = response.json()
    return data["calls"] if isinstance(data, dict) else data


def new_customer(stack):
    name = f"buyer{next(_names)}_{uuid.uuid4().hex[:6]}"
    stack.create_user(name, "correct horse battery")
    return stack.login(name, "correct horse battery")


def plans(stack) -> dict[str, dict]:
    return {plan["plan_type"]: plan for plan in stack.client.get("/api/subscriptions/plans").json()}


def subscribe(client, plan_id: str) -> dict:
    response = client.post("/api/subscriptions/subscribe", json={"plan_id": plan_id})
    assert response.status_code == 201, response.text
    return response.json()


def checkout(client, subscription_id: str) -> dict:
    response = client.post(f"/api/subscriptions/{subscription_id}/checkout")
    assert response.status_code == 201, response.text
    return response.json()


def authorize(stack, order: dict, card: str = "4330123412341234") -> str:
    answer = sandbox_post(stack, "/sandbox/payments/authorize",
                          {"orderId": order["order_id"], "amount": order["amount"], "orderName": order["order_name"],
                           "customerKey": order["customer_key"], "cardNumber": card})
    return answer["paymentKey"]


def activate_by_confirm(stack, client, plan_type: str = "BASIC") -> tuple[dict, dict]:
    subscription = subscribe(client, plans(stack)[plan_type]["id"])
    order = checkout(client, subscription["id"])
    payment_key = authorize(stack, order)
    response = client.post("/api/subscriptions/payments/confirm",
                           json={"payment_key": payment_key, "order_id": order["order_id"], "amount": order["amount"]})
    assert response.status_code == 200, response.text
    return subscription, response.json()


def test_plans_need_no_login(stack):
    anonymous = stack.new_client()
    response = anonymous.get("/api/subscriptions/plans")
    assert response.status_code == 200
    assert {plan["plan_type"] for plan in response.json()} == {"BASIC", "PREMIUM", "ENTERPRISE"}


def test_subscription_routes_need_a_session(stack):
    anonymous = stack.new_client()
    for method, path in [("POST", "/api/subscriptions/subscribe"), ("POST", f"/api/subscriptions/{uuid.uuid4()}/checkout"),
                         ("POST", "/api/subscriptions/payments/confirm"), ("POST", "/api/subscriptions/billing/issue"),
                         ("GET", "/api/subscriptions/my-subscriptions"), ("GET", "/api/subscriptions/payments"),
                         ("POST", f"/api/subscriptions/cancel/{uuid.uuid4()}"), ("POST", f"/api/subscriptions/{uuid.uuid4()}/resume")]:
        response = anonymous.request(method, path, json={})
        assert response.status_code == 401, (method, path, response.status_code, response.text)
        assert response.json()["code"] == "NOT_AUTHENTICATED"


def test_subscribe_makes_a_pending_subscription_and_repeats_return_it(stack):
    client = new_customer(stack)
    plan = plans(stack)["BASIC"]
    first = subscribe(client, plan["id"])
    assert first["status"] == "PENDING"
    assert first["plan"] == plan
    assert 2 <= len(first["customer_key"]) <= 50
    assert first["card"] is None and first["next_billing_date"] is None
    again = subscribe(client, plan["id"])
    assert again["id"] == first["id"] and again["customer_key"] == first["customer_key"]


def test_subscribe_refuses_unknown_plans_and_bad_customer_keys(stack):
    client = new_customer(stack)
    for plan_id in [str(uuid.uuid4()), "not-a-uuid"]:
        response = client.post("/api/subscriptions/subscribe", json={"plan_id": plan_id})
        assert response.status_code == 404 and response.json()["code"] == "PLAN_NOT_FOUND", response.text
    response = client.post("/api/subscriptions/subscribe", json={"plan_id": plans(stack)["BASIC"]["id"], "customer_key": "bad key!"})
    assert response.status_code == 400, response.text
    response = client.post("/api/subscriptions/subscribe", json={"plan_id": 5})
    assert response.status_code == 400, response.text
    response = client.post("/api/subscriptions/subscribe", data="{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text


def test_checkout_order_comes_from_the_server(stack):
    client = new_customer(stack)
    plan = plans(stack)["PREMIUM"]
    subscription = subscribe(client, plan["id"])
    order = checkout(client, subscription["id"])
    assert order["amount"] == plan["price"] == 19900
    assert order["customer_key"] == subscription["customer_key"]
    assert order["success_url"].endswith("/api/subscriptions/payments/success")
    assert order["fail_url"].endswith("/api/subscriptions/payments/fail")
    assert 6 <= len(order["order_id"]) <= 64
    assert order["client_key"]
    assert checkout(client, subscription["id"])["order_id"] != order["order_id"]


def test_other_users_objects_are_404(stack):
    owner = new_customer(stack)
    subscription = subscribe(owner, plans(stack)["BASIC"]["id"])
    order = checkout(owner, subscription["id"])
    stranger = new_customer(stack)
    assert stranger.post(f"/api/subscriptions/{subscription['id']}/checkout").status_code == 404
    assert stranger.post(f"/api/subscriptions/cancel/{subscription['id']}", json={}).status_code == 404
    assert stranger.post(f"/api/subscriptions/{subscription['id']}/resume").status_code == 404
    response = stranger.post("/api/subscriptions/payments/confirm",
                             json={"payment_key": "x" * 20, "order_id": order["order_id"], "amount": order["amount"]})
    assert response.status_code == 404 and response.json()["code"] == "ORDER_NOT_FOUND"


def test_confirm_activates_with_the_first_period(stack):
    client = new_customer(stack)
    subscription, payment = activate_by_confirm(stack, client)
    assert payment["status"] == "COMPLETED" and payment["amount"] == 9900
    assert payment["payment_method"] == "카드" and payment["receipt_url"]
    [mine] = [s for s in client.get("/api/subscriptions/my-subscriptions").json() if s["id"] == subscription["id"]]
    assert mine["status"] == "ACTIVE"
    assert mine["start_date"] and mine["next_billing_date"] and mine["end_date"] == mine["next_billing_date"]
    assert mine["start_date"].endswith("+09:00")
    payments = client.get("/api/subscriptions/payments").json()
    assert [p["id"] for p in payments] == [payment["id"]]


def test_confirm_accepts_the_amount_as_a_digit_string_and_is_idempotent(stack):
    client = new_customer(stack)
    subscription = subscribe(client, plans(stack)["BASIC"]["id"])
    order = checkout(client, subscription["id"])
    payment_key = authorize(stack, order)
    body = {"payment_key": payment_key, "order_id": order["order_id"], "amount": str(order["amount"])}
    first = client.post("/api/subscriptions/payments/confirm", json=body)
    assert first.status_code == 200, first.text
    second = client.post("/api/subscriptions/payments/confirm", json=body)
    assert second.status_code == 200, second.text
    assert second.json() == first.json()
    confirms = [c for c in sandbox_calls(stack, order["order_id"]) if c["path"] == "/v1/payments/confirm"]
    assert len(confirms) == 1


def test_confirm_refuses_other_amount_types(stack):
    client = new_customer(stack)
    order = checkout(client, subscribe(client, plans(stack)["BASIC"]["id"])["id"])
    for amount in ["9,900", 9900.5, True, None, "", "12a"]:
        response = client.post("/api/subscriptions/payments/confirm",
                               json={"payment_key": "pk_x", "order_id": order["order_id"], "amount": amount})
        assert response.status_code == 400, (amount, response.text)


def test_amount_mismatch_is_refused_before_toss_is_called(stack):
    client = new_customer(stack)
    order = checkout(client, subscribe(client, plans(stack)["BASIC"]["id"])["id"])
    payment_key = authorize(stack, order)
    response = client.post("/api/subscriptions/payments/confirm",
                           json={"payment_key": payment_key, "order_id": order["order_id"], "amount": 100})
    assert response.status_code == 400 and response.json()["code"] == "AMOUNT_MISMATCH"
    assert [c for c in sandbox_calls(stack, order["order_id"]) if c["path"] == "/v1/payments/confirm"] == []


def test_unknown_order_is_404(stack):
    client = new_customer(stack)
    response = client.post("/api/subscriptions/payments/confirm", json={"payment_key": "pk", "order_id": "ord_nope123", "amount": 9900})
    assert response.status_code == 404 and response.json()["code"] == "ORDER_NOT_FOUND"


def test_toss_refusal_is_400_with_tosss_code(stack):
    client = new_customer(stack)
    subscription = subscribe(client, plans(stack)["BASIC"]["id"])
    order = checkout(client, subscription["id"])
    payment_key = authorize(stack, order, card=DECLINE_AT_APPROVAL)
    response = client.post("/api/subscriptions/payments/confirm",
                           json={"payment_key": payment_key, "order_id": order["order_id"], "amount": order["amount"]})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "REJECT_CARD_PAYMENT"
    [mine] = client.get("/api/subscriptions/my-subscriptions").json()
    assert mine["status"] == "PENDING"
    [payment] = client.get("/api/subscriptions/payments").json()
    assert payment["status"] == "FAILED" and payment["failure_code"] == "REJECT_CARD_PAYMENT"


def test_toss_unreachable_is_502_and_the_payment_stays_pending_until_confirmed(stack):
    client = new_customer(stack)
    subscription = subscribe(client, plans(stack)["BASIC"]["id"])
    order = checkout(client, subscription["id"])
    payment_key = authorize(stack, order)
    sandbox_post(stack, "/sandbox/faults", {"match": {"orderId": order["order_id"]}, "action": "error", "status": 503,
                                            "code": "FAILED_INTERNAL_SYSTEM_PROCESSING", "message": "temporarily down", "count": 1})
    body = {"payment_key": payment_key, "order_id": order["order_id"], "amount": order["amount"]}
    response = client.post("/api/subscriptions/payments/confirm", json=body)
    assert response.status_code == 502 and response.json()["code"] == "PG_UNAVAILABLE", response.text
    [payment] = client.get("/api/subscriptions/payments").json()
    assert payment["status"] == "PENDING"
    retried = client.post("/api/subscriptions/payments/confirm", json=body)
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "COMPLETED"
    assert client.get("/api/subscriptions/my-subscriptions").json()[0]["status"] == "ACTIVE"


def test_a_timeout_that_toss_executed_is_settled_by_looking_the_order_up(stack):
    client = new_customer(stack)
    order = checkout(client, subscribe(client, plans(stack)["BASIC"]["id"])["id"])
    payment_key = authorize(stack, order)
    sandbox_post(stack, "/sandbox/faults", {"match": {"orderId": order["order_id"], "path": "/v1/payments/confirm"},
                                            "action": "timeout", "latencyMs": 5000, "apply": True, "count": 1})
    response = client.post("/api/subscriptions/payments/confirm",
                           json={"payment_key": payment_key, "order_id": order["order_id"], "amount": order["amount"]})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "COMPLETED"


def test_second_subscription_is_refused_while_one_is_active(stack):
    client = new_customer(stack)
    activate_by_confirm(stack, client)
    response = client.post("/api/subscriptions/subscribe", json={"plan_id": plans(stack)["PREMIUM"]["id"]})
    assert response.status_code == 409 and response.json()["code"] == "ALREADY_SUBSCRIBED"


def test_billing_issue_registers_the_card_and_charges_the_first_period(stack):
    client = new_customer(stack)
    subscription = subscribe(client, plans(stack)["BASIC"]["id"])
    auth = sandbox_post(stack, "/sandbox/billing/authorize", {"customerKey": subscription["customer_key"], "cardNumber": "4330123412341234"})
    response = client.post("/api/subscriptions/billing/issue",
                           json={"customer_key": subscription["customer_key"], "auth_key": auth["authKey"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["subscription"]["status"] == "ACTIVE"
    assert body["card"]["number"] == "43301234****123*" and body["card"]["company"]
    keys = requests.get(stack.sandbox.url + "/sandbox/billing-keys", timeout=10).json()
    raw_keys = [k["billingKey"] for k in (keys["billingKeys"] if isinstance(keys, dict) else keys)]
    assert raw_keys and not any(key in response.text for key in raw_keys)
    [payment] = client.get("/api/subscriptions/payments").json()
    assert payment["status"] == "COMPLETED" and payment["amount"] == 9900
    for key in raw_keys:
        assert key not in stack.log_text()
        assert not any(key in str(cell) for row in stack.query("SELECT * FROM subscriptions") for cell in row)


def test_billing_issue_with_a_declining_card_leaves_the_subscription_pending(stack):
    client = new_customer(stack)
    subscription = subscribe(client, plans(stack)["BASIC"]["id"])
    auth = sandbox_post(stack, "/sandbox/billing/authorize", {"customerKey": subscription["customer_key"], "cardNumber": DECLINE_AT_APPROVAL})
    response = client.post("/api/subscriptions/billing/issue",
                           json={"customer_key": subscription["customer_key"], "auth_key": auth["authKey"]})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "REJECT_CARD_PAYMENT"
    assert client.get("/api/subscriptions/my-subscriptions").json()[0]["status"] == "PENDING"


def test_billing_issue_for_an_unknown_customer_key_is_404(stack):
    client = new_customer(stack)
    response = client.post("/api/subscriptions/billing/issue", json={"customer_key": "cus_unknown", "auth_key": "x"})
    assert response.status_code == 404


def test_cancel_at_period_end_resume_and_cancel_now(stack):
    client = new_customer(stack)
    subscription, _ = activate_by_confirm(stack, client)
    sid = subscription["id"]
    response = client.post(f"/api/subscriptions/cancel/{sid}")
    assert response.status_code == 200, response.text
    cancelled = response.json()["subscription"]
    assert response.json()["message"]
    assert cancelled["status"] == "ACTIVE" and cancelled["cancel_at_period_end"] is True
    resumed = client.post(f"/api/subscriptions/{sid}/resume")
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["subscription"]["cancel_at_period_end"] is False
    assert resumed.json()["subscription"]["next_billing_date"]
    assert client.post(f"/api/subscriptions/{sid}/resume").status_code == 400
    now = client.post(f"/api/subscriptions/cancel/{sid}", json={"at_period_end": False})
    assert now.status_code == 200 and now.json()["subscription"]["status"] == "CANCELLED"
    again = client.post(f"/api/subscriptions/cancel/{sid}", json={"at_period_end": False})
    assert again.status_code == 400 and again.json()["code"] == "NOT_ACTIVE"


def test_cancel_of_a_pending_subscription_is_not_active(stack):
    client = new_customer(stack)
    subscription = subscribe(client, plans(stack)["BASIC"]["id"])
    response = client.post(f"/api/subscriptions/cancel/{subscription['id']}", json={"at_period_end": True})
    assert response.status_code == 400 and response.json()["code"] == "NOT_ACTIVE"


def test_success_redirect_confirms_and_a_refresh_does_not_fail(stack):
    client = new_customer(stack)
    order = checkout(client, subscribe(client, plans(stack)["BASIC"]["id"])["id"])
    payment_key = authorize(stack, order)
    params = {"paymentKey": payment_key, "orderId": order["order_id"], "amount": str(order["amount"])}
    for _ in range(2):
        response = client.get("/api/subscriptions/payments/success", params=params, allow_redirects=False)
        assert response.status_code == 303, response.text
        assert response.headers["Location"].startswith("/account")
    assert client.get("/api/subscriptions/my-subscriptions").json()[0]["status"] == "ACTIVE"


def test_success_redirect_with_a_wrong_amount_shows_an_error_page(stack):
    client = new_customer(stack)
    order = checkout(client, subscribe(client, plans(stack)["BASIC"]["id"])["id"])
    payment_key = authorize(stack, order)
    response = client.get("/api/subscriptions/payments/success",
                          params={"paymentKey": payment_key, "orderId": order["order_id"], "amount": "1"}, allow_redirects=False)
    assert response.status_code == 400
    assert "text/html" in response.headers["Content-Type"] and "AMOUNT_MISMATCH" in response.text


def test_fail_redirect_explains_and_marks_the_order_failed(stack):
    client = new_customer(stack)
    order = checkout(client, subscribe(client, plans(stack)["BASIC"]["id"])["id"])
    response = client.get("/api/subscriptions/payments/fail",
                          params={"code": "REJECT_CARD_COMPANY", "message": "결제 승인이 거절되었습니다", "orderId": order["order_id"]})
    assert response.status_code == 200 and "결제 승인이 거절되었습니다" in response.text and "REJECT_CARD_COMPANY" in response.text
    [[status]] = stack.query(f"SELECT status FROM orders WHERE order_id = '{order['order_id']}'")
    assert status == "FAILED"
    cancelled = client.get("/api/subscriptions/payments/fail", params={"code": "PAY_PROCESS_CANCELED", "message": "취소"})
    assert cancelled.status_code == 200 and "취소" in cancelled.text


def test_billing_success_redirect_issues_and_redirects(stack):
    client = new_customer(stack)
    subscription = subscribe(client, plans(stack)["BASIC"]["id"])
    auth = sandbox_post(stack, "/sandbox/billing/authorize", {"customerKey": subscription["customer_key"], "cardNumber": "4330123412341234"})
    response = client.get("/api/subscriptions/billing/success",
                          params={"customerKey": subscription["customer_key"], "authKey": auth["authKey"]}, allow_redirects=False)
    assert response.status_code == 303, response.text
    assert client.get("/api/subscriptions/my-subscriptions").json()[0]["status"] == "ACTIVE"
    fail = client.get("/api/subscriptions/billing/fail", params={"code": "PAY_PROCESS_CANCELED", "message": "사용자 취소"})
    assert fail.status_code == 200 and "사용자 취소" in fail.text


def test_my_subscriptions_and_payments_are_newest_first_even_within_one_second(stack):
    client = new_customer(stack)
    first, _ = activate_by_confirm(stack, client)
    assert client.post(f"/api/subscriptions/cancel/{first['id']}", json={"at_period_end": False}).status_code == 200
    second, _ = activate_by_confirm(stack, client, plan_type="PREMIUM")
    listed = client.get("/api/subscriptions/my-subscriptions").json()
    assert [s["id"] for s in listed] == [second["id"], first["id"]]
    payments = client.get("/api/subscriptions/payments").json()
    assert [p["subscription_id"] for p in payments] == [second["id"], first["id"]]
