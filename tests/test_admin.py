"""The back office (SPEC §5 /admin, issue "Back office, refunds"): the staff guard on every admin route, every list filter
and search, refunds against the Toss sandbox (partials down to zero, over-refunds refused before Toss is called),
plan management, the audit log, the dashboard's figures for a hand-made fixture, and `gudok seed --demo-history`.
On SQLite and PostgreSQL, through nginx."""

from __future__ import annotations

import itertools
import re
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from billing_support import execute_script, sql_text
from gudok_harness import enabled_databases

pytestmark = pytest.mark.both_databases

SEOUL = ZoneInfo("Asia/Seoul")
PASSWORD = "correct horse battery"
APPROVING_CARD = "4330123412341234"
_names = itertools.count(1)
ANY_ID = str(uuid.uuid4())

ADMIN_PAGES_GET = ["/admin", "/admin/plans", "/admin/plans/new", f"/admin/plans/{ANY_ID}", "/admin/subscriptions",
                   f"/admin/subscriptions/{ANY_ID}", "/admin/payments", f"/admin/payments/{ANY_ID}", "/admin/users",
                   f"/admin/users/{ANY_ID}", "/admin/webhook-events", f"/admin/webhook-events/{ANY_ID}", "/admin/coupons"]
ADMIN_PAGES_POST = ["/admin/plans", f"/admin/plans/{ANY_ID}", f"/admin/plans/{ANY_ID}/deactivate", f"/admin/plans/{ANY_ID}/activate",
                    f"/admin/plans/{ANY_ID}/delete", f"/admin/payments/{ANY_ID}/refund", f"/admin/subscriptions/{ANY_ID}/cancel",
                    f"/admin/plans/{ANY_ID}/price-changes", f"/admin/price-changes/{ANY_ID}/withdraw", "/admin/coupons",
                    f"/admin/coupons/{ANY_ID}/deactivate"]
ADMIN_API = [("GET", "/api/admin/dashboard"), ("GET", "/api/admin/plans"), ("POST", "/api/admin/plans"),
             ("GET", "/api/admin/plans/{plan_id}"), ("POST", "/api/admin/plans/{plan_id}"),
             ("POST", "/api/admin/plans/{plan_id}/deactivate"), ("POST", "/api/admin/plans/{plan_id}/activate"),
             ("DELETE", "/api/admin/plans/{plan_id}"), ("GET", "/api/admin/subscriptions"),
             ("GET", "/api/admin/subscriptions/{subscription_id}"), ("POST", "/api/admin/subscriptions/{subscription_id}/cancel"),
             ("GET", "/api/admin/payments"), ("GET", "/api/admin/payments/{payment_id}"),
             ("POST", "/api/admin/payments/{payment_id}/refund"), ("GET", "/api/admin/users"), ("GET", "/api/admin/users/{user_id}"),
             ("GET", "/api/admin/webhook-events"), ("GET", "/api/admin/webhook-events/{event_id}"),
             ("GET", "/api/admin/plans/{plan_id}/price-changes"), ("POST", "/api/admin/plans/{plan_id}/price-changes"),
             ("DELETE", "/api/admin/price-changes/{price_change_id}"), ("GET", "/api/admin/coupons"), ("POST", "/api/admin/coupons"),
             ("POST", "/api/admin/coupons/{coupon_id}/deactivate"), ("POST", "/api/admin/subscriptions/{subscription_id}/coupon")]


def unique(prefix: str) -> str:
    return f"{prefix}{next(_names)}_{uuid.uuid4().hex[:6]}"


def concrete(path: str) -> str:
    return re.sub(r"\{[a-z_]+\}", ANY_ID, path)


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text[:400]}"
    body = response.json()
    assert isinstance(body.get("message"), str) and body["message"], body
    if code:
        assert body["code"] == code, body
    return body


def seconds(year, month, day, hour=0, minute=0, second=0) -> int:
    return int(datetime(year, month, day, hour, minute, second, tzinfo=SEOUL).timestamp())


def insert(table: str, row: dict) -> str:
    return f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join(sql_text(v) for v in row.values())});"


def plan_ids(stack) -> dict[str, str]:
    return {plan_type: plan_id for plan_id, plan_type in stack.query("SELECT id, plan_type FROM plans WHERE sort_order < 3")}


@pytest.fixture(scope="module")
def staff(stack):
    name = unique("staff")
    stack.create_user(name, PASSWORD, staff=True)
    client = stack.login(name, PASSWORD)
    client.username = name
    return client


@pytest.fixture(scope="module")
def member(stack):
    name = unique("member")
    stack.create_user(name, PASSWORD)
    return stack.login(name, PASSWORD)


# ---------------------------------------------------------------- the staff guard


def test_anonymous_pages_redirect_to_sign_in(stack):
    anonymous = stack.new_client()
    for path in ADMIN_PAGES_GET:
        response = anonymous.get(path, allow_redirects=False)
        assert response.status_code == 302, (path, response.status_code)
        assert response.headers["Location"].startswith("/accounts/login?next="), (path, response.headers["Location"])
    for path in ADMIN_PAGES_POST:
        response = anonymous.post(path, data={"csrfmiddlewaretoken": anonymous.csrf_token()}, allow_redirects=False)
        assert response.status_code == 302 and response.headers["Location"].startswith("/accounts/login"), (path, response.status_code)


def test_non_staff_get_404_on_every_admin_page_and_api(stack, member):
    for path in ADMIN_PAGES_GET:
        response = member.get(path, allow_redirects=False)
        assert response.status_code == 404, (path, response.status_code)
        assert response.headers["Content-Type"].startswith("text/html"), path
    for path in ADMIN_PAGES_POST:
        assert member.post(path, data={"reason": "x"}, allow_redirects=False).status_code == 404, path
    for method, path in ADMIN_API:
        assert_error(member.request(method, concrete(path), json={"reason": "x", "name": "x"}), 404)


def test_anonymous_api_calls_get_401(stack):
    anonymous = stack.new_client()
    for method, path in ADMIN_API:
        assert_error(anonymous.request(method, concrete(path), json={}), 401, "NOT_AUTHENTICATED")


