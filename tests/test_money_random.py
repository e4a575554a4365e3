"""Random sequences keep the money invariant (SPEC §4, §6, §8, §10 "Invoices").

A seeded random walk over a handful of customers: subscribe (and re-subscribe with another plan while PENDING),
checkout + authorise at the sandbox + confirm (the API or the success redirect), card registration (billing/issue or
the billing success redirect), reloads and repeats of confirms and card registrations, two tabs at once, cancel (now /
at period end) and resume, a cancel while the renewal charge is in flight, `gudok bill --now T` as the clock moves
forward by random hours or days, `gudok reconcile --now T+2min`, webhook deliveries and replays for known payments,
and sandbox faults held for a few steps (timeouts, resets and 5xx with and without the call executed at Toss,
latency, payment lookups down, declined billing charges).

The stack runs with GUDOK_TEST_CLOCK=1 and the test moves that clock to T with every `bill`, so the responder, the
biller and the reconciler share one time (T only moves forward, starting at the real now). Sessions expire on that
clock after 14 days, so a customer whose session expired simply signs in again. The sandbox stays on real time
(its 10-minute confirm window and 15-day idempotency replays) until the end, when it is moved on by 31 minutes with
gudok's reconcile, so unconfirmed payment windows have expired on both sides.

After the walk: faults cleared, then 31 quiet minutes (`gudok reconcile` and a last `gudok bill`, both at T+31min, the
sandbox moved on 31 minutes too); then for every subscription of every customer

  * what the sandbox holds approved for its customer key net of refunds (sum of balanceAmount of its DONE /
    PARTIAL_CANCELED / CANCELED payments) == the sum of `total` of the subscription's PAID invoices;
  * every approval Toss still holds money for is a payment gudok knows, tied to a PAID invoice, one per invoice,
    and no invoice has two COMPLETED payments (an invoice is paid at most once);
  * at most one PAID invoice per (subscription, period_index);
  * an ACTIVE subscription's plan is the plan of its PAID period-0 invoice;
  * no payment is left PENDING.

Along the way every answer is checked: never a 500, every JSON error is {message, code}, webhooks are answered 200,
`bill`/`reconcile` exit 0, a re-subscribe while PENDING answers the same subscription on the new plan, and confirming
an order whose invoice was voided by a plan move (and never sent to Toss) is 409 ORDER_VOID with Toss not called.

A failure reports the seed, the database and the step log. Rerun one case with e.g. `-k "sqlite and 1729"` (alone,
its T starts at the real now instead of where the previous seed left the clock, so calendar details may differ; server
timing and the two-tabs races make a replay close to, not identical with, the original walk).
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta

import pytest
import requests

from billing_support import SEOUL, iso

pytestmark = pytest.mark.both_databases

SEEDS = (7, 1729, 20261)
PASSWORD = "correct horse battery"
APPROVING_CARDS = ("4330123412341234", "5123456789012346", "9410123412341234")
DECLINING_CARDS = ("4000000000000036", "4000000000000044")  # authenticate, then every approval is refused
APPROVED_AT_TOSS = ("DONE", "PARTIAL_CANCELED", "CANCELED")
LIVE = ("ACTIVE", "PAST_DUE")
ENDED = ("CANCELLED", "EXPIRED", "INACTIVE")
BILL_SUMMARY = re.compile(r"^charged=\d+ failed=\d+ pending=\d+ expired=\d+$")
MAX_ACTIVE_FAULTS = 3


@pytest.fixture(scope="module")
def stack_env():
    return {"GUDOK_TEST_CLOCK": "1"}


class Customer:
    def __init__(self, label: str, name: str, client):
        self.label = label
        self.name = name
        self.client = client
        self.tab = None  # a second signed-in session ("another tab / device"), made on first use
        self.current: dict | None = None  # newest subscription, as last listed
        self.subscriptions: dict[str, dict] = {}
        self.orders: list[dict] = []  # checkout orders: order_id, amount, subscription_id, payment_key, void, attempted
        self.auth_keys: list[tuple[str, str]] = []  # (customer_key, auth_key) used at billing/issue


class World:
    def __init__(self, stack, seed: int):
        self.stack = stack
        self.seed = seed
        self.rng = random.Random(seed)
        self.log: list[str] = []
        self.step = 0
        self.sandbox = requests.Session()
        self.faults: dict[str, int] = {}  # fault id -> step after which the test removes it
        self.transmissions: list[tuple[dict, str]] = []
        self.anonymous = stack.new_client()
        self.customers: list[Customer] = []
        self.customer_keys: list[str] = []  # in the order the walk met them (stable for a seed, unlike sorting random keys)
        self.actions = Counter()
        # T: the test clock. Starts at the real now (or where an earlier seed on this stack left it); only moves forward.
        real_now = datetime.now(SEOUL).replace(microsecond=0)
        self.start = max(real_now, getattr(stack, "money_random_clock", real_now))
        self.now = self.start
        self.plans = {plan["plan_type"]: plan for plan in self.expect_api("plans", self.anonymous.get("/api/subscriptions/plans"))}

    # ------------------------------------------------------------ bookkeeping

    def say(self, text: str) -> None:
        elapsed = self.now - self.start
        hours = int(elapsed.total_seconds() // 3600)
        line = f"{self.step:02d} T+{hours // 24}d{hours % 24:02d}h {text}"
        self.log.append(line)
        print(line)

    def remember(self, customer: Customer, subscription: dict) -> None:
        customer.subscriptions[subscription["id"]] = subscription
        if subscription["customer_key"] not in self.customer_keys:
            self.customer_keys.append(subscription["customer_key"])

    # ------------------------------------------------------------ answers

    @staticmethod
    def code_of(response: requests.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return ""
        return body.get("code", "") if isinstance(body, dict) else ""

    def brief(self, response: requests.Response) -> str:
        code = self.code_of(response) if response.status_code >= 300 else ""
        return f"{response.status_code}{' ' + code if code else ''}"

    def expect_api(self, what: str, response: requests.Response):
        """A JSON API answer: never 500; an error is a JSON object {message, code}. Returns the parsed body (or None)."""
        status = response.status_code
        assert status != 500, f"{what}: 500 {response.text[:500]}"
        try:
            body = response.json()
        except ValueError:
            body = None
        if status >= 400:
            assert response.headers.get("Content-Type", "").startswith("application/json"), \
                f"{what}: error {status} is not JSON: {response.headers.get('Content-Type')} {response.text[:300]}"
            assert isinstance(body, dict) and isinstance(body.get("message"), str) and body["message"] \
                and isinstance(body.get("code"), str) and body["code"], f"{what}: error {status} is not {{message, code}}: {response.text[:300]}"
        else:
            assert body is not None, f"{what}: {status} answer is not JSON: {response.text[:300]}"
        return body

    def expect_page(self, what: str, response: requests.Response) -> None:
        """A redirect page (Toss's successUrl): a 303 or an HTML page that explains, never a 500 or nginx's own error page."""
        status = response.status_code
        assert status != 500, f"{what}: 500 {response.text[:500]}"
        assert "<center>nginx" not in response.text, f"{what}: nginx answered {status} itself (responder down or too slow)"
        if status >= 400:
            assert "text/html" in response.headers.get("Content-Type", ""), f"{what}: error page {status} is not HTML: {response.text[:300]}"

    # ------------------------------------------------------------ HTTP as a customer

    def sign_in(self, customer: Customer, client) -> None:
        client.cookies.clear()
        for _ in range(10):
            response = client.login(customer.name, PASSWORD)
            if response.status_code != 429:
                break
            time.sleep(1)
        assert response.status_code == 200, f"sign-in again as {customer.name}: {response.status_code} {response.text[:300]}"

    def call(self, customer: Customer, method: str, path: str, client=None, page: bool = False, **kwargs) -> requests.Response:
        """One request as the customer; when the session expired on the test clock, signs in again and repeats it once."""
        client = client or customer.client
        if page:
            kwargs.setdefault("allow_redirects", False)
        response = client.request(method, path, **kwargs)
        expired = (response.status_code == 401 and self.code_of(response) == "NOT_AUTHENTICATED") or \
            (page and response.status_code in (302, 303) and response.headers.get("Location", "").startswith("/accounts/login"))
        if expired:
            self.sign_in(customer, client)
            response = client.request(method, path, **kwargs)
        return response

    def second_tab(self, customer: Customer):
        if customer.tab is None:
            customer.tab = self.stack.new_client()
            self.sign_in(customer, customer.tab)
        return customer.tab

    def refresh(self, customer: Customer) -> None:
        listed = self.expect_api("my-subscriptions", self.call(customer, "GET", "/api/subscriptions/my-subscriptions"))
        for subscription in listed:
            self.remember(customer, subscription)
        customer.current = listed[0] if listed else None

    # ------------------------------------------------------------ the sandbox

    def sandbox_post(self, path: str, body: dict) -> requests.Response:
        return self.sandbox.post(self.stack.sandbox.url + path, json=body, timeout=10)

    def sandbox_payments(self, customer_key: str) -> list[dict]:
        response = self.sandbox.get(self.stack.sandbox.url + "/sandbox/payments", params={"customerKey": customer_key}, timeout=30)
        response.raise_for_status()
        data = response.json()
        return data["payments"] if isinstance(data, dict) else data

    def confirm_calls(self, order_id: str) -> list[dict]:
        response = self.sandbox.get(self.stack.sandbox.url + "/sandbox/calls",
                                    params={"orderId": order_id, "path": "/v1/payments/confirm"}, timeout=10)
        response.raise_for_status()
        data = response.json()
        return data["calls"] if isinstance(data, dict) else data

    def add_fault(self, rule: dict, steps: int) -> str:
        response = self.sandbox_post("/sandbox/faults", rule)
        assert response.status_code in (200, 201), f"fault {rule}: {response.status_code} {response.text}"
        fault_id = response.json()["id"]
        self.faults[fault_id] = self.step + steps
        return fault_id

    def expire_faults(self, everything: bool = False) -> None:
        for fault_id, until in list(self.faults.items()):
            if everything or until <= self.step:
                self.sandbox.delete(f"{self.stack.sandbox.url}/sandbox/faults/{fault_id}", timeout=10)  # 404 once used up
                del self.faults[fault_id]
                self.say(f"fault {fault_id} removed")
        if everything:
            self.sandbox.delete(self.stack.sandbox.url + "/sandbox/faults", timeout=10).raise_for_status()

    # ------------------------------------------------------------ gudok commands

    def gudok(self, *args: str) -> str:
        result = self.stack.run(*args, timeout=240)
        assert result.returncode == 0, f"gudok {' '.join(args)} exited {result.returncode}:\n{result.stderr[-2000:]}"
        return result.stdout

    def set_clock(self, moment: datetime) -> None:
        assert moment >= self.now, "the test clock only moves forward"
        self.now = moment
        self.stack.money_random_clock = moment
        self.gudok("clock", "set", iso(moment))

    def bill(self, at: datetime | None = None) -> str:
        out = self.gudok("bill", "--now", iso(at or self.now))
        last = out.strip().splitlines()[-1] if out.strip() else ""
        assert BILL_SUMMARY.match(last), f"`gudok bill` last stdout line: {last!r}"
        return last

    def reconcile(self, at: datetime) -> str:
        out = self.gudok("reconcile", "--now", iso(at))
        return out.strip().splitlines()[-1] if out.strip() else ""

    # ------------------------------------------------------------ customer actions

    def act_subscribe(self, c: Customer) -> None:
        before = c.current if c.current and c.current["status"] == "PENDING" else None
        plans = list(self.plans.values())
        if before and self.rng.random() < 0.8:
            plans = [p for p in plans if p["id"] != before["plan"]["id"]]
        # Mostly monthly plans: a yearly one never renews within a walk.
        plan = self.rng.choices(plans, weights=[1 if p["billing_cycle"] == "YEARLY" else 4 for p in plans])[0]
        response = self.call(c, "POST", "/api/subscriptions/subscribe", json={"plan_id": plan["id"]})
        body = self.expect_api("subscribe", response)
        self.say(f"{c.label} subscribe {plan['plan_type']}"
                 f"{' (pending ' + before['plan']['plan_type'] + ')' if before else ''} -> {self.brief(response)}")
        if response.status_code not in (200, 201):
            return
        self.remember(c, body)
        assert body["status"] == "PENDING" and body["plan"]["id"] == plan["id"], \
            f"subscribe {plan['plan_type']} answered {body['status']} on {body['plan']['plan_type']}"
        if before:
            assert body["id"] == before["id"], "a second subscribe while PENDING must answer the same pending subscription"
            if before["plan"]["id"] != plan["id"]:
                voided = [o for o in c.orders if o["subscription_id"] == before["id"] and not o["void"]]
                for order in voided:
                    order["void"] = True
                if voided:
                    self.say(f"{c.label}   orders of the voided invoice: {', '.join(o['order_id'] for o in voided)}")
        c.current = body

    def new_order(self, c: Customer, card: str | None = None, client=None) -> dict | None:
        """Checkout and, as the card form would, authorisation at the sandbox. None when checkout is refused."""
        subscription = c.current
        response = self.call(c, "POST", f"/api/subscriptions/{subscription['id']}/checkout", client=client)
        order = self.expect_api("checkout", response)
        if response.status_code != 201:
            self.say(f"{c.label} checkout ({subscription['status']}) -> {self.brief(response)}")
            return None
        assert order["amount"] == subscription["plan"]["price"], f"checkout amount {order['amount']} is not the plan's {subscription['plan']}"
        assert order["customer_key"] == subscription["customer_key"]
        record = {"order_id": order["order_id"], "amount": order["amount"], "order_name": order["order_name"],
                  "customer_key": order["customer_key"], "subscription_id": subscription["id"], "plan": subscription["plan"]["plan_type"],
                  "payment_key": None, "card": None, "void": False, "attempted": False}
        c.orders.append(record)
        if card is not None:
            self.authorize(record, card)
        return record

    def authorize(self, order: dict, card: str) -> bool:
        response = self.sandbox_post("/sandbox/payments/authorize",
                                     {"orderId": order["order_id"], "amount": order["amount"], "orderName": order["order_name"],
                                      "customerKey": order["customer_key"], "cardNumber": card})
        if response.status_code != 200:  # e.g. the order was confirmed already: DUPLICATED_ORDER_ID
            return False
        order["payment_key"] = response.json()["paymentKey"]
        order["card"] = card
        return True

    def send_confirm(self, c: Customer, order: dict, via: str, client=None, amount_as_text: bool = False) -> requests.Response:
        """No randomness in here: it also runs on the two-tabs threads (the seed must replay the same draws)."""
        if via == "api":
            amount = str(order["amount"]) if amount_as_text else order["amount"]
            return self.call(c, "POST", "/api/subscriptions/payments/confirm", client=client,
                             json={"payment_key": order["payment_key"], "order_id": order["order_id"], "amount": amount})
        return self.call(c, "GET", "/api/subscriptions/payments/success", client=client, page=True,
                         params={"paymentKey": order["payment_key"], "orderId": order["order_id"], "amount": str(order["amount"])})

    def judge_confirm(self, c: Customer, order: dict, via: str, response: requests.Response, expect_void: bool, what: str) -> None:
        if via == "api":
            body = self.expect_api(what, response)
            outcome = self.brief(response) + (f" {body['status']}" if response.status_code == 200 else "")
        else:
            self.expect_page(what, response)
            outcome = f"{response.status_code}" + (f" -> {response.headers.get('Location')}" if response.status_code in (302, 303) else "")
        self.say(f"{c.label} {what} {order['order_id']} ({order['plan']}, card {order['card'][:4]}, via {via}) -> {outcome}")
        if expect_void:
            if via == "api":
                assert response.status_code == 409 and self.code_of(response) == "ORDER_VOID", \
                    f"confirming order {order['order_id']} of a voided invoice: {response.status_code} {response.text[:300]} (want 409 ORDER_VOID)"
            calls = self.confirm_calls(order["order_id"])
            assert not calls, f"order {order['order_id']} of a voided invoice was confirmed at Toss: {calls}"

    def confirm(self, c: Customer, order: dict, what: str = "confirm") -> None:
        via = "api" if self.rng.random() < 0.6 else "redirect"
        expect_void = order["void"] and not order["attempted"]
        if self.rng.random() < 0.22:
            self.fault_this_confirm(order)
        order["attempted"] = True
        response = self.send_confirm(c, order, via, amount_as_text=self.rng.random() < 0.3)
        self.judge_confirm(c, order, via, response, expect_void, what)

    def fault_this_confirm(self, order: dict) -> None:
        """This confirm gets no (usable) answer from Toss, executed there or not; sometimes its lookups fail too."""
        rule = {"match": {"orderId": order["order_id"], "path": "/v1/payments/confirm"},
                "action": self.rng.choice(["timeout", "reset", "error"]), "apply": self.rng.random() < 0.5, "count": 1}
        self.finish_rule(rule)
        text = f"{rule['action']} apply={rule['apply']}"
        self.add_fault(rule, steps=1)
        if self.rng.random() < 0.4:
            self.add_fault({"match": {"orderId": order["order_id"], "method": "GET"}, "action": "error", "status": 503, "count": -1}, steps=1)
            text += " + its lookups down"
        self.say(f"   (this confirm: {text})")

    def fault_this_first_charge(self, customer_key: str) -> None:
        """The charge billing/issue makes right after issuing the key gets no (usable) answer, or is declined. Rules fire in
        order: a no-op rule takes the issue call, the second one the charge."""
        match = {"customerKey": customer_key, "path": "/v1/billing/*", "method": "POST"}
        rule = {"match": match, "action": self.rng.choice(["timeout", "reset", "error", "decline"]), "apply": self.rng.random() < 0.5, "count": 1}
        self.finish_rule(rule)
        self.add_fault({"match": match, "action": "latency", "latencyMs": 0, "count": 1}, steps=1)
        self.add_fault(rule, steps=1)
        self.say(f"   (the charge after this issue: {rule['action']} apply={rule['apply']})")

    def finish_rule(self, rule: dict) -> None:
        if rule["action"] == "timeout":
            rule["latencyMs"] = self.rng.choice([300, 800, 1500, 2500])
        if rule["action"] == "error":
            rule.setdefault("status", self.rng.choice([500, 502, 503]))

    def act_checkout(self, c: Customer) -> None:
        roll = self.rng.random()
        card = self.rng.choice(DECLINING_CARDS) if roll < 0.15 else self.rng.choice(APPROVING_CARDS)
        if roll > 0.9:  # the buyer closes the card form (취소): failUrl without authorising
            order = self.new_order(c)
            if order is None:
                return
            order["attempted"] = True  # marked FAILED by the fail page: no ORDER_VOID expectation for it later
            response = self.call(c, "GET", "/api/subscriptions/payments/fail", page=True,
                                 params={"code": "PAY_PROCESS_CANCELED", "message": "사용자에 의해 결제가 취소되었습니다", "orderId": order["order_id"]})
            self.expect_page("fail redirect", response)
            self.say(f"{c.label} checkout {order['order_id']} ({order['plan']}) then 취소 at the card form -> {response.status_code}")
            return
        order = self.new_order(c, card)
        if order is None:
            return
        if roll > 0.78:  # authorised, tab closed before the redirect: maybe confirmed later (reconfirm)
            self.say(f"{c.label} checkout {order['order_id']} ({order['plan']}) authorised with {card[:4]}, not confirmed")
            return
        self.confirm(c, order)

    def act_reconfirm(self, c: Customer) -> None:
        known = [o for o in c.orders if o["payment_key"]]
        if not known:
            return self.act_checkout(c) if c.current and c.current["status"] == "PENDING" else None
        self.confirm(c, self.rng.choice(known), what="confirm again")

    def act_reauthorize(self, c: Customer) -> None:
        """The buyer opens the payment window again for an order they already have (a new paymentKey for the same orderId)."""
        known = [o for o in c.orders if o["subscription_id"] == (c.current or {}).get("id")]
        if not known:
            return self.act_checkout(c)
        order = self.rng.choice(known)
        card = self.rng.choice(APPROVING_CARDS)
        if not self.authorize(order, card):
            self.say(f"{c.label} pay {order['order_id']} again: the sandbox refuses a new window")
            return
        self.confirm(c, order, what="pay again")

    def send_issue(self, c: Customer, customer_key: str, auth_key: str, via: str, client=None) -> requests.Response:
        if via == "api":
            return self.call(c, "POST", "/api/subscriptions/billing/issue", client=client,
                             json={"customer_key": customer_key, "auth_key": auth_key})
        return self.call(c, "GET", "/api/subscriptions/billing/success", client=client, page=True,
                         params={"customerKey": customer_key, "authKey": auth_key})

    def judge_issue(self, c: Customer, via: str, response: requests.Response, what: str) -> None:
        if via == "api":
            body = self.expect_api(what, response)
            outcome = self.brief(response) + (f" {body['subscription']['status']}" if response.status_code == 200 else "")
        else:
            self.expect_page(what, response)
            outcome = str(response.status_code)
        self.say(f"{c.label} {what} (via {via}) -> {outcome}")

    def billing_auth(self, c: Customer, customer_key: str) -> tuple[str, str] | None:
        card = self.rng.choice(DECLINING_CARDS) if self.rng.random() < 0.2 else self.rng.choice(APPROVING_CARDS)
        response = self.sandbox_post("/sandbox/billing/authorize", {"customerKey": customer_key, "cardNumber": card})
        assert response.status_code == 200, f"sandbox billing authorize: {response.status_code} {response.text}"
        auth_key = response.json()["authKey"]
        c.auth_keys.append((customer_key, auth_key))
        return auth_key, card

    def act_card(self, c: Customer) -> None:
        if c.current is None:
            return
        auth_key, card = self.billing_auth(c, c.current["customer_key"])
        via = "api" if self.rng.random() < 0.7 else "redirect"
        if c.current["status"] in ("PENDING", "PAST_DUE") and self.rng.random() < 0.25:
            self.fault_this_first_charge(c.current["customer_key"])
        response = self.send_issue(c, c.current["customer_key"], auth_key, via)
        self.judge_issue(c, via, response, f"register card {card[:4]} ({c.current['status']} {c.current['plan']['plan_type']})")

    def act_reissue(self, c: Customer) -> None:
        if not c.auth_keys:
            return self.act_card(c)
        customer_key, auth_key = self.rng.choice(c.auth_keys)
        via = "api" if self.rng.random() < 0.7 else "redirect"
        self.judge_issue(c, via, self.send_issue(c, customer_key, auth_key, via), "register the same card again")

    def act_cancel(self, c: Customer) -> None:
        target = c.current if c.current and (c.current["status"] in LIVE or self.rng.random() < 0.5) \
            else self.rng.choice(list(c.subscriptions.values())) if c.subscriptions else None
        if target is None:
            return
        at_period_end = self.rng.random() < 0.55
        kwargs = {"json": {"at_period_end": at_period_end}} if (not at_period_end or self.rng.random() < 0.7) else {}
        response = self.call(c, "POST", f"/api/subscriptions/cancel/{target['id']}", **kwargs)
        body = self.expect_api("cancel", response)
        outcome = self.brief(response) + (f" {body['subscription']['status']}" if response.status_code == 200 else "")
        self.say(f"{c.label} cancel {'at period end' if at_period_end else 'now'} ({target['status']} {target['plan']['plan_type']}) -> {outcome}")

    def act_resume(self, c: Customer) -> None:
        if c.current is None:
            return
        response = self.call(c, "POST", f"/api/subscriptions/{c.current['id']}/resume")
        self.expect_api("resume", response)
        self.say(f"{c.label} resume ({c.current['status']}, cancelling={c.current['cancel_at_period_end']}) -> {self.brief(response)}")

    def act_race_pending(self, c: Customer) -> None:
        """Two tabs at once on a PENDING subscription: two confirms (of one order or two), or a confirm and a card registration."""
        kinds = [self.rng.choice(["confirm", "confirm", "card"]) for _ in range(2)]
        tabs = [c.client, self.second_tab(c)]
        shared = self.new_order(c, self.rng.choice(APPROVING_CARDS)) if "confirm" in kinds else None
        if "confirm" in kinds and shared is None:
            return
        jobs = []
        for kind, tab in zip(kinds, tabs):
            if kind == "card":
                auth_key, card = self.billing_auth(c, c.current["customer_key"])
                via = self.rng.choice(["api", "redirect"])
                jobs.append(("card", via, (c.current["customer_key"], auth_key), tab))
            else:
                order = shared if (not jobs or self.rng.random() < 0.5) else self.new_order(c, self.rng.choice(APPROVING_CARDS))
                if order is None:
                    return
                order["attempted"] = True
                jobs.append(("confirm", self.rng.choice(["api", "redirect"]), (order, self.rng.random() < 0.3), tab))
        answers: list = [None, None]

        def run(index: int, job) -> None:
            kind, via, what, tab = job
            try:
                answers[index] = (self.send_confirm(c, what[0], via, tab, amount_as_text=what[1]) if kind == "confirm"
                                  else self.send_issue(c, *what, via, tab))
            except Exception as error:  # noqa: BLE001 - reported below, in the main thread
                answers[index] = error

        threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        self.say(f"{c.label} two tabs at once: {' + '.join(kind for kind, *_ in jobs)}")
        for (kind, via, what, _), answer in zip(jobs, answers):
            if isinstance(answer, Exception) or answer is None:
                raise AssertionError(f"two tabs: {kind} raised {answer!r}")
            if kind == "confirm":
                self.judge_confirm(c, what[0], via, answer, False, "  tab confirm")
            else:
                self.judge_issue(c, via, answer, "  tab register card")

    def act_race_renewal(self, c: Customer) -> None:
        """The customer cancels (now or at period end) while the renewal charge is in flight: slow but answered, unanswered
        but executed at Toss, or unanswered and never executed. Skipped (a card is registered instead) without a card."""
        subscription = c.current
        due = datetime.fromisoformat(subscription["next_billing_date"]) if subscription.get("next_billing_date") else None
        if subscription.get("card") is None:  # a renewal without a card goes to dunning without calling Toss
            return self.act_card(c)
        if due is None or due - self.now > timedelta(days=40):
            return self.act_cancel(c)
        self.set_clock(max(self.now, due) + timedelta(minutes=self.rng.randint(1, 90)))
        # Slow but answered, or unanswered and executed at Toss, or unanswered and never executed (Toss knows no such order).
        action, apply = self.rng.choice([("latency", True), ("timeout", True), ("timeout", False), ("reset", True), ("reset", False),
                                         ("error", True), ("error", False)])
        rule = {"match": {"customerKey": subscription["customer_key"], "path": "/v1/billing/*", "method": "POST"},
                "action": action, "apply": apply, "count": 1}
        self.finish_rule(rule)
        if action == "latency":
            rule["latencyMs"] = self.rng.choice([800, 1500, 2500])
        others = len(self.faults)
        self.add_fault(rule, steps=1)
        result: dict = {}

        def bill() -> None:
            try:
                result["out"] = self.bill()
            except BaseException as error:  # noqa: BLE001 - reported in the main thread
                result["error"] = error

        thread = threading.Thread(target=bill)
        thread.start()
        time.sleep(self.rng.uniform(0.25, 0.9))
        at_period_end = self.rng.random() < 0.4
        response = self.call(c, "POST", f"/api/subscriptions/cancel/{subscription['id']}", json={"at_period_end": at_period_end})
        thread.join(240)
        if "error" in result:
            raise result["error"]
        body = self.expect_api("cancel during renewal", response)
        outcome = self.brief(response) + (f" {body['subscription']['status']}" if response.status_code == 200 else "")
        self.say(f"{c.label} renewal charge with fault {action} apply={apply}{' ' + str(rule.get('latencyMs')) + ' ms' if rule.get('latencyMs') else ''}"
                 f"{f' (behind {others} other active faults)' if others else ''} + cancel {'at period end' if at_period_end else 'now'} "
                 f"while it is in flight -> {outcome}; bill: {result.get('out')}")

    def customer_step(self, c: Customer) -> None:
        self.refresh(c)
        status = c.current["status"] if c.current else None
        if status is None or status in ENDED:
            options = {"subscribe": 8, "reconfirm": 1, "reissue": 1}
        elif status == "PENDING":
            options = {"subscribe": 3, "checkout": 7, "card": 3, "reconfirm": 2, "reauthorize": 1, "reissue": 1, "race": 2, "cancel": 1}
        elif status == "ACTIVE":
            options = {"cancel": 4, "resume": 3 if c.current["cancel_at_period_end"] else 1, "card": 2, "reconfirm": 2, "reissue": 1,
                       "subscribe": 1, "checkout": 1, "race": 4}
        else:  # PAST_DUE (or a status this test does not know: everything must still answer sensibly)
            options = {"card": 5, "cancel": 2, "reissue": 1, "subscribe": 1, "reconfirm": 1}
        action = self.rng.choices(list(options), weights=list(options.values()))[0]
        self.actions[action] += 1
        if action == "race":
            return self.act_race_pending(c) if status == "PENDING" else self.act_race_renewal(c)
        getattr(self, f"act_{action}")(c)

    # ------------------------------------------------------------ world actions

    def act_bill(self) -> None:
        roll = self.rng.random()
        if roll < 0.15:
            delta = timedelta(0)
        elif roll < 0.35:
            delta = timedelta(hours=self.rng.randint(1, 23))
        elif roll < 0.8:
            delta = timedelta(days=self.rng.randint(1, 6), hours=self.rng.randint(0, 5))
        else:
            delta = timedelta(days=self.rng.choice([10, 14, 20, 31]))
        if delta:
            self.set_clock(self.now + delta)
        self.say(f"bill --now T -> {self.bill()}")

    def act_reconcile(self) -> None:
        self.say(f"reconcile --now T+2min -> {self.reconcile(self.now + timedelta(minutes=2))}")

    def act_webhook(self) -> None:
        if self.transmissions and self.rng.random() < 0.25:
            body, transmission_id = self.rng.choice(self.transmissions)
            label = "replayed"
        else:
            if not self.customer_keys:
                return
            payments = self.sandbox_payments(self.rng.choice(self.customer_keys))
            if not payments:
                return
            payment = self.rng.choice(payments)
            status = self.rng.choice([payment["status"], payment["status"], "DONE", "CANCELED", "ABORTED"])
            body = {"eventType": "PAYMENT_STATUS_CHANGED", "createdAt": "2026-01-01T00:00:00.000000",
                    "data": {"paymentKey": payment["paymentKey"], "orderId": payment["orderId"], "status": status}}
            transmission_id = f"wh_{uuid.uuid4().hex}"
            self.transmissions.append((body, transmission_id))
            label = f"{payment['orderId']} (Toss: {payment['status']}, body: {status})"
        response = self.anonymous.post("/api/webhooks/toss", data=json.dumps(body).encode(), csrf=False,
                                       headers={"Content-Type": "application/json", "tosspayments-webhook-transmission-id": transmission_id,
                                                "tosspayments-webhook-transmission-time": "2026-01-01T00:00:00+09:00",
                                                "tosspayments-webhook-transmission-retried-count": "0"})
        answer = self.expect_api("webhook", response)
        assert response.status_code == 200, f"webhook {label}: {response.status_code} {response.text[:300]}"
        self.say(f"webhook {label} -> 200 {answer}")

    def act_fault(self) -> None:
        rng = self.rng
        steps = rng.randint(2, 6)
        kind = rng.choice(["confirm", "charge", "latency", "lookups-down", "decline", "cancel", "anything"])
        if kind == "confirm":
            rule = {"match": {"path": "/v1/payments/confirm"}, "action": rng.choice(["timeout", "reset", "error"]),
                    "apply": rng.random() < 0.5, "count": rng.randint(1, 2)}
        elif kind == "charge":
            rule = {"match": {"path": "/v1/billing/*", "method": "POST"}, "action": rng.choice(["timeout", "reset", "error"]),
                    "apply": rng.random() < 0.5, "count": rng.randint(1, 3)}
        elif kind == "latency":
            rule = {"match": {}, "action": "latency", "latencyMs": rng.choice([300, 800, 1500]), "count": rng.randint(1, 4)}
        elif kind == "lookups-down":
            rule = {"match": {"path": "/v1/payments/*", "method": "GET"}, "action": "error", "status": 503, "count": -1}
        elif kind == "decline":
            match = {"path": "/v1/billing/*", "method": "POST"}
            if self.customer_keys and rng.random() < 0.5:
                match["customerKey"] = rng.choice(self.customer_keys)
            rule = {"match": match, "action": "decline", "count": rng.randint(1, 3)}
        elif kind == "cancel":  # gudok's own refunds (and confirms) fail
            rule = {"match": {"path": "/v1/payments/*", "method": "POST"}, "action": rng.choice(["error", "reset"]),
                    "apply": rng.random() < 0.5, "count": rng.randint(1, 2)}
        else:
            rule = {"match": {}, "action": rng.choice(["error", "reset"]), "apply": rng.random() < 0.5, "count": rng.randint(1, 2)}
        self.finish_rule(rule)
        fault_id = self.add_fault(rule, steps)
        self.say(f"fault {fault_id} for {steps} steps: {kind} {json.dumps(rule, ensure_ascii=False)}")

    # ------------------------------------------------------------ the walk

    def add_customers(self, count: int) -> None:
        for n in range(count):
            name = f"money{self.seed}_{n}_{uuid.uuid4().hex[:6]}"
            self.stack.create_user(name, PASSWORD)
            customer = Customer(f"c{n}", name, self.stack.new_client())
            self.sign_in(customer, customer.client)
            self.customers.append(customer)

    def walk(self, steps: int) -> None:
        self.say(f"seed {self.seed} on {self.stack.db}: {len(self.customers)} customers, {steps} steps, T = {iso(self.now)}")
        self.set_clock(self.now)
        for self.step in range(1, steps + 1):
            self.expire_faults()
            logged = len(self.log)
            roll = self.rng.random()
            if roll < 0.6:
                self.customer_step(self.rng.choice(self.customers))
            elif roll < 0.72:
                self.actions["bill"] += 1
                self.act_bill()
            elif roll < 0.79:
                self.actions["reconcile"] += 1
                self.act_reconcile()
            elif roll < 0.86:
                self.actions["webhook"] += 1
                self.act_webhook()
            elif len(self.faults) < MAX_ACTIVE_FAULTS:
                self.actions["fault"] += 1
                self.act_fault()
            else:
                self.actions["bill"] += 1
                self.act_bill()
            if len(self.log) == logged:
                self.say("(nothing to do)")
            assert self.stack.responder.poll() is None, f"gudok serve exited with {self.stack.responder.returncode}"
            if self.step % 10 == 0:
                self.check_paid_once_per_period()

    def settle(self) -> None:
        """Faults cleared, then 31 quiet minutes as the worker would spend them: abandoned payment windows expire (the sandbox
        is moved on 31 minutes too), `reconcile` and a last `bill` at T+31min. (The bill runs at T+31min, not at T: gudok
        leaves an unanswered renewal younger than its in-flight window alone, and settles it on a later pass.)"""
        self.step += 1
        self.expire_faults(everything=True)
        self.sandbox_post("/sandbox/clock", {"advanceSeconds": 31 * 60}).raise_for_status()
        self.set_clock(self.now + timedelta(minutes=31))
        self.say(f"settle: faults cleared; sandbox clock +31min; reconcile --now T -> {self.reconcile(self.now)}")
        self.say(f"settle: bill --now T -> {self.bill()}")

    # ------------------------------------------------------------ the invariant

    def invoice_rows(self, subscription_ids: list[str]) -> list[dict]:
        if not subscription_ids:
            return []
        ids = ", ".join(f"'{sid}'" for sid in subscription_ids)
        rows = self.stack.query(f"SELECT id, subscription_id, period_index, status, plan_id, total FROM invoices WHERE subscription_id IN ({ids})")
        return [{"id": str(r[0]), "subscription_id": str(r[1]), "period_index": int(r[2]), "status": r[3], "plan_id": str(r[4]),
                 "total": int(r[5])} for r in rows]

    def check_paid_once_per_period(self) -> None:
        ids = [sid for c in self.customers for sid in c.subscriptions]
        paid = Counter((r["subscription_id"], r["period_index"]) for r in self.invoice_rows(ids) if r["status"] == "PAID")
        twice = {key: n for key, n in paid.items() if n > 1}
        assert not twice, f"more than one PAID invoice for (subscription, period_index): {twice}"

    def check_invariant(self) -> None:
        problems: list[str] = []
        report: list[str] = []
        for c in self.customers:
            subscriptions = self.expect_api("my-subscriptions", self.call(c, "GET", "/api/subscriptions/my-subscriptions"))
            invoices = self.expect_api("invoices", self.call(c, "GET", "/api/invoices"))
            payments = self.expect_api("payments", self.call(c, "GET", "/api/subscriptions/payments"))
            assert isinstance(invoices, list), f"GET /api/invoices is not a list: {str(invoices)[:300]}"
            rows = {r["id"]: r for r in self.invoice_rows([s["id"] for s in subscriptions])}
            for s in subscriptions:
                self.remember(c, s)
                where = f"{c.label} subscription {s['id']} ({s['status']} {s['plan']['plan_type']}, customer_key {s['customer_key']})"
                at_toss = self.sandbox_payments(s["customer_key"])
                approved = [p for p in at_toss if p["status"] in APPROVED_AT_TOSS]
                net = sum(int(p["balanceAmount"]) for p in approved)
                mine = [i for i in invoices if i["subscription_id"] == s["id"]]
                by_id = {i["id"]: i for i in mine}
                paid = [i for i in mine if i["status"] == "PAID"]
                paid_total = sum(int(i["total"]) for i in paid)
                local = [p for p in payments if p["subscription_id"] == s["id"]]
                local_by_order = {p["order_id"]: p for p in local}
                toss_text = "; ".join(f"{p['orderId']} {p['type']} {p['status']} total={p['totalAmount']} balance={p['balanceAmount']}"
                                      for p in at_toss) or "nothing"
                invoice_text = "; ".join(
                    f"{i['number']} p{rows.get(i['id'], {}).get('period_index', '?')} {i['plan']['name']} {i['status']} total={i['total']}"
                    for i in mine) or "none"
                local_text = "; ".join(f"{p['order_id']} {p['status']} {p['amount']} refunded={p['refunded_amount']} invoice={p.get('invoice_id')}"
                                       for p in local) or "none"
                report.append(f"{where}: Toss net {net}, PAID invoices {paid_total}")
                detail = f"\n      Toss: {toss_text}\n      invoices: {invoice_text}\n      payments: {local_text}"
                if net != paid_total:
                    problems.append(f"{where}: Toss holds {net} won net of refunds, PAID invoices total {paid_total}{detail}")
                holders = Counter()
                for p in approved:
                    if int(p["balanceAmount"]) <= 0:
                        continue
                    known = local_by_order.get(p["orderId"])
                    if known is None:
                        problems.append(f"{where}: Toss holds {p['balanceAmount']} for order {p['orderId']} that gudok has no payment for{detail}")
                    elif not known.get("invoice_id"):
                        problems.append(f"{where}: payment {known['order_id']} (Toss holds {p['balanceAmount']}) belongs to no invoice{detail}")
                    else:
                        holders[known["invoice_id"]] += 1
                        invoice = by_id.get(known["invoice_id"])
                        if invoice is None or invoice["status"] != "PAID":
                            problems.append(f"{where}: Toss holds {p['balanceAmount']} for {p['orderId']} but its invoice is "
                                            f"{invoice['status'] if invoice else 'not listed'}{detail}")
                for invoice_id, n in holders.items():
                    if n > 1:
                        problems.append(f"{where}: invoice {by_id.get(invoice_id, {}).get('number', invoice_id)} paid {n} times at Toss{detail}")
                completed = Counter(p.get("invoice_id") for p in local if p["status"] == "COMPLETED")
                for invoice_id, n in completed.items():
                    if n > 1:
                        problems.append(f"{where}: invoice {by_id.get(invoice_id, {}).get('number', invoice_id)} has {n} COMPLETED payments{detail}")
                pending = [p["order_id"] for p in local if p["status"] == "PENDING"]
                if pending:
                    problems.append(f"{where}: payments still PENDING after faults were cleared and reconcile ran: {pending}{detail}")
                periods = Counter(rows[i["id"]]["period_index"] for i in paid if i["id"] in rows)
                for period, n in periods.items():
                    if n > 1:
                        problems.append(f"{where}: {n} PAID invoices for period {period}{detail}")
                missing = [i["number"] for i in mine if i["id"] not in rows]
                if missing:
                    problems.append(f"{where}: invoices listed by the API but not in the invoices table: {missing}")
                if s["status"] == "ACTIVE":
                    first = [i for i in paid if i["id"] in rows and rows[i["id"]]["period_index"] == 0]
                    if len(first) != 1:
                        problems.append(f"{where}: ACTIVE without exactly one PAID period-0 invoice ({len(first)}){detail}")
                    elif first[0]["plan"]["id"] != s["plan"]["id"]:
                        problems.append(f"{where}: ACTIVE on {s['plan']['plan_type']} but its period-0 invoice paid for "
                                        f"{first[0]['plan']['name']}{detail}")
        for line in report:
            self.say(f"check: {line}")
        self.say(f"actions: {dict(sorted(self.actions.items()))}")
        if problems:
            raise AssertionError("money invariant broken:\n  " + "\n  ".join(problems))

    def clean_up(self) -> None:
        """Leaves nothing for the next seed: faults and the sandbox clock reset, live subscriptions ended."""
        try:
            self.sandbox.delete(self.stack.sandbox.url + "/sandbox/faults", timeout=10)
            self.sandbox.delete(self.stack.sandbox.url + "/sandbox/clock", timeout=10)
            for c in self.customers:
                for s in c.subscriptions.values():
                    self.call(c, "POST", f"/api/subscriptions/cancel/{s['id']}", json={"at_period_end": False})
        except Exception as error:  # noqa: BLE001 - best effort; the test's own outcome matters more
            print(f"clean-up failed: {error!r}")


@pytest.mark.parametrize("seed", SEEDS)
def test_random_sequences_keep_the_money_invariant(stack, seed):
    world = World(stack, seed)
    try:
        world.sandbox.delete(stack.sandbox.url + "/sandbox/faults", timeout=10).raise_for_status()
        world.add_customers(world.rng.randint(3, 5))
        world.walk(world.rng.randint(40, 60))
        world.settle()
        world.check_invariant()
    except BaseException as error:
        log = "\n".join(world.log)
        raise AssertionError(f"seed {seed} on {stack.db} (step {world.step}): {error}\n--- step log (seed {seed}, {stack.db})\n{log}") from error
    finally:
        world.clean_up()
