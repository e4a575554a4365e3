"""Invoices and "the first period is paid once" (SPEC §10, §4, §8), on SQLite and PostgreSQL, against the Toss sandbox.

An adversarial matrix: every way a customer can pay period 0 (confirm API, success redirect page, billing/issue API,
billing/success page, reloads, two tabs, two tabs at once, checkout then card registration, card registration then
checkout) crossed with Toss's ambiguous outcomes injected through sandbox faults (answer lost after approval by timeout or
connection reset, 5xx with and without execution, order/payment lookups down). After the faults are cleared and
`gudok reconcile` has run, one invariant must hold — what Toss holds for the customer equals the subscription's PAID
invoices, at most one PAID invoice per period, and the ACTIVE subscription's plan is the paid invoice's plan — plus the
three reported bugs as named tests and the invoice JSON / printable page.

Fault rules are matched by customerKey (or orderId), so the session-wide sandbox is shared safely; every rule a test
adds is deleted in a `finally`.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
import requests

pytestmark = pytest.mark.both_databases

SEOUL = ZoneInfo("Asia/Seoul")
PASSWORD = "correct horse battery"
APPROVING_CARD = "4330123412341234"
SANDBOX_SECRET = "test_sk_gudokSandboxSecretKey0000"
APPROVED = ("DONE", "PARTIAL_CANCELED", "CANCELED")  # sandbox statuses of payments Toss approved
FAILURE_TEXT = "완료하지 못했습니다"  # the title of gudok's "could not complete" pages
ISSUE_PATH = "/v1/billing/authorizations/issue"
CONFIRM_PATH = "/v1/payments/confirm"
PRICES = {"BASIC": 9900, "PREMIUM": 19900, "ENTERPRISE": 199000}
VATS = {"BASIC": 900, "PREMIUM": 1809, "ENTERPRISE": 18091}
INVOICE_FIELDS = {"id", "number", "subscription_id", "plan", "period_start", "period_end", "lines", "subtotal", "discount",
                  "total", "supply_amount", "vat", "status", "paid_at", "created_at"}
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_names = itertools.count(1)


# ---------------------------------------------------------------- the sandbox


def sandbox_json(stack, method: str, path: str, **kwargs):
    response = requests.request(method, stack.sandbox.url + path, timeout=10, **kwargs)
    assert response.status_code in (200, 201), (method, path, response.status_code, response.text)
    return response.json()


def toss_payments(stack, customer_key: str) -> list[dict]:
    """Every payment record the sandbox holds for this customerKey (fields from Render.summary: orderId, type, status,
    approved, totalAmount, balanceAmount, paymentKey, …)."""
    return sandbox_json(stack, "GET", "/sandbox/payments", params={"customerKey": customer_key})


def toss_approved(stack, customer_key: str) -> list[dict]:
    return [p for p in toss_payments(stack, customer_key) if p["status"] in APPROVED]


def sandbox_calls(stack, **params) -> list[dict]:
    return sandbox_json(stack, "GET", "/sandbox/calls", params=params)


def toss_headers() -> dict:
    token = base64.b64encode(f"{SANDBOX_SECRET}:".encode()).decode()
    return {"Authorization": f"Basic {token}", "Content-Type": "application/json"}


def toss_payment(stack, payment_key: str) -> dict:
    response = requests.get(f"{stack.sandbox.url}/v1/payments/{payment_key}", headers=toss_headers(), timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


class Faults:
    """Sandbox fault rules added by one test; `clear()` (also on exit) deletes exactly these."""

    def __init__(self, stack):
        self.stack = stack
        self.ids: list[str] = []

    def add(self, rule: dict) -> str:
        rule_id = sandbox_json(self.stack, "POST", "/sandbox/faults", json=rule)["id"]
        self.ids.append(rule_id)
        return rule_id

    def pass_issue(self, customer_key: str) -> None:
        """Billing-key issue (a POST under /v1/billing/ too) is answered normally: rules fire first-match."""
        self.add({"match": {"customerKey": customer_key, "path": ISSUE_PATH}, "action": "latency", "latencyMs": 0, "count": -1})

    def lookups_down(self, customer_key: str) -> None:
        """GET /v1/payments/{paymentKey} and GET /v1/payments/orders/{orderId} answer 500 until cleared."""
        self.add({"match": {"customerKey": customer_key, "method": "GET", "path": "/v1/payments/orders/*"},
                  "action": "error", "status": 500, "count": -1})
        self.add({"match": {"customerKey": customer_key, "method": "GET", "path": "/v1/payments/*"},
                  "action": "error", "status": 500, "count": -1})

    def clear(self) -> None:
        for rule_id in self.ids:
            requests.delete(f"{self.stack.sandbox.url}/sandbox/faults/{rule_id}", timeout=10)  # 404 once used up: fine
        self.ids = []

    def __enter__(self) -> "Faults":
        return self

    def __exit__(self, *exc) -> None:
        self.clear()


# ---------------------------------------------------------------- gudok


def reconcile(stack, minutes: int = 2) -> None:
    """`gudok reconcile --now` real now + `minutes` (reconcile leaves payments younger than 60 s of --now alone)."""
    moment = (datetime.now(SEOUL) + timedelta(minutes=minutes)).replace(microsecond=0)
    result = stack.run("reconcile", "--now", moment.isoformat(), timeout=120)
    assert result.returncode == 0, f"gudok reconcile exited {result.returncode}:\n{result.stderr[-3000:]}"


def new_customer(stack):
    name = f"inv{next(_names)}_{uuid.uuid4().hex[:6]}"
    client = stack.new_client()
    response = client.signup(name, PASSWORD)
    assert response.status_code == 201, response.text
    for _ in range(10):
        response = client.login(name, PASSWORD)
        if response.status_code != 429:
            break
        time.sleep(1)
    assert response.status_code == 200, response.text
    return client


_plans: dict[str, dict] = {}


def plans(stack) -> dict[str, dict]:
    key = stack.base_url
    if key not in _plans:
        _plans[key] = {plan["plan_type"]: plan for plan in stack.client.get("/api/subscriptions/plans").json()}
    return _plans[key]


def subscribe(client, plan_id: str) -> dict:
    response = client.post("/api/subscriptions/subscribe", json={"plan_id": plan_id})
    assert response.status_code in (200, 201), response.text
    return response.json()


def checkout(client, subscription_id: str) -> dict:
    response = client.post(f"/api/subscriptions/{subscription_id}/checkout")
    assert response.status_code == 201, response.text
    return response.json()


def authorize(stack, order: dict, card: str = APPROVING_CARD) -> str:
    """The card form's approval of a payment window, tied to the order's customerKey (so faults and listings match)."""
    answer = sandbox_json(stack, "POST", "/sandbox/payments/authorize",
                          json={"orderId": order["order_id"], "amount": order["amount"], "orderName": order["order_name"],
                                "customerKey": order["customer_key"], "cardNumber": card})
    return answer["paymentKey"]


def billing_auth(stack, customer_key: str, card: str = APPROVING_CARD) -> str:
    return sandbox_json(stack, "POST", "/sandbox/billing/authorize",
                        json={"customerKey": customer_key, "cardNumber": card})["authKey"]


def confirm(client, order: dict, payment_key: str) -> requests.Response:
    return client.post("/api/subscriptions/payments/confirm",
                       json={"payment_key": payment_key, "order_id": order["order_id"], "amount": order["amount"]})


def my_subscription(client, subscription_id: str) -> dict:
    [mine] = [s for s in client.get("/api/subscriptions/my-subscriptions").json() if s["id"] == subscription_id]
    return mine


def my_invoices(client) -> list[dict]:
    response = client.get("/api/invoices")
    assert response.status_code == 200, response.text
    listed = response.json()
    assert isinstance(listed, list), f"GET /api/invoices is not a JSON array: {response.text[:300]}"
    return listed


def get_invoice(client, invoice_id: str) -> dict:
    response = client.get(f"/api/invoices/{invoice_id}")
    assert response.status_code == 200, response.text
    return response.json()


def my_payment(client, order_id: str) -> dict | None:
    found = [p for p in client.get("/api/subscriptions/payments").json() if p["order_id"] == order_id]
    return found[0] if found else None


def vat_of(total: int) -> int:
    return int((Decimal(total) / Decimal(11)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def wait_for(predicate, timeout: float = 10, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


def post_webhook(stack, payment_key: str) -> requests.Response:
    """PAYMENT_STATUS_CHANGED as Toss sends it (no session, no CSRF), with Toss's current Payment as data."""
    body = {"eventType": "PAYMENT_STATUS_CHANGED", "createdAt": "2026-12-01T10:00:00.000000",
            "data": toss_payment(stack, payment_key)}
    headers = {"Content-Type": "application/json", "tosspayments-webhook-transmission-id": f"wh_{uuid.uuid4().hex}",
               "tosspayments-webhook-transmission-time": "2026-12-01T10:00:00+09:00",
               "tosspayments-webhook-transmission-retried-count": "0"}
    response = stack.new_client().post("/api/webhooks/toss", data=json.dumps(body, ensure_ascii=False).encode(),
                                       headers=headers, csrf=False)
    assert response.status_code == 200, response.text
    return response