def test_every_admin_api_route_is_guarded_by_these_tests(stack, staff):
    """The OpenAPI document lists every JSON route; none under /api/admin may escape the lists above."""
    document = staff.get("/api/openapi.json").json()
    served = {(method.upper(), path) for path, item in document["paths"].items() if path.startswith("/api/admin")
              for method in item}
    assert served == set(ADMIN_API), served ^ set(ADMIN_API)


def test_staff_see_every_page_and_unsafe_calls_need_csrf(stack, staff):
    for path in ["/admin", "/admin/plans", "/admin/plans/new", "/admin/subscriptions", "/admin/payments", "/admin/users",
                 "/admin/webhook-events", "/admin/coupons"]:
        response = staff.get(path)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
        assert 'class="admin-nav"' in response.text and "<script" not in response.text, path
        assert "script-src 'none'" in response.headers.get("Content-Security-Policy", ""), path
    assert_error(staff.post("/api/admin/plans", json={"name": "x"}, csrf=False), 403, "CSRF_FAILED")
    assert staff.post("/admin/plans", data={"name": "x"}, csrf=False, allow_redirects=False).status_code == 403
    assert_error(staff.get(f"/api/admin/payments/{ANY_ID}"), 404, "PAYMENT_NOT_FOUND")
    assert_error(staff.get("/api/admin/payments/not-a-uuid"), 404, "PAYMENT_NOT_FOUND")


# ---------------------------------------------------------------- filters and search


@pytest.fixture(scope="module")
def catalogue(stack):
    """Hand-made rows in January 2019 (no other test writes then), so every filter has an exact expected answer."""
    tag = uuid.uuid4().hex[:8]
    plans = plan_ids(stack)
    quarterly = str(uuid.uuid4())
    users = {name: str(uuid.uuid4()) for name in ("alice", "bob", "carol")}
    subs = {name: str(uuid.uuid4()) for name in ("s1", "s2", "s3", "s4")}
    pays = {name: str(uuid.uuid4()) for name in ("p1", "p2", "p3", "p4", "p5")}
    events = {name: str(uuid.uuid4()) for name in ("w1", "w2", "w3")}
    rows = [insert("plans", {"id": quarterly, "name": f"분기 플랜 {tag}", "plan_type": "BASIC", "price": 30000, "currency": "KRW",
                             "billing_cycle": "QUARTERLY", "features": "[]", "is_active": 0, "sort_order": 90,
                             "created_at": seconds(2019, 1, 2), "updated_at": seconds(2019, 1, 2)})]
    for name, day, staff_flag in (("alice", 3, 0), ("bob", 10, 0), ("carol", 20, 1)):
        username = f"{name}_{tag}"
        rows.append(insert("users", {"id": users[name], "username": username, "username_key": username,
                                     "email": f"{name}.{tag}@corp.example" if name != "bob" else f"bobby{tag}@home.example",
                                     "password_hash": "!", "is_staff": staff_flag, "is_active": 1, "created_at": seconds(2019, 1, day, 9)}))
    for sid, user, plan, status, day in (("s1", "alice", plans["BASIC"], "ACTIVE", 5), ("s2", "bob", plans["PREMIUM"], "CANCELLED", 12),
                                         ("s3", "carol", plans["ENTERPRISE"], "PAST_DUE", 21), ("s4", "alice", quarterly, "EXPIRED", 25)):
        rows.append(insert("subscriptions", {"id": subs[sid], "user_id": users[user], "plan_id": plan, "status": status,
                                             "customer_key": f"ck_{tag}_{sid}", "anchor_at": seconds(2019, 1, day, 10),
                                             "start_date": seconds(2019, 1, day, 10), "card_company": "현대",
                                             "card_number": "43301234****123*", "created_at": seconds(2019, 1, day, 10),
                                             "updated_at": seconds(2019, 1, day, 10)}))
    for pid, sid, user, amount, status, method, refunded, created in (
            ("p1", "s1", "alice", 9900, "COMPLETED", "카드", 0, seconds(2019, 1, 5, 10)),
            ("p2", "s2", "bob", 19900, "FAILED", None, 0, seconds(2019, 1, 12, 10)),
            ("p3", "s2", "bob", 19900, "PARTIAL_CANCELLED", "간편결제", 5000, seconds(2019, 1, 13, 23, 30)),
            ("p4", "s3", "carol", 199000, "COMPLETED", "계좌이체", 0, seconds(2019, 1, 22, 10)),
            ("p5", "s4", "alice", 30000, "CANCELLED", "카드", 30000, seconds(2019, 1, 26, 10))):
        paid = status != "FAILED"
        rows.append(insert("payments", {"id": pays[pid], "subscription_id": subs[sid], "user_id": users[user], "payment_type": "SUBSCRIPTION",
                                        "amount": amount, "status": status, "order_id": f"ord_{tag}_{pid}", "order_name": "fixture",
                                        "payment_key": f"pk_{tag}_{pid}" if paid else None, "period_index": int(pid[1]), "attempt": 1,
                                        "payment_method": method, "paid_at": created if paid else None,
                                        "failure_code": None if paid else "REJECT_CARD_PAYMENT",
                                        "failure_reason": None if paid else "한도초과", "refunded_amount": refunded,
                                        "created_at": created, "updated_at": created}))
    for wid, kind, payment, outcome, day in (("w1", "PAYMENT_STATUS_CHANGED", "p1", "APPLIED", 6), ("w2", "BILLING_DELETED", None, "IGNORED", 7),
                                             ("w3", "PAYMENT_STATUS_CHANGED", "p3", "UNKNOWN_PAYMENT", 14)):
        rows.append(insert("webhook_events", {"id": events[wid], "transmission_id": f"tx_{tag}_{wid}", "event_type": kind,
                                              "payment_key": f"pk_{tag}_{payment}" if payment else None, "received_at": seconds(2019, 1, day, 12),
                                              "payload": "{}", "outcome": outcome, "detail": "fixture"}))
    # 55 more events in June 2018, for pagination.
    for n in range(55):
        rows.append(insert("webhook_events", {"id": str(uuid.uuid4()), "transmission_id": f"tx_{tag}_page_{n:02d}", "event_type": "PAGE_TEST",
                                              "payment_key": None, "received_at": seconds(2018, 6, 1) + n * 60, "payload": "{}",
                                              "outcome": "IGNORED", "detail": None}))
    execute_script(stack, "\n".join(rows))
    return {"tag": tag, "users": users, "subs": subs, "pays": pays, "events": events, "quarterly": quarterly}


