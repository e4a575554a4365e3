"""Plan changes and price changes with consent (SPEC §10 "Plan changes, trials, coupons, price changes"), through nginx on
SQLite and PostgreSQL, with the Toss sandbox and the test clock.

Every money test ends on the invariant: what Toss holds for the customer (net of refunds) equals the total of the
subscription's PAID invoices. Proration is checked against an independent computation here (seconds of the period in
KST, `zoneinfo` month arithmetic with the day clamped), not against gudok's own formula.
"""

from __future__ import annotations

import calendar as cal
import itertools
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
import requests

from billing_support import execute_script
from test_money_invoices import Faults, billing_auth, my_invoices, sandbox_calls, sql_text, toss_approved

pytestmark = pytest.mark.both_databases

SEOUL = ZoneInfo("Asia/Seoul")
PASSWORD = "correct horse battery"
_names = itertools.count(1)


@pytest.fixture(scope="module")
def stack_env():
    return {"GUDOK_TEST_CLOCK": "1"}


# ---------------------------------------------------------------- an independent calendar


def add_months(moment: datetime, months: int) -> datetime:
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    day = min(moment.day, cal.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def prorated(old: int, new: int, start: datetime, end: datetime, at: datetime) -> int:
    fraction = Decimal(int((end - at).total_seconds())) / Decimal(int((end - start).total_seconds()))
    return int(((new - old) * fraction).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def iso(moment: datetime) -> str:
    return moment.isoformat()


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# ---------------------------------------------------------------- gudok


def clock(stack, moment: datetime) -> None:
    result = stack.run("clock", "set", iso(moment))
    assert result.returncode == 0, result.stderr


def bill(stack, moment: datetime) -> str:
    result = stack.run("bill", "--now", iso(moment), timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip().splitlines()[-1]


def customer(stack):
    name = f"plc{next(_names)}_{uuid.uuid4().hex[:6]}"
    stack.create_user(name, PASSWORD)
    return stack.login(name, PASSWORD)


@pytest.fixture(scope="module")
def staff(stack):
    name = f"plcstaff_{uuid.uuid4().hex[:6]}"
    stack.create_user(name, PASSWORD, staff=True)
    return stack.login(name, PASSWORD)


def make_plan(staff, price: int, cycle: str = "MONTHLY", plan_type: str = "BASIC") -> dict:
    """A plan of this test's own, so that price edits never touch another test's subscribers."""
    response = staff.post("/api/admin/plans", json={"name": f"플랜{uuid.uuid4().hex[:5]}", "plan_type": plan_type, "price": price,
                                                    "billing_cycle": cycle, "features": ["api"]})
    assert response.status_code == 201, response.text
    return response.json()


def subscribe_with_card(stack, client, plan_id: str) -> dict:
    """Subscribes and registers a card: the first period is charged with the billing key at the test clock's time."""
    response = client.post("/api/subscriptions/subscribe", json={"plan_id": plan_id})
    assert response.status_code in (200, 201), response.text
    subscription = response.json()
    auth = billing_auth(stack, subscription["customer_key"])
    issued = client.post("/api/subscriptions/billing/issue", json={"customer_key": subscription["customer_key"], "auth_key": auth})
    assert issued.status_code == 200, issued.text
    active = issued.json()["subscription"]
    assert active["status"] == "ACTIVE", active
    _subscribed.append((client, active["id"]))
    return active


_subscribed: list = []


@pytest.fixture(autouse=True)
def leave_afterwards():
    """Ends each test's subscriptions, so that later tests' billing passes (at later test-clock times) renew none of them."""
    yield
    while _subscribed:
        client, subscription_id = _subscribed.pop()
        client.post(f"/api/subscriptions/cancel/{subscription_id}", json={"at_period_end": False})


def mine(client, subscription_id: str) -> dict:
    [found] = [s for s in client.get("/api/subscriptions/my-subscriptions").json() if s["id"] == subscription_id]
    return found


def held(stack, customer_key: str) -> int:
    return sum(p["balanceAmount"] for p in toss_approved(stack, customer_key))


def assert_paid_invoices_match_toss(stack, client, subscription: dict) -> list[dict]:
    invoices = [i for i in my_invoices(client) if i["subscription_id"] == subscription["id"]]
    paid = [i for i in invoices if i["status"] == "PAID"]
    assert held(stack, subscription["customer_key"]) == sum(i["total"] for i in paid), (
        f"Toss holds {held(stack, subscription['customer_key'])} won, PAID invoices total {sum(i['total'] for i in paid)}: "
        f"{[(i['number'], i['lines'], i['total']) for i in invoices]}")
    return invoices


def change(client, subscription_id: str, plan_id: str, when: str | None = None) -> requests.Response:
    body = {"plan_id": plan_id} | ({"when": when} if when else {})
    return client.post(f"/api/subscriptions/{subscription_id}/change", json=body)


# ---------------------------------------------------------------- plan changes


def test_an_upgrade_now_charges_exactly_the_prorated_difference_once(stack, staff):
    basic, premium = make_plan(staff, 9900), make_plan(staff, 19900, plan_type="PREMIUM")
    start = datetime(2031, 1, 31, 10, 0, tzinfo=SEOUL)  # the period ends on the clamped 2031-02-28
    clock(stack, start)
    client = customer(stack)
    subscription = subscribe_with_card(stack, client, basic["id"])
    at = start + timedelta(days=9, hours=5, minutes=7, seconds=3)
    clock(stack, at)
    response = change(client, subscription["id"], premium["id"])
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["plan"]["id"] == premium["id"] and changed["price"] == 19900 and changed["scheduled_change"] is None
    assert parse(changed["next_billing_date"]) == add_months(start, 1), "the anchor stays"
    expected = prorated(9900, 19900, start, add_months(start, 1), at)
    assert held(stack, subscription["customer_key"]) == 9900 + expected
    [proration] = [i for i in my_invoices(client) if i["subscription_id"] == subscription["id"] and i["lines"][0]["kind"] == "PRORATION"]
    assert (proration["total"], proration["status"], proration["plan"]["id"]) == (expected, "PAID", premium["id"])
    assert proration["vat"] == int((Decimal(expected) / 11).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    payments = [p for p in client.get("/api/subscriptions/payments").json() if p["subscription_id"] == subscription["id"]]
    assert sorted(p["payment_type"] for p in payments) == ["ONE_TIME", "SUBSCRIPTION"]
    # Asking again charges nothing more.
    again = change(client, subscription["id"], premium["id"], "now")
    assert again.status_code == 409 and again.json()["code"] == "SAME_PLAN", again.text
    assert held(stack, subscription["customer_key"]) == 9900 + expected
    # The renewal is at the new plan's price.
    bill(stack, add_months(start, 1))
    assert held(stack, subscription["customer_key"]) == 9900 + expected + 19900
    assert_paid_invoices_match_toss(stack, client, subscription)


def test_an_upgrade_needs_a_card(stack, staff):
    basic, premium = make_plan(staff, 9900), make_plan(staff, 19900, plan_type="PREMIUM")
    clock(stack, datetime(2031, 3, 3, 9, 0, tzinfo=SEOUL))
    client = customer(stack)
    subscription = subscribe_with_card(stack, client, basic["id"])
    execute_script(stack, f"UPDATE subscriptions SET billing_key_sealed = NULL WHERE id = {sql_text(subscription['id'])};")
    clock(stack, datetime(2031, 3, 10, 9, 0, tzinfo=SEOUL))
    response = change(client, subscription["id"], premium["id"])
    assert response.status_code == 409 and response.json()["code"] == "CARD_REQUIRED", response.text
    assert mine(client, subscription["id"])["plan"]["id"] == basic["id"]
    assert held(stack, subscription["customer_key"]) == 9900


def test_a_refused_upgrade_keeps_the_plan_and_charges_nothing(stack, staff):
    basic, premium = make_plan(staff, 9900), make_plan(staff, 19900, plan_type="PREMIUM")
    clock(stack, datetime(2031, 4, 4, 9, 0, tzinfo=SEOUL))
    client = customer(stack)
    subscription = subscribe_with_card(stack, client, basic["id"])
    clock(stack, datetime(2031, 4, 14, 9, 0, tzinfo=SEOUL))
    with Faults(stack) as faults:
        faults.add({"match": {"customerKey": subscription["customer_key"], "method": "POST"}, "action": "error", "status": 400,
                    "code": "REJECT_CARD_COMPANY", "message": "카드사 거절", "count": 1})
        response = change(client, subscription["id"], premium["id"])
    assert response.status_code == 400 and response.json()["code"] == "REJECT_CARD_COMPANY", response.text
    assert mine(client, subscription["id"])["plan"]["id"] == basic["id"]
    assert held(stack, subscription["customer_key"]) == 9900
    invoices = assert_paid_invoices_match_toss(stack, client, subscription)
    assert [i["status"] for i in invoices if i["lines"][0]["kind"] == "PRORATION"] == ["VOID"]
    # A second try (the card works again) is charged once.
    assert change(client, subscription["id"], premium["id"]).status_code == 200
    assert_paid_invoices_match_toss(stack, client, subscription)


@pytest.mark.parametrize("fault", ["timeout", "reset"])
def test_an_upgrade_whose_answer_is_lost_is_charged_once(stack, staff, fault):
    basic, premium = make_plan(staff, 9900), make_plan(staff, 19900, plan_type="PREMIUM")
    start = datetime(2031, 5, 5, 9, 0, tzinfo=SEOUL)
    clock(stack, start)
    client = customer(stack)
    subscription = subscribe_with_card(stack, client, basic["id"])
    clock(stack, start + timedelta(days=3))
    with Faults(stack) as faults:
        rule = {"match": {"customerKey": subscription["customer_key"], "method": "POST"}, "action": fault, "apply": True, "count": 1}
        if fault == "timeout":
            rule["latencyMs"] = 10_000
        faults.add(rule)
        faults.lookups_down(subscription["customer_key"])
        first = change(client, subscription["id"], premium["id"])
        # A reset is re-sent at once with the same idempotency key, and Toss's stored answer may come back (200).
        assert first.status_code in ((502,) if fault == "timeout" else (200, 502)), first.text
        if first.status_code == 502:
            retry = change(client, subscription["id"], premium["id"])
            assert retry.status_code == 409 and retry.json()["code"] == "PAYMENT_IN_PROGRESS", retry.text
    result = stack.run("reconcile", "--now", iso(start + timedelta(days=3, minutes=5)), timeout=120)
    assert result.returncode == 0, result.stderr
    settled = mine(client, subscription["id"])
    assert settled["plan"]["id"] == premium["id"], "Toss approved the upgrade: the plan paid for is served"
    expected = prorated(9900, 19900, start, add_months(start, 1), start + timedelta(days=3))
    assert held(stack, subscription["customer_key"]) == 9900 + expected
    assert_paid_invoices_match_toss(stack, client, subscription)


def test_a_downgrade_waits_for_the_period_end_and_can_be_undone(stack, staff):
    basic, premium = make_plan(staff, 9900), make_plan(staff, 19900, plan_type="PREMIUM")
    start = datetime(2031, 6, 30, 23, 30, tzinfo=SEOUL)
    clock(stack, start)
    client = customer(stack)
    subscription = subscribe_with_card(stack, client, premium["id"])
    clock(stack, start + timedelta(days=5))
    response = change(client, subscription["id"], basic["id"])
    assert response.status_code == 200, response.text
    scheduled = response.json()
    assert scheduled["plan"]["id"] == premium["id"]
    assert scheduled["scheduled_change"]["plan"]["id"] == basic["id"]
    assert parse(scheduled["scheduled_change"]["at"]) == add_months(start, 1)
    assert held(stack, subscription["customer_key"]) == 19900, "a downgrade charges nothing"
    undone = client.delete(f"/api/subscriptions/{subscription['id']}/change")
    assert undone.status_code == 200 and undone.json()["scheduled_change"] is None, undone.text
    again = client.delete(f"/api/subscriptions/{subscription['id']}/change")
    assert again.status_code == 404 and again.json()["code"] == "NO_SCHEDULED_CHANGE"
    assert change(client, subscription["id"], basic["id"], "period_end").status_code == 200
    bill(stack, add_months(start, 1))
    after = mine(client, subscription["id"])
    assert (after["plan"]["id"], after["price"], after["scheduled_change"]) == (basic["id"], 9900, None)
    assert held(stack, subscription["customer_key"]) == 19900 + 9900
    assert_paid_invoices_match_toss(stack, client, subscription)


def test_a_cycle_change_happens_at_the_period_end_and_re_anchors(stack, staff):
    monthly, yearly = make_plan(staff, 9900), make_plan(staff, 99000, cycle="YEARLY", plan_type="PREMIUM")
    start = datetime(2031, 1, 31, 12, 0, tzinfo=SEOUL)
    clock(stack, start)
    client = customer(stack)
    subscription = subscribe_with_card(stack, client, monthly["id"])
    clock(stack, start + timedelta(days=2))
    now = change(client, subscription["id"], yearly["id"], "now")
    assert now.status_code == 400 and now.json()["code"] == "CYCLE_CHANGE_AT_PERIOD_END", now.text
    assert change(client, subscription["id"], yearly["id"]).json()["scheduled_change"]["plan"]["id"] == yearly["id"]
    boundary = add_months(start, 1)  # 2031-02-28 12:00
    bill(stack, boundary)
    after = mine(client, subscription["id"])
    assert after["plan"]["billing_cycle"] == "YEARLY"
    assert parse(after["next_billing_date"]) == add_months(boundary, 12)
    assert held(stack, subscription["customer_key"]) == 9900 + 99000
    invoices = assert_paid_invoices_match_toss(stack, client, subscription)
    [yearly_invoice] = [i for i in invoices if i["total"] == 99000]
    assert parse(yearly_invoice["period_start"]) == boundary and parse(yearly_invoice["period_end"]) == add_months(boundary, 12)


def test_a_cheaper_change_now_becomes_a_credit_on_the_next_invoice(stack, staff):
    basic, premium = make_plan(staff, 9900), make_plan(staff, 19900, plan_type="PREMIUM")
    start = datetime(2032, 2, 29, 8, 0, tzinfo=SEOUL)  # leap day
    clock(stack, start)
    client = customer(stack)
    subscription = subscribe_with_card(stack, client, premium["id"])
    at = start + timedelta(days=20)
    clock(stack, at)
    response = change(client, subscription["id"], basic["id"], "now")
    assert response.status_code == 200 and response.json()["plan"]["id"] == basic["id"], response.text
    credit = -prorated(19900, 9900, start, add_months(start, 1), at)
    assert credit > 0
    assert held(stack, subscription["customer_key"]) == 19900, "a credit is never cash"
    bill(stack, add_months(start, 1))
    invoices = assert_paid_invoices_match_toss(stack, client, subscription)
    [renewal] = [i for i in invoices if i["status"] == "PAID" and any(line["kind"] == "CREDIT" for line in i["lines"])]
    assert renewal["total"] == 9900 - credit and renewal["discount"] == credit


# ---------------------------------------------------------------- prices


def schedule_price(staff, plan_id: str, amount: int, effective_at: datetime) -> requests.Response:
    return staff.post(f"/api/admin/plans/{plan_id}/price-changes", json={"amount": amount, "effective_at": iso(effective_at)})


def test_a_price_edit_applies_to_new_subscribers_only(stack, staff):
    plan = make_plan(staff, 9900)
    start = datetime(2031, 8, 8, 8, 0, tzinfo=SEOUL)
    clock(stack, start)
    old_client = customer(stack)
    old = subscribe_with_card(stack, old_client, plan["id"])
    edited = staff.post(f"/api/admin/plans/{plan['id']}", json={"price": 12900})
    assert edited.status_code == 200 and edited.json()["price"] == 12900, edited.text
    new_client = customer(stack)
    new = subscribe_with_card(stack, new_client, plan["id"])
    assert (mine(old_client, old["id"])["price"], mine(new_client, new["id"])["price"]) == (9900, 12900)
    bill(stack, add_months(start, 1) + timedelta(minutes=1))
    assert held(stack, old["customer_key"]) == 9900 * 2, "the current subscriber keeps the price they signed up at"
    assert held(stack, new["customer_key"]) == 12900 * 2


def test_a_price_change_needs_thirty_days_notice(stack, staff):
    plan = make_plan(staff, 9900)
    clock(stack, datetime(2031, 9, 1, 9, 0, tzinfo=SEOUL))
    soon = schedule_price(staff, plan["id"], 12900, datetime(2031, 9, 30, 9, 0, tzinfo=SEOUL))
    assert soon.status_code == 400 and soon.json()["code"] == "EFFECTIVE_DATE_TOO_SOON", soon.text
    ok = schedule_price(staff, plan["id"], 12900, datetime(2031, 10, 1, 9, 0, tzinfo=SEOUL))
    assert ok.status_code == 201, ok.text
    second = schedule_price(staff, plan["id"], 13900, datetime(2031, 11, 1, 9, 0, tzinfo=SEOUL))
    assert second.status_code == 409 and second.json()["code"] == "PRICE_CHANGE_PENDING"
    withdrawn = staff.delete(f"/api/admin/price-changes/{ok.json()['id']}")
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_at"], withdrawn.text
    assert schedule_price(staff, plan["id"], 13900, datetime(2031, 11, 1, 9, 0, tzinfo=SEOUL)).status_code == 201


def test_an_increase_without_consent_is_never_charged(stack, staff):
    plan = make_plan(staff, 9900)
    start = datetime(2031, 10, 10, 10, 0, tzinfo=SEOUL)
    clock(stack, start)
    client = customer(stack)
    subscription = subscribe_with_card(stack, client, plan["id"])
    effective = start + timedelta(days=35)  # after the first renewal (2031-11-10), before the second
    made = schedule_price(staff, plan["id"], 14900, effective)
    assert made.status_code == 201 and made.json()["consents"] == {"PENDING": 1}, made.text
    pending = mine(client, subscription["id"])["pending_price"]
    assert (pending["amount"], pending["previous_amount"], pending["consent"]) == (14900, 9900, "PENDING")
    assert 'id="price-change"' in client.get("/account").text
    # The renewal before the effective date is at the old price.
    bill(stack, add_months(start, 1))
    assert held(stack, subscription["customer_key"]) == 9900 * 2
    calls = len(sandbox_calls(stack, customerKey=subscription["customer_key"]))
    # The first renewal after it: no consent, no charge; the subscription ends.
    bill(stack, add_months(start, 2))
    after = mine(client, subscription["id"])
    assert after["status"] == "EXPIRED" and after["pending_price"] is None
    assert len(sandbox_calls(stack, customerKey=subscription["customer_key"])) == calls, "Toss was not called"
    assert held(stack, subscription["customer_key"]) == 9900 * 2
    progress = staff.get(f"/api/admin/plans/{plan['id']}/price-changes").json()[0]
    assert progress["outcomes"] == {"ENDED": 1}, progress


def test_a_consent_after_the_effective_date_but_before_the_renewal_counts(stack, staff):
    plan = make_plan(staff, 9900)
    start = datetime(2031, 11, 11, 11, 0, tzinfo=SEOUL)
    clock(stack, start)
    client = customer(stack)
    subscription = subscribe_with_card(stack, client, plan["id"])
    effective = start + timedelta(days=31)
    assert schedule_price(staff, plan["id"], 12900, effective).status_code == 201
    declined = client.post(f"/api/subscriptions/{subscription['id']}/price-consent", json={"agree": False})
    assert declined.status_code == 200 and declined.json()["pending_price"]["consent"] == "DECLINED", declined.text
    bill(stack, add_months(start, 1))
    clock(stack, effective + timedelta(days=3))  # after the effective date, before the next renewal
    agreed = client.post(f"/api/subscriptions/{subscription['id']}/price-consent", json={"agree": True})
    assert agreed.status_code == 200 and agreed.json()["pending_price"]["consent"] == "GIVEN", agreed.text
    bill(stack, add_months(start, 2))
    after = mine(client, subscription["id"])
    assert (after["status"], after["price"], after["pending_price"]) == ("ACTIVE", 12900, None)
    assert held(stack, subscription["customer_key"]) == 9900 * 2 + 12900
    [[after_state]] = stack.query("SELECT after_state FROM audit_log WHERE action = 'subscription.price_consent_given' "
                                  f"AND object_id = {sql_text(subscription['id'])}")
    assert "12,900원" in after_state and '"ip"' in after_state and "/account" in after_state, after_state


def test_a_decrease_applies_without_asking(stack, staff):
    plan = make_plan(staff, 19900)
    start = datetime(2031, 12, 12, 12, 0, tzinfo=SEOUL)
    clock(stack, start)
    client = customer(stack)
    subscription = subscribe_with_card(stack, client, plan["id"])
    assert schedule_price(staff, plan["id"], 14900, start + timedelta(days=30)).status_code == 201
    assert mine(client, subscription["id"])["pending_price"]["consent"] == "NOT_REQUIRED"
    refused = client.post(f"/api/subscriptions/{subscription['id']}/price-consent", json={"agree": True})
    assert refused.status_code == 409 and refused.json()["code"] == "CONSENT_NOT_REQUIRED"
    bill(stack, add_months(start, 1))
    assert held(stack, subscription["customer_key"]) == 19900 + 14900
    assert mine(client, subscription["id"])["price"] == 14900


def test_another_customers_subscription_cannot_be_changed(stack, staff):
    basic, premium = make_plan(staff, 9900), make_plan(staff, 19900, plan_type="PREMIUM")
    clock(stack, datetime(2032, 1, 5, 9, 0, tzinfo=SEOUL))
    owner = customer(stack)
    subscription = subscribe_with_card(stack, owner, basic["id"])
    stranger = customer(stack)
    assert change(stranger, subscription["id"], premium["id"]).status_code == 404
    assert stranger.delete(f"/api/subscriptions/{subscription['id']}/change").status_code == 404
    assert stranger.post(f"/api/subscriptions/{subscription['id']}/price-consent", json={"agree": True}).status_code == 404
    bad = owner.post(f"/api/subscriptions/{subscription['id']}/change", json={"plan_id": premium["id"], "when": "later"})
    assert bad.status_code == 400 and bad.json()["code"] == "INVALID_FIELD"
    assert change(owner, subscription["id"], str(uuid.uuid4())).status_code == 404


# ---------------------------------------------------------------- coupons


def make_coupon(staff, **fields) -> dict:
    body = {"code": f"C{uuid.uuid4().hex[:10].upper()}", "duration": "ONCE"} | fields
    response = staff.post("/api/admin/coupons", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_percent_coupon_at_subscribe_discounts_its_periods_with_vat_on_the_discounted_total(stack, staff):
    plan = make_plan(staff, 9900)
    coupon = make_coupon(staff, percent_off=10, duration="REPEATING", duration_periods=2, plan_ids=[plan["id"]])
    start = datetime(2032, 2, 2, 10, 0, tzinfo=SEOUL)
    clock(stack, start)
    client = customer(stack)
    response = client.post("/api/subscriptions/subscribe", json={"plan_id": plan["id"], "coupon": coupon["code"].lower()})
    assert response.status_code == 201, response.text
    assert response.json()["coupon"]["code"] == coupon["code"]
    subscription = response.json()
    auth = billing_auth(stack, subscription["customer_key"])
    issued = client.post("/api/subscriptions/billing/issue", json={"customer_key": subscription["customer_key"], "auth_key": auth})
    assert issued.status_code == 200 and issued.json()["subscription"]["status"] == "ACTIVE", issued.text
    _subscribed.append((client, subscription["id"]))
    bill(stack, add_months(start, 1))
    bill(stack, add_months(start, 2))
    assert held(stack, subscription["customer_key"]) == 8910 + 8910 + 9900
    invoices = sorted(assert_paid_invoices_match_toss(stack, client, subscription), key=lambda i: i["period_start"])
    assert [i["total"] for i in invoices] == [8910, 8910, 9900]
    first = invoices[0]
    assert [(line["kind"], line["amount"]) for line in first["lines"]] == [("PLAN", 9900), ("DISCOUNT", -990)]
    assert (first["subtotal"], first["discount"], first["vat"], first["supply_amount"]) == (9900, 990, 810, 8100)
    assert staff.get("/api/admin/coupons").json()[0]["redeemed"] >= 1


def test_a_refused_coupon_subscribes_nothing(stack, staff):
    plan, other = make_plan(staff, 9900), make_plan(staff, 19900, plan_type="PREMIUM")
    clock(stack, datetime(2032, 3, 3, 10, 0, tzinfo=SEOUL))
    expired = make_coupon(staff, percent_off=50, expires_at="2032-03-01T00:00:00+09:00")
    restricted = make_coupon(staff, amount_off=1000, plan_ids=[other["id"]])
    used_up = make_coupon(staff, percent_off=5, max_redemptions=1)
    stopped = make_coupon(staff, percent_off=5)
    assert staff.post(f"/api/admin/coupons/{stopped['id']}/deactivate").status_code == 200
    first = customer(stack)
    assert first.post("/api/subscriptions/subscribe", json={"plan_id": plan["id"], "coupon": used_up["code"]}).status_code == 201
    client = customer(stack)
    for code, expected in [("NOPE-NOPE", "COUPON_INVALID"), (stopped["code"], "COUPON_INVALID"), (expired["code"], "COUPON_EXPIRED"),
                           (restricted["code"], "COUPON_NOT_APPLICABLE"), (used_up["code"], "COUPON_EXHAUSTED")]:
        response = client.post("/api/subscriptions/subscribe", json={"plan_id": plan["id"], "coupon": code})
        assert response.status_code == 400 and response.json()["code"] == expected, (code, response.text)
    assert client.get("/api/subscriptions/my-subscriptions").json() == [], "a refused coupon leaves no subscription behind"
    bad = staff.post("/api/admin/coupons", json={"code": "X", "duration": "ONCE", "percent_off": 10})
    assert bad.status_code == 400
    both = staff.post("/api/admin/coupons", json={"code": "BOTHWAYS", "duration": "ONCE", "percent_off": 10, "amount_off": 100})
    assert both.status_code == 400


def test_a_coupon_limit_holds_under_twenty_concurrent_redemptions(stack, staff):
    plan = make_plan(staff, 9900)
    coupon = make_coupon(staff, percent_off=20, max_redemptions=5)
    clock(stack, datetime(2032, 4, 4, 10, 0, tzinfo=SEOUL))
    clients = [customer(stack) for _ in range(20)]
    pending = [c.post("/api/subscriptions/subscribe", json={"plan_id": plan["id"]}).json() for c in clients]

    def redeem(pair):
        client, subscription = pair
        return client.post(f"/api/subscriptions/{subscription['id']}/coupon", json={"code": coupon["code"]})

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(redeem, zip(clients, pending)))
    codes = sorted(a.json().get("code", "OK") if a.status_code != 200 else "OK" for a in answers)
    assert codes.count("OK") == 5 and codes.count("COUPON_EXHAUSTED") == 15, codes
    [listed] = [c for c in staff.get("/api/admin/coupons").json() if c["id"] == coupon["id"]]
    assert listed["redeemed"] == 5
    [[rows]] = stack.query(f"SELECT COUNT(*) FROM coupon_redemptions WHERE coupon_id = {sql_text(coupon['id'])}")
    assert int(rows) == 5


def test_a_coupon_applied_later_or_by_staff_discounts_the_next_invoice(stack, staff):
    plan = make_plan(staff, 9900)
    coupon = make_coupon(staff, amount_off=3000)
    start = datetime(2032, 5, 5, 10, 0, tzinfo=SEOUL)
    clock(stack, start)
    client = customer(stack)
    subscription = subscribe_with_card(stack, client, plan["id"])
    applied = client.post(f"/api/subscriptions/{subscription['id']}/coupon", json={"code": coupon["code"]})
    assert applied.status_code == 200 and applied.json()["coupon"]["periods_left"] == 1, applied.text
    again = client.post(f"/api/subscriptions/{subscription['id']}/coupon", json={"code": coupon["code"]})
    assert again.status_code == 409 and again.json()["code"] == "COUPON_ALREADY_APPLIED"
    other_client = customer(stack)
    other = subscribe_with_card(stack, other_client, plan["id"])
    by_staff = staff.post(f"/api/admin/subscriptions/{other['id']}/coupon", json={"code": coupon["code"]})
    assert by_staff.status_code == 200, by_staff.text
    bill(stack, add_months(start, 1))
    bill(stack, add_months(start, 2))
    assert held(stack, subscription["customer_key"]) == 9900 + 6900 + 9900
    assert held(stack, other["customer_key"]) == 9900 + 6900 + 9900
    assert_paid_invoices_match_toss(stack, client, subscription)