# ---------------------------------------------------------------- what gudok and Toss hold


def dump(stack, subscription_id: str, customer_key: str, answers: list | None = None) -> str:
    """Everything useful when an assertion about money fails."""
    lines = ["", "-- at Toss (sandbox payments for the customerKey):"]
    for p in toss_payments(stack, customer_key):
        lines.append(f"   {p['type']:7} {p['orderId']} {p['status']:16} total={p['totalAmount']} balance={p['balanceAmount']} "
                     f"key={p['paymentKey']}")
    lines.append("-- gudok payments:")
    try:
        for row in stack.query("SELECT order_id, status, amount, refunded_amount, invoice_id, payment_key FROM payments "
                               f"WHERE subscription_id = {sql_text(subscription_id)} ORDER BY created_at"):
            lines.append(f"   {row}")
    except Exception as error:  # noqa: BLE001 - diagnostics only
        lines.append(f"   (query failed: {error})")
    lines.append("-- gudok invoices (id, number, period_index, plan_id, total, status, paid_payment_id):")
    try:
        for row in stack.query("SELECT id, number, period_index, plan_id, total, status, paid_payment_id FROM invoices "
                               f"WHERE subscription_id = {sql_text(subscription_id)} ORDER BY created_at"):
            lines.append(f"   {row}")
    except Exception as error:  # noqa: BLE001
        lines.append(f"   (query failed: {error})")
    try:
        [row] = stack.query(f"SELECT status, plan_id FROM subscriptions WHERE id = {sql_text(subscription_id)}")
        lines.append(f"-- subscription: status={row[0]} plan_id={row[1]}")
    except Exception as error:  # noqa: BLE001
        lines.append(f"-- subscription: (query failed: {error})")
    if answers:
        lines.append("-- what gudok answered, in order:")
        lines.extend(f"   {label}: {status} {text[:300]!r}" for label, status, text in answers)
    return "\n".join(lines)