JANUARY = {"from": "2019-01-01", "to": "2019-01-31"}


def listed(client, path: str, **params) -> list[dict]:
    response = client.get(path, params={**JANUARY, **params})
    assert response.status_code == 200, (path, params, response.status_code, response.text[:300])
    body = response.json()
    assert set(body) == {"items", "page", "per_page", "has_next"}, body.keys()
    return body["items"]


def ids(items: list[dict], key: str = "id") -> set[str]:
    return {item[key] for item in items}


def test_payment_filters_and_search_return_exactly_the_matching_rows(stack, staff, catalogue):
    p, tag = catalogue["pays"], catalogue["tag"]
    expect = {
        (): {"p1", "p2", "p3", "p4", "p5"},
        (("status", "COMPLETED"),): {"p1", "p4"},
        (("status", "partial_cancelled"),): {"p3"},
        (("status", "FAILED"),): {"p2"},
        (("method", "카드"),): {"p1", "p5"},
        (("method", "간편결제"),): {"p3"},
        (("plan_type", "PREMIUM"),): {"p2", "p3"},
        (("plan_type", "BASIC"),): {"p1", "p5"},
        (("cycle", "YEARLY"),): {"p4"},
        (("cycle", "QUARTERLY"),): {"p5"},
        (("status", "COMPLETED"), ("method", "카드")): {"p1"},
        (("q", f"alice_{tag}"),): {"p1", "p5"},
        (("q", f"ALICE_{tag.upper()}"),): {"p1", "p5"},
        (("q", f"bobby{tag}@home"),): {"p2", "p3"},
        (("q", f"ck_{tag}_s3"),): {"p4"},
        (("q", f"ord_{tag}_p3"),): {"p3"},
        (("q", f"pk_{tag}_p4"),): {"p4"},
        (("q", "no-such-thing-anywhere"),): set(),
        (("q", "%"),): set(),
        (("from", "2019-01-12"), ("to", "2019-01-13")): {"p2", "p3"},
        (("from", "2019-01-13"), ("to", "2019-01-13")): {"p3"},
    }
    for params, wanted in expect.items():
        got = ids(listed(staff, "/api/admin/payments", **dict(params)))
        assert got == {p[name] for name in wanted}, (params, got)
    [row] = listed(staff, "/api/admin/payments", q=f"ord_{tag}_p3")
    assert row["payment_key"] == f"pk_{tag}_p3" and row["refunded_amount"] == 5000 and row["refundable_amount"] == 14900
    assert row["user"]["username"] == f"bob_{tag}" and row["customer_key"] == f"ck_{tag}_s2"


def test_payment_sorting_is_whitelisted(stack, staff, catalogue):
    amounts = [row["amount"] for row in listed(staff, "/api/admin/payments", sort="amount")]
    assert amounts == sorted(amounts) == [9900, 19900, 19900, 30000, 199000]
    assert [row["amount"] for row in listed(staff, "/api/admin/payments", sort="-amount")] == sorted(amounts, reverse=True)
    newest_first = [row["created_at"] for row in listed(staff, "/api/admin/payments")]
    assert newest_first == sorted(newest_first, reverse=True)
    paid = [row["paid_at"] for row in listed(staff, "/api/admin/payments", sort="paid_at")]
    assert paid[-1] is None and paid[:-1] == sorted(paid[:-1]), "unpaid rows sort last"
    for bad in ["password_hash", "amount;DROP TABLE payments", "-id", "pa.amount"]:
        assert_error(staff.get("/api/admin/payments", params={"sort": bad}), 400, "INVALID_SORT")
    assert_error(staff.get("/api/admin/payments", params={"status": "PAST_DUE"}), 400, "INVALID_FILTER")
    assert_error(staff.get("/api/admin/payments", params={"from": "yesterday"}), 400, "INVALID_FILTER")
    assert_error(staff.get("/api/admin/payments", params={"page": "0"}), 400, "INVALID_PAGE")
    assert_error(staff.get("/api/admin/payments", params={"page": "100000"}), 400, "INVALID_PAGE")


def test_subscription_filters_and_search(stack, staff, catalogue):
    s, tag, p = catalogue["subs"], catalogue["tag"], catalogue["pays"]
    expect = {
        (): {"s1", "s2", "s3", "s4"},
        (("status", "ACTIVE"),): {"s1"},
        (("status", "PAST_DUE"),): {"s3"},
        (("status", "EXPIRED"),): {"s4"},
        (("plan_type", "BASIC"),): {"s1", "s4"},
        (("cycle", "YEARLY"),): {"s3"},
        (("cycle", "MONTHLY"),): {"s1", "s2"},
        (("method", "간편결제"),): {"s2"},
        (("q", f"bob_{tag}"),): {"s2"},
        (("q", f"ck_{tag}_s1"),): {"s1"},
        (("q", f"corp.example"),): {"s1", "s3", "s4"},
        (("q", f"ord_{tag}_p4"),): {"s3"},
        (("q", f"pk_{tag}_p5"),): {"s4"},
        (("from", "2019-01-20"), ("to", "2019-01-31")): {"s3", "s4"},
    }
    for params, wanted in expect.items():
        got = ids(listed(staff, "/api/admin/subscriptions", **dict(params)))
        assert got == {s[name] for name in wanted}, (params, got)
    [row] = listed(staff, "/api/admin/subscriptions", q=f"ck_{tag}_s2")
    assert row["card"] == {"company": "현대", "number": "43301234****123*", "billing_key_registered": False}
    assert "billing_key" not in str(row).replace("billing_key_registered", "")
    usernames = [row["user"]["username"] for row in listed(staff, "/api/admin/subscriptions", sort="username")]
    assert usernames == sorted(usernames)
    detail = staff.get(f"/api/admin/subscriptions/{s['s2']}").json()
    assert [payment["id"] for payment in detail["payments"]] == [p["p3"], p["p2"]]


def test_user_filters_and_search(stack, staff, catalogue):
    u, tag = catalogue["users"], catalogue["tag"]
    expect = {
        (): {"alice", "bob", "carol"},
        (("staff", "1"),): {"carol"},
        (("staff", "0"),): {"alice", "bob"},
        (("status", "CANCELLED"),): {"bob"},
        (("status", "ACTIVE"),): {"alice"},
        (("plan_type", "ENTERPRISE"),): {"carol"},
        (("cycle", "QUARTERLY"),): {"alice"},
        (("method", "계좌이체"),): {"carol"},
        (("q", "corp.example"),): {"alice", "carol"},
        (("q", f"ck_{tag}_s2"),): {"bob"},
        (("q", f"pk_{tag}_p1"),): {"alice"},
        (("q", f"ord_{tag}_p4"),): {"carol"},
        (("from", "2019-01-09"), ("to", "2019-01-15")): {"bob"},
    }
    for params, wanted in expect.items():
        got = ids(listed(staff, "/api/admin/users", **dict(params)))
        assert got == {u[name] for name in wanted}, (params, got)
    [alice] = listed(staff, "/api/admin/users", q=f"alice_{tag}")
    assert alice["subscription_count"] == 2 and alice["latest_subscription_status"] == "EXPIRED"
    assert "password_hash" not in alice
    names = [row["username"] for row in listed(staff, "/api/admin/users", sort="-username")]
    assert names == sorted(names, reverse=True)


def test_webhook_event_filters_search_and_pagination(stack, staff, catalogue):
    w, tag = catalogue["events"], catalogue["tag"]
    expect = {
        (("q", tag),): {"w1", "w2", "w3"},
        (("type", "BILLING_DELETED"), ("q", tag)): {"w2"},
        (("status", "APPLIED"), ("q", tag)): {"w1"},
        (("q", f"tx_{tag}_w3"),): {"w3"},
        (("q", f"pk_{tag}_p1"),): {"w1"},
    }
    for params, wanted in expect.items():
        got = ids(listed(staff, "/api/admin/webhook-events", **dict(params)))
        assert got == {w[name] for name in wanted}, (params, got)
    june = {"from": "2018-06-01", "to": "2018-06-30", "type": "PAGE_TEST"}
    first = staff.get("/api/admin/webhook-events", params=june).json()
    second = staff.get("/api/admin/webhook-events", params={**june, "page": 2}).json()
    assert (len(first["items"]), first["has_next"], first["per_page"]) == (50, True, 50)
    assert (len(second["items"]), second["has_next"], second["page"]) == (5, False, 2)
    everything = [row["transmission_id"] for row in first["items"] + second["items"]]
    assert everything == [f"tx_{tag}_page_{n:02d}" for n in reversed(range(55))], "newest first, no row lost or repeated"
    detail = staff.get(f"/api/admin/webhook-events/{w['w1']}").json()
    assert detail["payload"] == {} and detail["outcome"] == "APPLIED"


def test_plan_filters(stack, staff, catalogue):
    tag, quarterly = catalogue["tag"], catalogue["quarterly"]
    response = staff.get("/api/admin/plans", params={"q": tag, "cycle": "QUARTERLY", "status": "INACTIVE"})
    assert [plan["id"] for plan in response.json()["items"]] == [quarterly]
    [plan] = response.json()["items"]
    assert (plan["subscription_count"], plan["active_subscription_count"], plan["is_active"]) == (1, 0, False)
    assert staff.get("/api/admin/plans", params={"q": tag, "status": "ACTIVE"}).json()["items"] == []
    prices = [plan["price"] for plan in staff.get("/api/admin/plans", params={"sort": "-price"}).json()["items"]]
    assert prices == sorted(prices, reverse=True)


def test_list_pages_show_the_filtered_rows(stack, staff, catalogue):
    p, tag = catalogue["pays"], catalogue["tag"]
    page = staff.get("/admin/payments", params={**JANUARY, "status": "COMPLETED"})
    assert page.status_code == 200
    shown = set(re.findall(r'data-payment-id="([0-9a-f-]+)"', page.text))
    assert shown == {p["p1"], p["p4"]}, shown
    assert 'name="status"' in page.text and '<option value="COMPLETED" selected>' in page.text
    assert "sort=amount" in page.text or "sort=-amount" in page.text
    users = staff.get("/admin/users", params={"q": f"carol_{tag}"}).text
    assert f"carol_{tag}" in users and f"alice_{tag}" not in users
    assert staff.get("/admin/payments", params={"sort": "nope"}).status_code == 400
    detail = staff.get(f"/admin/subscriptions/{catalogue['subs']['s2']}").text
    assert "43301234****123*" in detail and 'id="timeline"' in detail and 'id="periods"' in detail


# ---------------------------------------------------------------- refunds against the sandbox


def customer(stack):
    name = unique("buyer")
    stack.create_user(name, PASSWORD)
    return stack.login(name, PASSWORD)


def paid_payment(stack, plan_type: str = "BASIC"):
    """Sign-up, subscribe, register a card in the sandbox: the first period is charged at once."""
    client = customer(stack)
    plans = {plan["plan_type"]: plan for plan in client.get("/api/subscriptions/plans").json()}
    subscription = client.post("/api/subscriptions/subscribe", json={"plan_id": plans[plan_type]["id"]}).json()
    auth = requests.post(stack.sandbox.url + "/sandbox/billing/authorize",
                         json={"customerKey": subscription["customer_key"], "cardNumber": APPROVING_CARD}, timeout=10)
    assert auth.status_code == 200, auth.text
    issued = client.post("/api/subscriptions/billing/issue", json={"customer_key": subscription["customer_key"], "auth_key": auth.json()["authKey"]})
    assert issued.status_code == 200, issued.text
    [payment] = client.get("/api/subscriptions/payments").json()
    assert payment["status"] == "COMPLETED", payment
    return client, issued.json()["subscription"], payment