def assert_money_invariant(stack, client, subscription_id: str, answers: list | None = None) -> dict:
    """Toss holds (net of refunds) exactly the sum of the subscription's PAID invoices; at most one PAID invoice per
    period; an ACTIVE subscription's plan is its paid period-0 invoice's plan. Returns a summary."""
    subscription = my_subscription(client, subscription_id)
    key = subscription["customer_key"]
    approved = toss_approved(stack, key)
    held = sum(p["balanceAmount"] for p in approved)
    invoices = [i for i in my_invoices(client) if i["subscription_id"] == subscription_id]
    paid = [i for i in invoices if i["status"] == "PAID"]
    rows = stack.query("SELECT id, period_index, status, plan_id, total FROM invoices "
                       f"WHERE subscription_id = {sql_text(subscription_id)}")
    paid_rows = [r for r in rows if r[2] == "PAID"]

    def context() -> str:  # only evaluated when an assertion fails
        return dump(stack, subscription_id, key, answers)

    assert {i["id"] for i in paid} == {r[0] for r in paid_rows}, f"/api/invoices and the invoices table disagree{context()}"
    assert held == sum(i["total"] for i in paid), (
        f"Toss holds {held} won for {key} but the PAID invoices total {sum(i['total'] for i in paid)}{context()}")
    per_period = Counter(int(r[1]) for r in paid_rows)
    assert all(n == 1 for n in per_period.values()), f"more than one PAID invoice for a period: {per_period}{context()}"
    if subscription["status"] == "ACTIVE":
        period0 = [r for r in paid_rows if int(r[1]) == 0]
        assert len(period0) == 1, f"ACTIVE subscription without exactly one paid period-0 invoice{context()}"
        assert subscription["plan"]["id"] == period0[0][3], (
            f"ACTIVE on plan {subscription['plan']['plan_type']} ({subscription['plan']['id']}) but period 0 was paid "
            f"for plan {period0[0][3]}{context()}")
        [api_period0] = [i for i in paid if i["id"] == period0[0][0]]
        assert api_period0["plan"]["id"] == subscription["plan"]["id"], context()
    return {"subscription": subscription, "held": held, "approved": approved, "paid": paid, "invoices": invoices}


def assert_every_approval_accounted_for(stack, subscription_id: str, customer_key: str, answers: list | None = None) -> None:
    """No charge Toss accepted is missing after reconciliation: an approval Toss still holds is a COMPLETED payment of a
    PAID invoice; an approval refunded to zero was refunded by gudok and is in the audit log."""
    def context() -> str:
        return dump(stack, subscription_id, customer_key, answers)

    invoice_ids = [r[0] for r in stack.query(f"SELECT id FROM invoices WHERE subscription_id = {sql_text(subscription_id)}")]
    refunds = stack.query("SELECT action, object_type, object_id, before_state, after_state FROM audit_log "
                          "WHERE action LIKE '%refund%'")
    for p in toss_approved(stack, customer_key):
        rows = stack.query("SELECT id, status, invoice_id FROM payments WHERE order_id = " + sql_text(p["orderId"]))
        if p["balanceAmount"] > 0:
            assert rows, f"Toss holds {p['balanceAmount']} won of order {p['orderId']} that gudok has no payment for{context()}"
            [[payment_id, status, invoice_id]] = rows
            assert status in ("COMPLETED", "PARTIAL_CANCELLED"), (
                f"Toss holds order {p['orderId']} ({p['status']}) but gudok's payment is {status}{context()}")
            assert invoice_id, f"payment of order {p['orderId']} belongs to no invoice{context()}"
            [[invoice_status]] = stack.query(f"SELECT status FROM invoices WHERE id = {sql_text(str(invoice_id))}")
            assert invoice_status == "PAID", f"order {p['orderId']} is approved but its invoice is {invoice_status}{context()}"
        else:
            names = {p["orderId"], p["paymentKey"], *(str(r[0]) for r in rows), *invoice_ids}
            mentioned = [r for r in refunds if any(name and name in " ".join(str(c) for c in r) for name in names)]
            assert mentioned, f"order {p['orderId']} was refunded at Toss but no audit_log refund entry mentions it{context()}"


# ---------------------------------------------------------------- one customer paying period 0


ALLOWED = {200, 201, 303, 400, 409, 502}