def cancel_calls(stack, payment_key: str) -> list[dict]:
    response = requests.get(stack.sandbox.url + "/sandbox/calls", params={"path": f"/v1/payments/{payment_key}/cancel"}, timeout=10)
    response.raise_for_status()
    data = response.json()
    return data["calls"] if isinstance(data, dict) else data


def payment_key(staff, payment_id: str) -> str:
    return staff.get(f"/api/admin/payments/{payment_id}").json()["payment"]["payment_key"]


def refund(staff, payment_id: str, **body):
    return staff.post(f"/api/admin/payments/{payment_id}/refund", json={"reason": "고객 요청", **body})


def test_partial_refunds_down_to_zero_end_cancelled(stack, staff):
    client, _, payment = paid_payment(stack)
    key = payment_key(staff, payment["id"])
    first = refund(staff, payment["id"], amount=3000)
    assert first.status_code == 200, first.text
    assert set(first.json()) == {"id", "subscription_id", "payment_type", "amount", "status", "order_id", "payment_method", "paid_at",
                                 "failure_code", "failure_reason", "refunded_amount", "receipt_url", "created_at", "invoice_id"}
    assert (first.json()["status"], first.json()["refunded_amount"]) == ("PARTIAL_CANCELLED", 3000)
    second = refund(staff, payment["id"], amount=3000)
    assert (second.json()["status"], second.json()["refunded_amount"]) == ("PARTIAL_CANCELLED", 6000), second.text
    rest = refund(staff, payment["id"])  # amount omitted: everything left
    assert (rest.json()["status"], rest.json()["refunded_amount"]) == ("CANCELLED", 9900), rest.text
    calls = cancel_calls(stack, key)
    assert [call["body"].get("cancelAmount") for call in calls] == [3000, 3000, 3900], calls
    assert len({call["idempotencyKey"] for call in calls}) == 3 and all(call["idempotencyKey"] for call in calls)
    # Nothing left: refused before Toss.
    assert_error(refund(staff, payment["id"], amount=1), 409, "NOT_REFUNDABLE")
    assert len(cancel_calls(stack, key)) == 3
    # The customer sees it too, and the sandbox agrees.
    [mine] = client.get("/api/subscriptions/payments").json()
    assert (mine["status"], mine["refunded_amount"]) == ("CANCELLED", 9900)
    audit = staff.get(f"/api/admin/payments/{payment['id']}").json()["audit_log"]
    assert [(entry["action"], entry["after"]["refund_amount"], entry["actor"]["username"]) for entry in audit] == \
        [("payment.refund", 3000, staff.username), ("payment.refund", 3000, staff.username), ("payment.refund", 3900, staff.username)]
    assert audit[0]["before"] == {"status": "COMPLETED", "refunded_amount": 0}
    assert audit[2]["after"]["status"] == "CANCELLED" and audit[2]["after"]["reason"] == "고객 요청"


def test_impossible_refunds_are_refused_without_calling_toss(stack, staff):
    _, _, payment = paid_payment(stack)
    key = payment_key(staff, payment["id"])
    assert_error(refund(staff, payment["id"], amount=9901), 400, "REFUND_EXCEEDS_BALANCE")
    assert_error(refund(staff, payment["id"], amount=0), 400, "INVALID_REFUND_AMOUNT")
    assert_error(refund(staff, payment["id"], amount=-100), 400, "INVALID_REFUND_AMOUNT")
    assert_error(refund(staff, payment["id"], amount=5000, reason="   "), 400, "INVALID_REFUND_REASON")
    assert_error(refund(staff, payment["id"], amount="5000"), 400)
    assert_error(refund(staff, ANY_ID, amount=100), 404, "PAYMENT_NOT_FOUND")
    assert cancel_calls(stack, key) == []
    assert refund(staff, payment["id"], amount=9000).status_code == 200
    assert_error(refund(staff, payment["id"], amount=901), 400, "REFUND_EXCEEDS_BALANCE")
    assert len(cancel_calls(stack, key)) == 1
    row = staff.get(f"/api/admin/payments/{payment['id']}").json()["payment"]
    assert (row["status"], row["refunded_amount"], row["refundable_amount"]) == ("PARTIAL_CANCELLED", 9000, 900)


def test_failed_payments_are_not_refundable(stack, staff, catalogue):
    assert_error(refund(staff, catalogue["pays"]["p2"], amount=100), 409, "NOT_REFUNDABLE")
    assert_error(refund(staff, catalogue["pays"]["p5"], amount=100), 409, "NOT_REFUNDABLE")


def test_refund_can_cancel_the_subscription_at_once(stack, staff):
    client, subscription, payment = paid_payment(stack)
    response = refund(staff, payment["id"], cancel_subscription=True)
    assert response.json()["status"] == "CANCELLED", response.text
    [mine] = client.get("/api/subscriptions/my-subscriptions").json()
    assert mine["id"] == subscription["id"]
    assert mine["status"] == "CANCELLED" and mine["next_billing_date"] is None
    detail = staff.get(f"/api/admin/subscriptions/{subscription['id']}").json()
    assert detail["subscription"]["cancelled_at"] is not None
    assert {"payment.refund", "subscription.cancel"} <= {entry["action"] for entry in detail["audit_log"]}
    assert any(event["kind"] == "audit" for event in detail["timeline"])
    assert [period["index"] for period in detail["periods"]] == [0] and detail["periods"][0]["paid"] is True


def test_toss_refusal_and_outage_change_nothing(stack, staff):
    _, _, payment = paid_payment(stack)
    key = payment_key(staff, payment["id"])
    faults = stack.sandbox.url + "/sandbox/faults"
    rule = requests.post(faults, json={"action": "error", "match": {"paymentKey": key}, "status": 403, "code": "NOT_CANCELABLE_PAYMENT",
                                       "message": "취소할 수 없는 결제입니다.", "count": 1}, timeout=10).json()
    assert_error(refund(staff, payment["id"], amount=1000), 400, "NOT_CANCELABLE_PAYMENT")
    requests.delete(f"{faults}/{rule['id']}", timeout=10)
    rule = requests.post(faults, json={"action": "error", "match": {"paymentKey": key}, "status": 500, "count": -1}, timeout=10).json()
    try:
        assert_error(refund(staff, payment["id"], amount=1000), 502, "PG_UNAVAILABLE")
    finally:
        requests.delete(f"{faults}/{rule['id']}", timeout=10)
    row = staff.get(f"/api/admin/payments/{payment['id']}").json()
    assert (row["payment"]["status"], row["payment"]["refunded_amount"], row["audit_log"]) == ("COMPLETED", 0, [])
    # Sent again, the same request goes through once.
    assert refund(staff, payment["id"], amount=1000).json()["refunded_amount"] == 1000