class Customer:
    """A fresh user with a PENDING subscription, paying its first period in some way; every answer is recorded."""

    def __init__(self, stack, plan_type: str = "BASIC"):
        self.stack = stack
        self.client = new_customer(stack)
        self.plan = plans(stack)[plan_type]
        self.subscription = subscribe(self.client, self.plan["id"])
        self.sid = self.subscription["id"]
        self.key = self.subscription["customer_key"]
        self.windows: list[tuple[dict, str]] = []
        self.answers: list[tuple[str, int, str]] = []
        self._lock = threading.Lock()

    def tab(self):
        """Another browser tab: same cookies, own connection."""
        other = self.stack.new_client()
        other.cookies.update(self.client.cookies)
        return other

    def record(self, label: str, response: requests.Response) -> requests.Response:
        with self._lock:
            self.answers.append((label, response.status_code, response.text))
        status = response.status_code
        assert status in ALLOWED, f"{label}: unexpected {status} {response.text[:500]}{self.dump()}"
        if status == 502:
            if response.headers.get("Content-Type", "").startswith("application/json"):
                assert response.json().get("code") == "PG_UNAVAILABLE", f"{label}: {response.text}"
            else:
                assert "PG_UNAVAILABLE" in response.text, f"{label}: 502 page without PG_UNAVAILABLE: {response.text[:500]}"
        if status == 303:
            location = response.headers.get("Location", "")
            assert location.startswith("/account") or "/account" in location.split("?")[0], f"{label}: 303 to {location}"
        return response

    def status(self) -> str:
        return my_subscription(self.client, self.sid)["status"]

    def window(self, required: bool = True) -> tuple[dict, str] | None:
        """A checkout order, authorised at the sandbox's card form."""
        response = self.client.post(f"/api/subscriptions/{self.sid}/checkout")
        if response.status_code != 201:
            assert not required, f"checkout: {response.status_code} {response.text}"
            self.record("checkout (refused)", response)
            return None
        order = response.json()
        assert order["amount"] == self.plan["price"]
        window = (order, authorize(self.stack, order))
        self.windows.append(window)
        return window

    def confirm(self, window, label: str, client=None) -> requests.Response:
        order, payment_key = window
        return self.record(label, confirm(client or self.client, order, payment_key))

    def success_page(self, window, label: str, client=None) -> requests.Response:
        order, payment_key = window
        response = (client or self.client).get("/api/subscriptions/payments/success", allow_redirects=False,
                                               params={"paymentKey": payment_key, "orderId": order["order_id"],
                                                       "amount": str(order["amount"])})
        return self.record(label, response)

    def register_card(self) -> str:
        return billing_auth(self.stack, self.key)

    def issue(self, auth_key: str, label: str) -> requests.Response:
        return self.record(label, self.client.post("/api/subscriptions/billing/issue",
                                                   json={"customer_key": self.key, "auth_key": auth_key}))

    def billing_success(self, auth_key: str, label: str, client=None) -> requests.Response:
        response = (client or self.client).get("/api/subscriptions/billing/success", allow_redirects=False,
                                               params={"customerKey": self.key, "authKey": auth_key})
        return self.record(label, response)

    def dump(self) -> str:
        return dump(self.stack, self.sid, self.key, self.answers)


def assert_no_false_failure(label: str, response: requests.Response) -> None:
    """A paid (or being-confirmed) first period is never shown as a failure."""
    if response.status_code == 303:
        assert "/account" in response.headers["Location"], (label, response.headers["Location"])
        return
    assert response.status_code == 200, f"{label}: {response.status_code} {response.text[:800]}"
    assert FAILURE_TEXT not in response.text, (
        f"{label}: shows a failure although the first period is paid or being confirmed: {response.text[:1500]}")


# ---------------------------------------------------------------- the ways to pay period 0


def confirm_api(c: Customer) -> None:
    window = c.window()
    c.confirm(window, "confirm")
    c.confirm(window, "confirm again (reload)")


def success_page(c: Customer) -> None:
    window = c.window()
    c.success_page(window, "success redirect")
    paid = c.status() == "ACTIVE"
    reload = c.success_page(window, "success redirect reloaded")
    if paid:
        assert reload.status_code == 303, f"reload of a paid success redirect: {reload.status_code}{c.dump()}"


def billing_issue_api(c: Customer) -> None:
    auth = c.register_card()
    c.issue(auth, "billing/issue")
    c.issue(auth, "billing/issue again (same authKey)")


def billing_success_page(c: Customer) -> None:
    auth = c.register_card()
    c.billing_success(auth, "billing/success")
    paid = c.status() == "ACTIVE"
    reload = c.billing_success(auth, "billing/success reloaded")
    if paid:
        assert_no_false_failure("billing/success reloaded after the charge", reload)


def two_tabs(c: Customer) -> None:
    first, second = c.window(), c.window()
    c.confirm(first, "tab A confirm")
    c.confirm(second, "tab B confirm")


def two_tabs_at_once(c: Customer) -> None:
    first, second = c.window(), c.window()
    start = threading.Barrier(2)
    tabs = [c.tab(), c.tab()]

    def run(n: int):
        start.wait(5)
        return c.confirm((first, second)[n], f"tab {'AB'[n]} confirm (concurrent)", client=tabs[n])

    with ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(run, 0), pool.submit(run, 1)]:
            future.result()


def checkout_then_card(c: Customer) -> None:
    window = c.window()
    c.confirm(window, "confirm")
    auth = c.register_card()
    c.issue(auth, "billing/issue after checkout")


def card_then_checkout(c: Customer) -> None:
    auth = c.register_card()
    c.issue(auth, "billing/issue")
    window = c.window(required=False)
    if window:
        c.confirm(window, "confirm after card registration")


# ---------------------------------------------------------------- Toss's outcomes


@dataclass(frozen=True)
class Fault:
    """One fault on the customer's first approval call (confirm or billing charge), optionally lookups down."""
    name: str
    action: str | None = None
    apply: bool = False
    status: int | None = None
    latency_ms: int | None = None
    lookups_down: bool = False

    @property
    def toss_approves(self) -> bool:
        """Toss executes the first approval (the answer may be lost)."""
        return self.action is None or self.apply

    def install(self, faults: Faults, customer_key: str) -> None:
        if self.action is None and not self.lookups_down:
            return
        faults.pass_issue(customer_key)
        if self.action:
            rule = {"match": {"customerKey": customer_key, "method": "POST"}, "action": self.action, "apply": self.apply,
                    "count": 1}
            if self.status is not None:
                rule["status"] = self.status
            if self.latency_ms is not None:
                rule["latencyMs"] = self.latency_ms
            faults.add(rule)
        if self.lookups_down:
            faults.lookups_down(customer_key)