def test_a_refund_lost_in_a_timeout_is_sent_again_with_the_same_key_and_applied_once(stack, staff):
    _, _, payment = paid_payment(stack)
    key = payment_key(staff, payment["id"])
    faults = stack.sandbox.url + "/sandbox/faults"
    # Toss refunds, but the answer never arrives.
    rule = requests.post(faults, json={"action": "timeout", "apply": True, "latencyMs": 6000, "match": {"paymentKey": key}}, timeout=10).json()
    try:
        assert_error(refund(staff, payment["id"], amount=4000), 502, "PG_UNAVAILABLE")
    finally:
        requests.delete(f"{faults}/{rule['id']}", timeout=10)
    assert staff.get(f"/api/admin/payments/{payment['id']}").json()["payment"]["refunded_amount"] == 0
    again = refund(staff, payment["id"], amount=4000)
    assert (again.json()["status"], again.json()["refunded_amount"]) == ("PARTIAL_CANCELLED", 4000), again.text
    calls = cancel_calls(stack, key)
    assert len(calls) == 2 and calls[0]["idempotencyKey"] == calls[1]["idempotencyKey"] and calls[1]["replayed"], calls
    toss = requests.get(stack.sandbox.url + "/sandbox/payments", params={"orderId": payment["order_id"]}, timeout=10).json()
    assert toss[0]["balanceAmount"] == 5900, toss


def test_refund_form_double_submit_refunds_once(stack, staff):
    _, _, payment = paid_payment(stack)
    key = payment_key(staff, payment["id"])
    page = staff.get(f"/admin/payments/{payment['id']}").text
    assert 'id="refund-form"' in page and 'name="expected_refunded_amount" value="0"' in page
    form = {"csrfmiddlewaretoken": staff.csrf_token(), "amount": "2000", "reason": "중복 결제", "expected_refunded_amount": "0"}
    first = staff.post(f"/admin/payments/{payment['id']}/refund", data=form, csrf=False, allow_redirects=False)
    again = staff.post(f"/admin/payments/{payment['id']}/refund", data=form, csrf=False, allow_redirects=False)
    assert first.status_code == again.status_code == 303
    assert "notice=" in first.headers["Location"]
    assert "code=REFUND_CONFLICT" in again.headers["Location"]
    assert len(cancel_calls(stack, key)) == 1
    shown = staff.get(first.headers["Location"]).text
    assert "2,000원을 환불했습니다" in shown and "payment.refund" in shown
    over = dict(form, amount="999999", expected_refunded_amount="2000")
    refused = staff.post(f"/admin/payments/{payment['id']}/refund", data=over, csrf=False, allow_redirects=False)
    assert "code=REFUND_EXCEEDS_BALANCE" in refused.headers["Location"]
    assert len(cancel_calls(stack, key)) == 1


def test_staff_cancel_a_subscription_and_it_is_audited(stack, staff):
    client, subscription, _ = paid_payment(stack)
    response = staff.post(f"/api/admin/subscriptions/{subscription['id']}/cancel", json={"reason": "요청"})
    assert response.status_code == 200 and response.json()["status"] == "CANCELLED", response.text
    assert_error(staff.post(f"/api/admin/subscriptions/{subscription['id']}/cancel"), 409, "NOT_CANCELLABLE")
    [mine] = client.get("/api/subscriptions/my-subscriptions").json()
    assert mine["status"] == "CANCELLED" and mine["next_billing_date"] is None
    [entry] = staff.get(f"/api/admin/subscriptions/{subscription['id']}").json()["audit_log"]
    assert (entry["action"], entry["before"]["status"], entry["after"]["status"], entry["after"]["reason"]) == \
        ("subscription.cancel", "ACTIVE", "CANCELLED", "요청")


# ---------------------------------------------------------------- plans


def test_plan_create_edit_deactivate_and_delete(stack, staff, member):
    name = unique("플랜")
    created = staff.post("/api/admin/plans", json={"name": name, "plan_type": "PREMIUM", "price": 14900, "billing_cycle": "QUARTERLY",
                                                    "features": ["하나", " 둘 ", ""]})
    assert created.status_code == 201, created.text
    plan = created.json()
    assert (plan["name"], plan["price"], plan["billing_cycle"], plan["features"], plan["is_active"]) == \
        (name, 14900, "QUARTERLY", ["하나", "둘"], True)
    public = {p["id"]: p for p in stack.client.get("/api/subscriptions/plans").json()}
    assert public[plan["id"]]["price"] == 14900
    edited = staff.post(f"/api/admin/plans/{plan['id']}", json={"price": 15900})
    assert (edited.json()["price"], edited.json()["name"]) == (15900, name), edited.text
    assert "15,900원 / 분기" in stack.client.get("/").text
    # In use (even by a PENDING subscription): not deletable, and its cycle is fixed.
    subscription = member.post("/api/subscriptions/subscribe", json={"plan_id": plan["id"]})
    assert subscription.status_code == 201, subscription.text
    assert_error(staff.delete(f"/api/admin/plans/{plan['id']}"), 409, "PLAN_IN_USE")
    assert_error(staff.post(f"/api/admin/plans/{plan['id']}", json={"billing_cycle": "MONTHLY"}), 409, "PLAN_IN_USE")
    deactivated = staff.post(f"/api/admin/plans/{plan['id']}/deactivate")
    assert deactivated.json()["is_active"] is False
    assert plan["id"] not in {p["id"] for p in stack.client.get("/api/subscriptions/plans").json()}
    assert_error(member.post("/api/subscriptions/subscribe", json={"plan_id": plan["id"]}), 404, "PLAN_NOT_FOUND")
    assert staff.post(f"/api/admin/plans/{plan['id']}/activate").json()["is_active"] is True
    audit = staff.get(f"/api/admin/plans/{plan['id']}").json()["audit_log"]
    assert [entry["action"] for entry in audit] == ["plan.create", "plan.update", "plan.deactivate", "plan.activate"]
    assert (audit[1]["before"]["price"], audit[1]["after"]["price"]) == (14900, 15900)
    # An unused plan may be deleted.
    unused = staff.post("/api/admin/plans", json={"name": unique("임시"), "plan_type": "BASIC", "price": 1000, "billing_cycle": "MONTHLY"}).json()
    assert staff.delete(f"/api/admin/plans/{unused['id']}").status_code == 204
    assert_error(staff.get(f"/api/admin/plans/{unused['id']}"), 404, "PLAN_NOT_FOUND")
    assert_error(staff.delete(f"/api/admin/plans/{unused['id']}"), 404, "PLAN_NOT_FOUND")