NO_FAULT = Fault("no-fault")
RESET_APPLIED = Fault("reset-applied", "reset", apply=True)
RESET_APPLIED_LOOKUPS_DOWN = Fault("reset-applied-lookups-down", "reset", apply=True, lookups_down=True)
TIMEOUT_APPLIED = Fault("timeout-applied", "timeout", apply=True, latency_ms=10_000)
TIMEOUT_APPLIED_LOOKUPS_DOWN = Fault("timeout-applied-lookups-down", "timeout", apply=True, latency_ms=10_000, lookups_down=True)
ERROR500_APPLIED_LOOKUPS_DOWN = Fault("500-applied-lookups-down", "error", apply=True, status=500, lookups_down=True)
ERROR503_APPLIED = Fault("503-applied", "error", apply=True, status=503)
ERROR500_NOT_APPLIED = Fault("500-not-applied", "error", apply=False, status=500)
ERROR503_NOT_APPLIED_LOOKUPS_DOWN = Fault("503-not-applied-lookups-down", "error", apply=False, status=503, lookups_down=True)

WAYS = [confirm_api, success_page, billing_issue_api, billing_success_page, two_tabs, two_tabs_at_once, checkout_then_card,
        card_then_checkout]
CHEAP_FAULTS = [NO_FAULT, RESET_APPLIED, RESET_APPLIED_LOOKUPS_DOWN, ERROR500_APPLIED_LOOKUPS_DOWN,
                ERROR503_NOT_APPLIED_LOOKUPS_DOWN]
EXTRA_CASES = [
    # Timeouts cost the client's timeout (confirm 3 s, billing charge 6 s at GUDOK_TOSS_TIMEOUT_SCALE=0.1): a chosen few.
    (confirm_api, TIMEOUT_APPLIED),
    (confirm_api, TIMEOUT_APPLIED_LOOKUPS_DOWN),
    (success_page, TIMEOUT_APPLIED_LOOKUPS_DOWN),
    (billing_success_page, TIMEOUT_APPLIED_LOOKUPS_DOWN),
    (two_tabs_at_once, TIMEOUT_APPLIED_LOOKUPS_DOWN),
    (checkout_then_card, TIMEOUT_APPLIED_LOOKUPS_DOWN),
    (card_then_checkout, TIMEOUT_APPLIED_LOOKUPS_DOWN),
    (confirm_api, ERROR503_APPLIED),
    (billing_issue_api, ERROR503_APPLIED),
    (success_page, ERROR500_NOT_APPLIED),
    (billing_success_page, ERROR500_NOT_APPLIED),
    (two_tabs, ERROR500_NOT_APPLIED),
]
MATRIX = [pytest.param(way, fault, id=f"{way.__name__}-{fault.name}") for way in WAYS for fault in CHEAP_FAULTS] + [
    pytest.param(way, fault, id=f"{way.__name__}-{fault.name}") for way, fault in EXTRA_CASES]


def try_again(c: Customer) -> None:
    """What a customer does when nothing seems to have happened: the last payment window once more, then a new card."""
    for window in reversed(c.windows):
        c.confirm(window, "customer tries the payment window again")
        if c.status() == "ACTIVE":
            return
    auth = c.register_card()
    c.issue(auth, "customer registers a card again")


@pytest.mark.parametrize("way, fault", MATRIX)
def test_first_period_is_paid_once(stack, way, fault):
    c = Customer(stack)
    with Faults(stack) as faults:
        fault.install(faults, c.key)
        way(c)
    reconcile(stack)
    if fault.toss_approves:
        assert c.status() == "ACTIVE", f"Toss approved the first charge but after reconcile the subscription is not ACTIVE{c.dump()}"
    elif c.status() != "ACTIVE":
        try_again(c)
        reconcile(stack)
    assert c.status() == "ACTIVE", c.dump()
    summary = assert_money_invariant(stack, c.client, c.sid, c.answers)
    assert summary["held"] == c.plan["price"], f"Toss holds {summary['held']} for the first period{c.dump()}"
    assert_every_approval_accounted_for(stack, c.sid, c.key, c.answers)
    approved_orders = {p["orderId"] for p in toss_approved(stack, c.key)}
    pending = stack.query(f"SELECT order_id FROM payments WHERE subscription_id = {sql_text(c.sid)} AND status = 'PENDING'")
    assert not [order for [order] in pending if order in approved_orders], (
        f"a payment Toss approved is still PENDING after reconcile{c.dump()}")


# ---------------------------------------------------------------- the reported bugs


def test_bug1_plan_change_voids_the_open_invoice_and_its_order(stack):
    c = Customer(stack, "BASIC")
    enterprise = plans(stack)["ENTERPRISE"]
    basic_order, basic_key = c.window()
    assert basic_order.get("invoice_id"), f"checkout order without invoice_id: {basic_order}"
    moved = subscribe(c.client, enterprise["id"])
    assert moved["id"] == c.sid and moved["status"] == "PENDING"
    assert moved["plan"]["id"] == enterprise["id"], moved
    void = get_invoice(c.client, basic_order["invoice_id"])
    assert void["status"] == "VOID" and void["plan"]["id"] == c.plan["id"] and void["total"] == 9900, void

    page = c.client.get("/api/subscriptions/payments/success", allow_redirects=False,
                        params={"paymentKey": basic_key, "orderId": basic_order["order_id"], "amount": "9900"})
    assert page.status_code == 409, f"success redirect of a void order: {page.status_code} {page.text[:500]}"
    response = confirm(c.client, basic_order, basic_key)
    assert response.status_code == 409 and response.json()["code"] == "ORDER_VOID", response.text
    assert sandbox_calls(stack, orderId=basic_order["order_id"], path=CONFIRM_PATH) == [], "Toss was asked to confirm a void order"

    order = checkout(c.client, c.sid)
    assert order["amount"] == 199000 and order["invoice_id"] != basic_order["invoice_id"], order
    response = confirm(c.client, order, authorize(stack, order))
    assert response.status_code == 200, response.text
    payment = response.json()
    assert payment["status"] == "COMPLETED" and payment["amount"] == 199000 and payment["invoice_id"] == order["invoice_id"]
    active = my_subscription(c.client, c.sid)
    assert active["status"] == "ACTIVE" and active["plan"]["id"] == enterprise["id"], active
    paid = get_invoice(c.client, order["invoice_id"])
    assert paid["status"] == "PAID" and paid["total"] == 199000 and paid["plan"]["id"] == enterprise["id"], paid
    assert get_invoice(c.client, basic_order["invoice_id"])["status"] == "VOID"
    # The void order stays refused after activation too, and Toss still never heard of it.
    again = confirm(c.client, basic_order, basic_key)
    assert again.status_code in (400, 409), again.text
    assert sandbox_calls(stack, orderId=basic_order["order_id"], path=CONFIRM_PATH) == []
    summary = assert_money_invariant(stack, c.client, c.sid)
    assert summary["held"] == 199000


def test_order_of_a_void_invoice_stays_void_after_switching_back(stack):
    c = Customer(stack, "BASIC")
    first_order, first_key = c.window()
    subscribe(c.client, plans(stack)["PREMIUM"]["id"])
    back = subscribe(c.client, c.plan["id"])
    assert back["plan"]["id"] == c.plan["id"]
    response = confirm(c.client, first_order, first_key)
    assert response.status_code == 409 and response.json()["code"] == "ORDER_VOID", response.text
    assert sandbox_calls(stack, orderId=first_order["order_id"], path=CONFIRM_PATH) == []
    order = checkout(c.client, c.sid)
    assert order["invoice_id"] != first_order["invoice_id"] and order["amount"] == 9900
    assert confirm(c.client, order, authorize(stack, order)).status_code == 200
    assert assert_money_invariant(stack, c.client, c.sid)["held"] == 9900


def test_plan_change_is_refused_while_an_ambiguous_payment_is_unresolved(stack):
    c = Customer(stack, "BASIC")
    order, key = c.window()
    with Faults(stack) as faults:
        # Every confirm (gudok may re-send it with the same Idempotency-Key) loses its answer until the faults are cleared.
        faults.add({"match": {"customerKey": c.key, "path": CONFIRM_PATH}, "action": "reset", "apply": True, "count": -1})
        faults.lookups_down(c.key)
        response = confirm(c.client, order, key)
        assert response.status_code == 502 and response.json()["code"] == "PG_UNAVAILABLE", response.text
        change = c.client.post("/api/subscriptions/subscribe", json={"plan_id": plans(stack)["ENTERPRISE"]["id"]})
        assert change.status_code == 409 and change.json()["code"] == "PAYMENT_IN_PROGRESS", change.text
        assert my_subscription(c.client, c.sid)["plan"]["id"] == c.plan["id"]
        assert get_invoice(c.client, order["invoice_id"])["status"] == "OPEN"
    reconcile(stack)
    active = my_subscription(c.client, c.sid)
    assert active["status"] == "ACTIVE" and active["plan"]["id"] == c.plan["id"], c.dump()
    assert assert_money_invariant(stack, c.client, c.sid)["held"] == 9900


def test_plan_change_during_a_slow_confirm_is_refused(stack):
    c = Customer(stack, "BASIC")
    order, key = c.window()
    with Faults(stack) as faults:
        faults.add({"match": {"customerKey": c.key, "path": CONFIRM_PATH}, "action": "latency", "latencyMs": 1500, "count": 1})
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(confirm, c.tab(), order, key)
            wait_for(lambda: sandbox_calls(stack, orderId=order["order_id"], path=CONFIRM_PATH), 5, "the confirm to reach Toss")
            change = c.client.post("/api/subscriptions/subscribe", json={"plan_id": plans(stack)["ENTERPRISE"]["id"]})
            confirmed = pending.result()
    assert change.status_code == 409 and change.json()["code"] in ("PAYMENT_IN_PROGRESS", "ALREADY_SUBSCRIBED"), change.text
    assert confirmed.status_code == 200, confirmed.text
    active = my_subscription(c.client, c.sid)
    assert active["status"] == "ACTIVE" and active["plan"]["id"] == c.plan["id"], c.dump()
    assert assert_money_invariant(stack, c.client, c.sid)["held"] == 9900


def test_bug2_card_registration_after_an_ambiguous_confirm_does_not_charge_period_0_again(stack):
    c = Customer(stack, "BASIC")
    order, key = c.window()
    with Faults(stack) as faults:
        faults.add({"match": {"customerKey": c.key, "path": CONFIRM_PATH}, "action": "timeout", "latencyMs": 10_000,
                    "apply": True, "count": 1})
        # A re-sent confirm (same Idempotency-Key) loses its answer too, until the faults are cleared.
        faults.add({"match": {"customerKey": c.key, "path": CONFIRM_PATH}, "action": "reset", "apply": True, "count": -1})
        faults.lookups_down(c.key)
        response = c.confirm((order, key), "confirm (times out after Toss approved)")
        assert response.status_code == 502 and response.json()["code"] == "PG_UNAVAILABLE", response.text
        payment = my_payment(c.client, order["order_id"])
        assert payment and payment["status"] == "PENDING", payment
        issued = c.issue(c.register_card(), "billing/issue while the confirm is unresolved")
        assert issued.status_code in (200, 502), issued.text
        if issued.status_code == 200:
            assert issued.json()["subscription"]["status"] == "ACTIVE", issued.text
        assert my_subscription(c.client, c.sid)["card"] is not None, "billing/issue did not store the card"
        assert len(toss_approved(stack, c.key)) == 1, f"period 0 charged a second time at Toss{c.dump()}"
    reconcile(stack)
    assert c.status() == "ACTIVE", c.dump()
    approved = toss_approved(stack, c.key)
    assert len(approved) == 1 and sum(p["balanceAmount"] for p in approved) == 9900, c.dump()
    assert not [p for p in toss_payments(stack, c.key) if p["type"] == "BILLING"], f"a billing charge was sent{c.dump()}"
    assert assert_money_invariant(stack, c.client, c.sid, c.answers)["held"] == 9900
    assert_every_approval_accounted_for(stack, c.sid, c.key, c.answers)