def test_plan_validation(stack, staff):
    for body in [{"plan_type": "BASIC", "price": 1000, "billing_cycle": "MONTHLY"},
                 {"name": "x", "plan_type": "GOLD", "price": 1000, "billing_cycle": "MONTHLY"},
                 {"name": "x", "plan_type": "BASIC", "price": 50, "billing_cycle": "MONTHLY"},
                 {"name": "x", "plan_type": "BASIC", "price": 1000, "billing_cycle": "WEEKLY"}]:
        assert_error(staff.post("/api/admin/plans", json=body), 400, "VALIDATION_ERROR")
    assert_error(staff.post("/api/admin/plans", json={"name": "x", "plan_type": "BASIC", "price": "1000", "billing_cycle": "MONTHLY"}), 400)
    assert_error(staff.post("/api/admin/plans", data="{", headers={"Content-Type": "application/json"}), 400)
    assert_error(staff.post(f"/api/admin/plans/{ANY_ID}", json={"price": 1000}), 404, "PLAN_NOT_FOUND")


def test_plan_forms(stack, staff):
    token = staff.csrf_token()
    name = unique("폼 플랜")
    created = staff.post("/admin/plans", data={"csrfmiddlewaretoken": token, "name": name, "plan_type": "BASIC", "price": "4,900",
                                               "billing_cycle": "MONTHLY", "features": "하나\r\n둘", "is_active": "1"}, csrf=False,
                         allow_redirects=False)
    assert created.status_code == 303, created.text[:300]
    location = created.headers["Location"]
    assert re.match(r"^/admin/plans/[0-9a-f-]{36}\?notice=", location), location
    page = staff.get(location).text
    assert name in page and 'id="delete-plan"' in page and "plan.create" in page
    plan_id = location.split("/")[3].split("?")[0]
    bad = staff.post("/admin/plans", data={"csrfmiddlewaretoken": token, "name": "", "plan_type": "BASIC", "price": "100",
                                           "billing_cycle": "MONTHLY"}, csrf=False, allow_redirects=False)
    assert bad.status_code == 400 and 'id="form-error"' in bad.text
    deleted = staff.post(f"/admin/plans/{plan_id}/delete", data={"csrfmiddlewaretoken": token}, csrf=False, allow_redirects=False)
    assert deleted.status_code == 303 and deleted.headers["Location"].startswith("/admin/plans?notice="), deleted.headers
    in_use = plan_ids(stack)["BASIC"]
    refused = staff.post(f"/admin/plans/{in_use}/delete", data={"csrfmiddlewaretoken": token}, csrf=False, allow_redirects=False)
    assert refused.status_code == 303 and "code=PLAN_IN_USE" in refused.headers["Location"]


# ---------------------------------------------------------------- dashboard


@pytest.fixture(params=enabled_databases())
def clocked(request, make_stack):
    stack = make_stack(db=request.param, env={"GUDOK_TEST_CLOCK": "1"})
    stack.run("clock", "set", "2025-03-15T12:00:00+09:00", check=True)
    return stack