def test_bug3_billing_success_reload_while_the_charge_is_at_toss_shows_no_failure(stack):
    c = Customer(stack, "BASIC")
    auth = c.register_card()
    with Faults(stack) as faults:
        faults.pass_issue(c.key)
        faults.add({"match": {"customerKey": c.key, "method": "POST", "path": "/v1/billing/*"}, "action": "latency",
                    "latencyMs": 2500, "count": 1})

        def charge_started():
            calls = sandbox_calls(stack, path="/v1/billing/*", method="POST", limit=200)
            return [call for call in calls if call["path"] != ISSUE_PATH and isinstance(call.get("body"), dict)
                    and call["body"].get("customerKey") == c.key]

        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(c.client.get, "/api/subscriptions/billing/success", allow_redirects=False,
                                params={"customerKey": c.key, "authKey": auth})
            wait_for(charge_started, 5, "the first charge to reach Toss")
            reload = c.tab().get("/api/subscriptions/billing/success", allow_redirects=False,
                                 params={"customerKey": c.key, "authKey": auth})
            first = first.result()
    c.answers += [("billing/success", first.status_code, first.text), ("reload", reload.status_code, reload.text)]
    assert_no_false_failure("billing/success reloaded while the charge is at Toss", reload)
    assert first.status_code == 303 and "/account" in first.headers["Location"], f"{first.status_code} {first.text[:800]}"
    reconcile(stack)
    assert c.status() == "ACTIVE", c.dump()
    approved = toss_approved(stack, c.key)
    assert len(approved) == 1, f"period 0 approved {len(approved)} times{c.dump()}"
    assert assert_money_invariant(stack, c.client, c.sid, c.answers)["held"] == 9900
    after = c.billing_success(auth, "billing/success reloaded once more, after payment")
    assert_no_false_failure("billing/success reloaded after payment", after)


# ---------------------------------------------------------------- what Toss says later


def test_already_processed_with_lookups_down_stays_pending_then_reconcile_completes(stack):
    c = Customer(stack, "BASIC")
    window = c.window()
    order, _ = window
    with Faults(stack) as faults:
        faults.add({"match": {"customerKey": c.key, "path": CONFIRM_PATH}, "action": "error", "apply": True, "status": 400,
                    "code": "ALREADY_PROCESSED_PAYMENT", "message": "이미 처리된 결제 입니다.", "count": -1})
        faults.lookups_down(c.key)
        for label in ("confirm (ALREADY_PROCESSED, lookups down)", "confirm again"):
            response = c.confirm(window, label)
            assert response.status_code == 502 and response.json()["code"] == "PG_UNAVAILABLE", response.text
            payment = my_payment(c.client, order["order_id"])
            assert payment is not None and payment["status"] == "PENDING", f"{label}: {payment}{c.dump()}"
        assert c.status() == "PENDING"
    reconcile(stack)
    payment = my_payment(c.client, order["order_id"])
    assert payment["status"] == "COMPLETED" and payment["invoice_id"] == order["invoice_id"], c.dump()
    assert c.status() == "ACTIVE"
    assert assert_money_invariant(stack, c.client, c.sid, c.answers)["held"] == 9900


def test_a_failed_payment_that_toss_approved_is_completed_by_a_webhook(stack):
    c = Customer(stack, "BASIC")
    window = c.window()
    order, key = window
    with Faults(stack) as faults:
        faults.add({"match": {"orderId": order["order_id"], "path": CONFIRM_PATH}, "action": "error", "apply": True,
                    "status": 403, "code": "REJECT_CARD_PAYMENT", "count": 1})
        c.confirm(window, "confirm (a decline that Toss actually approved)")
    post_webhook(stack, key)
    reconcile(stack)
    payment = my_payment(c.client, order["order_id"])
    assert payment["status"] == "COMPLETED", f"Toss says DONE but gudok keeps {payment['status']}{c.dump()}"
    assert c.status() == "ACTIVE", c.dump()
    assert get_invoice(c.client, order["invoice_id"])["status"] == "PAID"
    assert assert_money_invariant(stack, c.client, c.sid, c.answers)["held"] == 9900
    assert_every_approval_accounted_for(stack, c.sid, c.key, c.answers)


def test_a_second_approval_of_a_paid_invoice_is_refunded_and_audited(stack):
    c = Customer(stack, "BASIC")
    tab_a, tab_b = c.window(), c.window()
    with Faults(stack) as faults:
        faults.add({"match": {"orderId": tab_a[0]["order_id"], "path": CONFIRM_PATH}, "action": "error", "apply": True,
                    "status": 403, "code": "REJECT_CARD_PAYMENT", "count": 1})
        c.confirm(tab_a, "tab A confirm (a decline that Toss actually approved)")
    if c.status() != "ACTIVE":
        response = c.confirm(tab_b, "tab B confirm")
        assert response.status_code == 200, response.text
    post_webhook(stack, tab_a[1])  # Toss tells gudok that tab A's payment is DONE
    reconcile(stack)
    assert c.status() == "ACTIVE", c.dump()
    approved = toss_approved(stack, c.key)
    held = [p for p in approved if p["balanceAmount"] > 0]
    assert len(held) == 1 and held[0]["balanceAmount"] == 9900, f"Toss keeps {held}{c.dump()}"
    refunded = [p for p in approved if p["status"] == "CANCELED"]
    if len(approved) == 2:
        assert len(refunded) == 1, c.dump()
    assert assert_money_invariant(stack, c.client, c.sid, c.answers)["held"] == 9900
    assert_every_approval_accounted_for(stack, c.sid, c.key, c.answers)