def test_dashboard_figures_for_a_hand_made_fixture(clocked):
    stack = clocked
    plans = plan_ids(stack)
    quarterly = str(uuid.uuid4())
    rows = [insert("plans", {"id": quarterly, "name": "분기", "plan_type": "PREMIUM", "price": 30000, "currency": "KRW", "billing_cycle": "QUARTERLY",
                             "features": "[]", "is_active": 1, "sort_order": 9, "created_at": 0, "updated_at": 0})]
    user = str(uuid.uuid4())
    rows.append(insert("users", {"id": user, "username": "fixture", "username_key": "fixture", "email": "", "password_hash": "!",
                                 "is_staff": 0, "is_active": 1, "created_at": 0}))
    subscriptions = {}

    def subscription(name, plan, status, start, cancelled=None, updated=None):
        subscriptions[name] = sid = str(uuid.uuid4())
        rows.append(insert("subscriptions", {"id": sid, "user_id": user, "plan_id": plan, "status": status, "customer_key": f"ck_{name}_{sid[:8]}",
                                             "anchor_at": start, "start_date": start, "cancelled_at": cancelled,
                                             "created_at": start or seconds(2025, 3, 8), "updated_at": updated or cancelled or start or seconds(2025, 3, 8)}))

    subscription("a1", plans["BASIC"], "ACTIVE", seconds(2024, 11, 2))            # 9,900
    subscription("a2", plans["BASIC"], "ACTIVE", seconds(2025, 3, 3))             # 9,900, new
    subscription("a3", plans["PREMIUM"], "PAST_DUE", seconds(2024, 12, 10))       # 19,900
    subscription("a4", plans["ENTERPRISE"], "ACTIVE", seconds(2024, 6, 1))        # 199,000 / 12
    subscription("a5", quarterly, "ACTIVE", seconds(2025, 3, 10))                 # 30,000 / 3, new
    subscription("c1", plans["BASIC"], "CANCELLED", seconds(2024, 10, 1), cancelled=seconds(2025, 3, 5))
    subscription("c2", plans["PREMIUM"], "EXPIRED", seconds(2024, 9, 1), updated=seconds(2025, 3, 1, 0, 0, 30))
    subscription("c3", plans["BASIC"], "INACTIVE", seconds(2024, 8, 1), updated=seconds(2025, 2, 27))
    subscription("c4", plans["BASIC"], "CANCELLED", None, cancelled=seconds(2025, 3, 7))   # never started: not churn
    subscription("p1", plans["BASIC"], "PENDING", None)

    attempts = itertools.count(1)

    def payment(sub, amount, status, created, paid=None, refunded=0):
        pid = str(uuid.uuid4())
        rows.append(insert("payments", {"id": pid, "subscription_id": subscriptions[sub], "user_id": user, "payment_type": "SUBSCRIPTION",
                                        "amount": amount, "status": status, "order_id": "ord_" + pid.replace("-", ""), "order_name": "fixture",
                                        "period_index": 0, "attempt": next(attempts), "paid_at": paid, "refunded_amount": refunded,
                                        "created_at": created, "updated_at": created}))

    payment("a1", 9900, "COMPLETED", seconds(2025, 3, 2), paid=seconds(2025, 3, 2))
    payment("a2", 9900, "COMPLETED", seconds(2025, 3, 3), paid=seconds(2025, 3, 3))
    payment("a5", 30000, "COMPLETED", seconds(2025, 3, 10), paid=seconds(2025, 3, 10))
    payment("a3", 19900, "FAILED", seconds(2025, 3, 10))
    payment("c1", 9900, "PARTIAL_CANCELLED", seconds(2025, 3, 1), paid=seconds(2025, 3, 1), refunded=4900)   # net 5,000
    payment("p1", 9900, "PENDING", seconds(2025, 3, 8))
    payment("a1", 9900, "COMPLETED", seconds(2025, 2, 28, 23, 59, 59), paid=seconds(2025, 2, 28, 23, 59, 59))
    payment("a3", 19900, "FAILED", seconds(2025, 2, 10))
    payment("c2", 19900, "CANCELLED", seconds(2025, 2, 5), paid=seconds(2025, 2, 5), refunded=19900)
    payment("a4", 199000, "COMPLETED", seconds(2024, 6, 1), paid=seconds(2024, 6, 1))
    payment("c3", 9900, "COMPLETED", seconds(2024, 3, 31), paid=seconds(2024, 3, 31))               # before the 12 months
    execute_script(stack, "\n".join(rows))

    stack.create_user("boss", PASSWORD, staff=True)
    boss = stack.login("boss", PASSWORD)
    figures = boss.get("/api/admin/dashboard").json()
    # 9,900 + 9,900 + 19,900 + 16,583.33 + 10,000 = 66,283.33 → 66,283
    assert figures["mrr"] == 66283, figures
    names = {plans["BASIC"]: "베이직", plans["ENTERPRISE"]: "엔터프라이즈", quarterly: "분기"}
    assert {(row["plan_id"], row["plan_name"], row["count"]) for row in figures["active_by_plan"]} == \
        {(plans["BASIC"], "베이직", 2), (plans["ENTERPRISE"], names[plans["ENTERPRISE"]], 1), (quarterly, "분기", 1)}
    assert figures["active_by_plan"][0]["plan_id"] == plans["BASIC"]
    assert (figures["month"], figures["new_this_month"], figures["churned_this_month"]) == ("2025-03", 2, 2)
    assert (figures["failed_charges_this_month"], figures["charge_attempts_this_month"], figures["failed_charge_rate"]) == (1, 5, 0.2)
    revenue = {row["month"]: row["amount"] for row in figures["revenue_by_month"]}
    assert list(revenue) == ["2024-04", "2024-05", "2024-06", "2024-07", "2024-08", "2024-09", "2024-10", "2024-11", "2024-12",
                             "2025-01", "2025-02", "2025-03"]
    # March: 9,900 + 9,900 + 30,000 + (9,900 − 4,900); February's last second counts in February; refunded-in-full adds nothing.
    assert revenue == {**{month: 0 for month in revenue}, "2024-06": 199000, "2025-02": 9900, "2025-03": 54800}, revenue

    page = boss.get("/admin")
    assert page.status_code == 200
    assert "66,283원" in page.text and "20.0%" in page.text
    assert page.text.count('<g class="bar"') == 12 + 3 and "<svg" in page.text and "<script" not in page.text
    assert 'data-value="54800"' in page.text and 'data-value="199000"' in page.text
    assert "테스트 시계" in page.text


def test_seed_demo_history_fills_the_dashboard_without_calling_toss(make_stack):
    stack = make_stack(db="sqlite", sandbox="own")
    first = stack.run("seed", "--demo-history", check=True)
    assert re.search(r"inserted 40 demo customers, \d+ subscriptions, \d+ payments", first.stdout), first.stdout
    again = stack.run("seed", "--demo-history", check=True)
    assert "already present" in again.stdout, again.stdout
    assert requests.get(stack.sandbox.url + "/sandbox/calls", timeout=10).json() in ([], {"calls": []})
    [[sealed]] = stack.query("SELECT COUNT(*) FROM subscriptions WHERE billing_key_sealed IS NOT NULL")
    assert sealed == 0
    statuses = {status for [status] in stack.query("SELECT DISTINCT status FROM payments")}
    assert {"COMPLETED", "FAILED", "PARTIAL_CANCELLED", "CANCELLED"} <= statuses, statuses
    subscription_statuses = {status for [status] in stack.query("SELECT DISTINCT status FROM subscriptions")}
    assert {"ACTIVE", "CANCELLED"} <= subscription_statuses, subscription_statuses
    assert stack.new_client().login("demo-customer-01", "").status_code in (400, 401)
    stack.create_user("boss", PASSWORD, staff=True)
    boss = stack.login("boss", PASSWORD)
    figures = boss.get("/api/admin/dashboard").json()
    assert figures["mrr"] > 0 and sum(row["count"] for row in figures["active_by_plan"]) > 0, figures
    assert sum(1 for row in figures["revenue_by_month"] if row["amount"] > 0) >= 6, figures["revenue_by_month"]
    assert boss.get("/admin").status_code == 200
    assert "--demo-history" in stack.run("seed", "--help").stdout
    assert stack.run("seed", "--bogus").returncode == 2