# ---------------------------------------------------------------- invoices


def check_invoice(invoice: dict, plan: dict, subscription_id: str, status: str) -> None:
    assert INVOICE_FIELDS <= set(invoice), f"missing {INVOICE_FIELDS - set(invoice)} in {invoice}"
    assert invoice["subscription_id"] == subscription_id and invoice["status"] == status, invoice
    assert re.match(r"^GD-\d{4}-\d{6,}$", invoice["number"]), invoice["number"]
    assert invoice["plan"] == {"id": plan["id"], "name": plan["name"], "price": plan["price"],
                               "billing_cycle": plan["billing_cycle"]}, invoice["plan"]
    price = plan["price"]
    assert invoice["subtotal"] == price and invoice["discount"] == 0 and invoice["total"] == price, invoice
    assert invoice["vat"] == vat_of(price) == VATS[plan["plan_type"]], invoice
    assert invoice["supply_amount"] == price - invoice["vat"], invoice
    assert invoice["lines"] and sum(line["amount"] for line in invoice["lines"]) == invoice["total"], invoice["lines"]
    assert any(line["kind"] == "PLAN" and line["amount"] == price and line["description"] for line in invoice["lines"]), invoice
    assert RFC3339.match(invoice["created_at"]), invoice["created_at"]
    if status == "PAID":
        assert invoice["paid_at"] and RFC3339.match(invoice["paid_at"]), invoice
        assert invoice["period_start"] and invoice["period_end"] and invoice["period_start"] < invoice["period_end"], invoice
    else:
        assert invoice["paid_at"] is None, invoice


def test_invoice_json_and_vat_split_for_the_three_demo_plans(stack):
    catalogue = plans(stack)
    c = Customer(stack, "BASIC")
    made = []
    for plan_type in ("BASIC", "PREMIUM", "ENTERPRISE"):
        plan = catalogue[plan_type]
        subscription = subscribe(c.client, plan["id"])
        assert subscription["id"] == c.sid
        order = checkout(c.client, c.sid)
        assert order["amount"] == PRICES[plan_type] and order["invoice_id"], order
        invoice = get_invoice(c.client, order["invoice_id"])
        check_invoice(invoice, plan, c.sid, "OPEN")
        made.append((plan, order, invoice))
    plan, order, invoice = made[-1]
    response = confirm(c.client, order, authorize(stack, order))
    assert response.status_code == 200, response.text
    payment = response.json()
    assert payment["invoice_id"] == invoice["id"], payment
    assert [p["invoice_id"] for p in c.client.get("/api/subscriptions/payments").json()] == [invoice["id"]]
    check_invoice(get_invoice(c.client, invoice["id"]), plan, c.sid, "PAID")
    for earlier_plan, _, earlier in made[:-1]:
        check_invoice(get_invoice(c.client, earlier["id"]), earlier_plan, c.sid, "VOID")
    listed = my_invoices(c.client)
    assert [i["id"] for i in listed] == [i["id"] for _, _, i in reversed(made)], "GET /api/invoices: own, newest first"
    numbers = [int(i["number"].rsplit("-", 1)[1]) for _, _, i in made]
    assert numbers == sorted(set(numbers)), f"invoice numbers are not unique and sequential: {numbers}"
    [[period_index]] = stack.query(f"SELECT period_index FROM invoices WHERE id = {sql_text(invoice['id'])}")
    assert int(period_index) == 0
    assert assert_money_invariant(stack, c.client, c.sid)["held"] == 199000


def test_invoices_of_another_user_are_404(stack):
    owner = Customer(stack, "BASIC")
    order = checkout(owner.client, owner.sid)
    invoice_id = order["invoice_id"]
    stranger = new_customer(stack)
    response = stranger.get(f"/api/invoices/{invoice_id}")
    assert response.status_code == 404 and response.json()["code"], response.text
    assert stranger.get(f"/invoices/{invoice_id}", allow_redirects=False).status_code == 404
    assert invoice_id not in [i["id"] for i in my_invoices(stranger)]
    assert owner.client.get(f"/api/invoices/{uuid.uuid4()}").status_code == 404
    anonymous = stack.new_client()
    response = anonymous.get("/api/invoices")
    assert response.status_code == 401 and response.json()["code"] == "NOT_AUTHENTICATED", response.text
    page = anonymous.get(f"/invoices/{invoice_id}", allow_redirects=False)
    assert page.status_code in (302, 303) and "/accounts/login" in page.headers["Location"], page.status_code


def test_printable_invoice_shows_the_vat_split(stack):
    c = Customer(stack, "PREMIUM")
    order = checkout(c.client, c.sid)
    assert confirm(c.client, order, authorize(stack, order)).status_code == 200
    invoice = get_invoice(c.client, order["invoice_id"])
    assert (invoice["total"], invoice["vat"], invoice["supply_amount"]) == (19900, 1809, 18091), invoice
    page = c.client.get(f"/invoices/{invoice['id']}")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html"), page.status_code
    for text in ("공급가액", "부가세", "합계", invoice["number"], "19,900", "18,091", "1,809"):
        assert text in page.text, f"{text!r} missing from the printable invoice"
