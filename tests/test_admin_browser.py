"""The back office in a real browser (issue "Back office, refunds"): headless Chromium against nginx + `gudok serve` + the Toss
sandbox, SQLite.

A staff member signs in through /accounts/login, filters /admin/payments by status and searches by username and order id
(exactly the expected rows each time), opens a payment, refunds part of it through the refund form with a reason, sees the
refunded amount and PARTIAL_CANCELLED on the page (and the database and the sandbox agree), then opens /admin and sees the
dashboard with its inline SVG charts and the MRR.

The paid payments are made through the API like test_admin.py does (sign-up, subscribe, /sandbox/billing/authorize,
/api/subscriptions/billing/issue). Every step is screenshotted under test-artifacts/screenshots/<test>/NN-step.png (plus
NN-failure.png/.html on failure). Waits are explicit (at most 15 s), never sleeps.
"""

from __future__ import annotations

import itertools
import json
import re
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from gudok_harness import ARTIFACTS

from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

SEOUL = ZoneInfo("Asia/Seoul")
PASSWORD = "correct horse battery"
APPROVING_CARD = "4330123412341234"
DECLINED_AT_APPROVAL = "4000000000000036"  # authenticates, every approval refused (REJECT_CARD_PAYMENT)
WAIT = 15
REFUND_REASON = "고객 요청: 중복 결제 일부 환불"
_names = itertools.count(1)


# ---------------------------------------------------------------- helpers


class Steps:
    """Screenshots (and the page source) of each step: test-artifacts/screenshots/<test>/NN-step.png."""

    def __init__(self, driver, name: str):
        self.driver = driver
        self.dir = ARTIFACTS / "screenshots" / re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:120]
        self.count = 0

    def __call__(self, step: str) -> None:
        self.count += 1
        self.dir.mkdir(parents=True, exist_ok=True)
        self.driver.save_screenshot(str(self.dir / f"{self.count:02d}-{step}.png"))

    def failure(self) -> None:
        try:
            self("failure")
            (self.dir / f"{self.count:02d}-failure.html").write_text(
                f"<!-- {self.driver.current_url} -->\n{self.driver.page_source}")
            try:
                console = self.driver.get_log("browser")
            except (WebDriverException, AttributeError, ValueError):
                console = []
            (self.dir / "console.json").write_text(json.dumps(console, ensure_ascii=False, indent=1))
        except WebDriverException as error:
            self.dir.mkdir(parents=True, exist_ok=True)
            (self.dir / "failure.txt").write_text(str(error))


def wait(driver):
    return WebDriverWait(driver, WAIT, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))


def wait_for_path(driver, origin: str, path: str) -> None:
    target = origin + path

    def arrived(d):
        return d.current_url.split("?", 1)[0].split("#", 1)[0] == target

    try:
        wait(driver).until(arrived)
    except Exception as error:
        raise AssertionError(f"expected to arrive at {target}, still at {driver.current_url}") from error


def submit_and_reload(driver, element) -> None:
    """Clicks a submit button and waits until the page it was on has been replaced."""
    old = driver.find_element(By.TAG_NAME, "html")
    element.click()
    wait(driver).until(EC.staleness_of(old))
    wait(driver).until(lambda d: d.execute_script("return document.readyState") == "complete")


def shown_payment_ids(driver) -> set[str]:
    return {row.get_attribute("data-payment-id") for row in driver.find_elements(By.CSS_SELECTOR, "#payments tbody tr[data-payment-id]")}


def filter_payments(driver, *, status: str = "", q: str = "") -> None:
    """Fills the filter form of /admin/payments (status select + search box) and submits it. Chromium now and then
    reports a node of the page just loaded as not belonging to the document; the form is then found again."""
    for attempt in range(3):
        try:
            return _filter_payments_once(driver, status=status, q=q)
        except WebDriverException as error:
            detached = isinstance(error, StaleElementReferenceException) or "does not belong to the document" in str(error)
            if attempt == 2 or not detached:
                raise
            wait(driver).until(lambda d: d.execute_script("return document.readyState") == "complete")


def _filter_payments_once(driver, *, status: str, q: str) -> None:
    form = driver.find_element(By.ID, "filters")
    Select(form.find_element(By.CSS_SELECTOR, 'select[name="status"]')).select_by_value(status)
    search = form.find_element(By.CSS_SELECTOR, 'input[name="q"]')
    search.clear()
    if q:
        search.send_keys(q)
    submit_and_reload(driver, form.find_element(By.CSS_SELECTOR, 'button[type="submit"]'))
    wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#payments tbody")))


def assert_listed(driver, expected: dict[str, str], wanted: set[str], what: str) -> None:
    got = shown_payment_ids(driver)
    names = {payment_id: name for name, payment_id in expected.items()}
    assert got == {expected[name] for name in wanted}, (
        f"{what}: expected rows {sorted(wanted)}, the page shows {sorted(names.get(i, i) for i in got)} ({driver.current_url})")


def won(amount: int) -> str:
    return f"{amount:,}원"


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def steps(request, browser):
    before = request.session.testsfailed
    recorder = Steps(browser, request.node.name)
    yield recorder
    if request.session.testsfailed > before:
        recorder.failure()


@pytest.fixture
def page(browser, stack, steps):
    """The session browser with no cookies."""
    browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
    browser.get("about:blank")
    return browser


def customer(stack, prefix: str):
    name = f"{prefix}{next(_names)}_{uuid.uuid4().hex[:6]}"
    stack.create_user(name, PASSWORD)
    client = stack.login(name, PASSWORD)
    client.username = name
    return client


def subscribe_with_card(stack, plan_type: str, card: str):
    """Sign-up, subscribe, register a card in the sandbox: the first period is charged at once. Returns (client, issue response)."""
    client = customer(stack, "buyer")
    plans = {plan["plan_type"]: plan for plan in client.get("/api/subscriptions/plans").json()}
    subscribed = client.post("/api/subscriptions/subscribe", json={"plan_id": plans[plan_type]["id"]})
    assert subscribed.status_code == 201, subscribed.text
    subscription = subscribed.json()
    auth = requests.post(stack.sandbox.url + "/sandbox/billing/authorize",
                         json={"customerKey": subscription["customer_key"], "cardNumber": card}, timeout=10)
    assert auth.status_code == 200, auth.text
    issued = client.post("/api/subscriptions/billing/issue",
                         json={"customer_key": subscription["customer_key"], "auth_key": auth.json()["authKey"]})
    return client, subscription, issued


@pytest.fixture(scope="module")
def shop(stack):
    """Three customers: two paid first periods (BASIC, PREMIUM) and one declined first charge (FAILED)."""
    staff = f"staff{next(_names)}_{uuid.uuid4().hex[:6]}"
    stack.create_user(staff, PASSWORD, staff=True)
    people = {}
    for name, plan_type, card in (("basic", "BASIC", APPROVING_CARD), ("premium", "PREMIUM", APPROVING_CARD),
                                  ("declined", "BASIC", DECLINED_AT_APPROVAL)):
        client, subscription, issued = subscribe_with_card(stack, plan_type, card)
        if card == APPROVING_CARD:
            assert issued.status_code == 200, issued.text
        [payment] = client.get("/api/subscriptions/payments").json()
        people[name] = {"username": client.username, "subscription": subscription, "payment": payment}
    assert people["basic"]["payment"]["status"] == "COMPLETED", people["basic"]["payment"]
    assert people["premium"]["payment"]["status"] == "COMPLETED", people["premium"]["payment"]
    assert people["declined"]["payment"]["status"] == "FAILED", people["declined"]["payment"]
    started = datetime.now(SEOUL)
    return {"staff": staff, "people": people, "ids": {name: person["payment"]["id"] for name, person in people.items()},
            "started": started}


def cancel_calls(stack, payment_key: str) -> list[dict]:
    response = requests.get(stack.sandbox.url + "/sandbox/calls", params={"path": f"/v1/payments/{payment_key}/cancel"}, timeout=10)
    response.raise_for_status()
    data = response.json()
    return data["calls"] if isinstance(data, dict) else data


# ---------------------------------------------------------------- the scenario


def test_staff_filters_refunds_part_of_a_payment_and_sees_the_dashboard(page, stack, steps, shop):
    people, expected = shop["people"], shop["ids"]
    basic, premium = people["basic"], people["premium"]

    # Sign in: /admin/payments sends an anonymous visitor to the sign-in form, which brings the staff member back.
    page.get(stack.url("/admin/payments"))
    wait_for_path(page, stack.base_url, "/accounts/login")
    assert "next=" in page.current_url, page.current_url
    wait(page).until(EC.element_to_be_clickable((By.ID, "login-button")))
    page.find_element(By.ID, "username").send_keys(shop["staff"])
    page.find_element(By.ID, "password").send_keys(PASSWORD)
    steps("login-form")
    page.find_element(By.ID, "login-button").click()
    wait_for_path(page, stack.base_url, "/admin/payments")
    wait(page).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#payments tbody")))
    steps("payments-all")
    assert page.find_element(By.CSS_SELECTOR, ".admin-nav a[aria-current='page']").text.strip() == "결제"
    assert_listed(page, expected, {"basic", "premium", "declined"}, "no filter")

    # Status filter.
    filter_payments(page, status="COMPLETED")
    steps("filter-status-completed")
    assert "status=COMPLETED" in page.current_url
    assert_listed(page, expected, {"basic", "premium"}, "status=COMPLETED")
    assert Select(page.find_element(By.CSS_SELECTOR, '#filters select[name="status"]')).first_selected_option.get_attribute("value") == "COMPLETED"

    filter_payments(page, status="FAILED")
    steps("filter-status-failed")
    assert_listed(page, expected, {"declined"}, "status=FAILED")
    [failed_row] = page.find_elements(By.CSS_SELECTOR, "#payments tbody tr[data-payment-id]")
    assert "실패" in failed_row.text, failed_row.text

    # Status + search by username.
    filter_payments(page, status="COMPLETED", q=basic["username"])
    steps("filter-completed-and-username")
    assert_listed(page, expected, {"basic"}, f"status=COMPLETED q={basic['username']}")
    filter_payments(page, status="FAILED", q=basic["username"])
    steps("filter-failed-and-username-nothing")
    assert_listed(page, expected, set(), f"status=FAILED q={basic['username']}")
    assert "조건에 맞는 항목이 없습니다." in page.find_element(By.ID, "payments").text

    # Search by order id (no status).
    filter_payments(page, q=premium["payment"]["order_id"])
    steps("search-order-id")
    assert_listed(page, expected, {"premium"}, f"q={premium['payment']['order_id']}")
    [row] = page.find_elements(By.CSS_SELECTOR, "#payments tbody tr[data-payment-id]")
    assert row.get_attribute("data-order-id") == premium["payment"]["order_id"]
    assert premium["username"] in row.text and won(19900) in row.text, row.text

    # Open the BASIC payment from the list.
    filter_payments(page, q=basic["username"])
    assert_listed(page, expected, {"basic"}, f"q={basic['username']}")
    link = page.find_element(By.CSS_SELECTOR, f'#payments a[href="/admin/payments/{expected["basic"]}"]')
    submit_and_reload(page, link)
    wait_for_path(page, stack.base_url, f"/admin/payments/{expected['basic']}")
    wait(page).until(EC.element_to_be_clickable((By.ID, "refund-button")))
    steps("payment-detail")
    assert basic["payment"]["order_id"] in page.find_element(By.TAG_NAME, "h1").text
    assert page.find_element(By.CSS_SELECTOR, "#payment-facts .badge").get_attribute("class").split()[-1] == "status-COMPLETED"
    assert page.find_element(By.ID, "refunded-amount").text.strip() == won(0)
    assert page.find_element(By.ID, "refundable-amount").text.strip() == won(9900)
    amount = page.find_element(By.CSS_SELECTOR, '#refund-form input[name="amount"]')
    assert amount.get_attribute("value") == "9900", "the form offers the whole balance"

    # Refund 3,000 of 9,900 with a reason.
    amount.clear()
    amount.send_keys("3000")
    page.find_element(By.CSS_SELECTOR, '#refund-form input[name="reason"]').send_keys(REFUND_REASON)
    steps("refund-form-filled")
    submit_and_reload(page, page.find_element(By.ID, "refund-button"))
    wait_for_path(page, stack.base_url, f"/admin/payments/{expected['basic']}")
    wait(page).until(EC.presence_of_element_located((By.ID, "notice")))
    steps("refunded")
    notice = page.find_element(By.ID, "notice")
    assert "success" in notice.get_attribute("class").split(), f"refund refused: {notice.text!r}"
    assert "3,000원을 환불했습니다" in notice.text and "6,900원" in notice.text, notice.text
    assert page.find_element(By.ID, "refunded-amount").text.strip() == won(3000)
    assert page.find_element(By.ID, "refundable-amount").text.strip() == won(6900)
    badge = page.find_element(By.CSS_SELECTOR, "#payment-facts .badge")
    assert "status-PARTIAL_CANCELLED" in badge.get_attribute("class").split(), badge.get_attribute("class")
    assert badge.text.strip() == "부분 취소"
    [entry] = page.find_elements(By.CSS_SELECTOR, '#audit-log tr[data-action="payment.refund"]')
    assert shop["staff"] in entry.text, entry.text
    # The form now offers what is left, against the new refunded amount.
    assert page.find_element(By.CSS_SELECTOR, '#refund-form input[name="amount"]').get_attribute("value") == "6900"
    assert page.find_element(By.CSS_SELECTOR, '#refund-form input[name="expected_refunded_amount"]').get_attribute("value") == "3000"
    # The database and Toss agree with the page.
    assert stack.query(f"SELECT status, refunded_amount FROM payments WHERE id = '{expected['basic']}'") == [["PARTIAL_CANCELLED", 3000]]
    [[payment_key]] = stack.query(f"SELECT payment_key FROM payments WHERE id = '{expected['basic']}'")
    [call] = cancel_calls(stack, payment_key)
    assert call["body"].get("cancelAmount") == 3000 and call["body"].get("cancelReason") == REFUND_REASON, call["body"]

    # The list now finds it under PARTIAL_CANCELLED, with the refund shown.
    page.get(stack.url("/admin/payments"))
    wait(page).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#payments tbody")))
    filter_payments(page, status="PARTIAL_CANCELLED")
    steps("filter-partial-cancelled")
    assert_listed(page, expected, {"basic"}, "status=PARTIAL_CANCELLED")
    [row] = page.find_elements(By.CSS_SELECTOR, "#payments tbody tr[data-payment-id]")
    assert won(3000) in row.text and "부분 취소" in row.text, row.text
    filter_payments(page, status="COMPLETED")
    assert_listed(page, expected, {"premium"}, "status=COMPLETED after the refund")

    # The dashboard, through the side navigation.
    submit_and_reload(page, page.find_element(By.CSS_SELECTOR, '.admin-nav a[href="/admin"]'))
    wait_for_path(page, stack.base_url, "/admin")
    wait(page).until(EC.presence_of_element_located((By.ID, "dashboard-stats")))
    steps("dashboard")
    live = stack.query("SELECT p.price, p.billing_cycle FROM subscriptions s JOIN plans p ON p.id = s.plan_id "
                       "WHERE s.status IN ('ACTIVE', 'PAST_DUE')")
    months = {"MONTHLY": 1, "QUARTERLY": 3, "YEARLY": 12}
    mrr = round(sum(int(price) / months[cycle] for price, cycle in live))
    assert mrr >= 9900 + 19900, (mrr, live)
    mrr_figure = page.find_element(By.CSS_SELECTOR, "#stat-mrr .value").text.strip()
    assert mrr_figure == won(mrr), f"MRR shown as {mrr_figure!r}, expected {won(mrr)} from {live}"
    assert "MRR" in page.find_element(By.CSS_SELECTOR, "#stat-mrr .label").text
    charts = page.find_elements(By.CSS_SELECTOR, "figure.chart > svg")
    assert len(charts) == 2, f"expected 2 inline <svg> charts, found {len(charts)}"
    for svg in charts:
        assert svg.get_attribute("namespaceURI") == "http://www.w3.org/2000/svg"
        assert svg.size["width"] > 100 and svg.size["height"] > 50, svg.size  # laid out, not an empty box
    revenue = page.find_elements(By.CSS_SELECTOR, "#chart-revenue svg g.bar")
    assert len(revenue) == 12, len(revenue)
    now = datetime.now(SEOUL)
    if now.strftime("%Y-%m") == shop["started"].strftime("%Y-%m"):  # the month did not turn during the test
        assert revenue[-1].get_attribute("data-value") == str(9900 - 3000 + 19900), revenue[-1].get_attribute("data-value")
    plans = {bar.get_attribute("data-label"): int(bar.get_attribute("data-value"))
             for bar in page.find_elements(By.CSS_SELECTOR, "#chart-active-by-plan svg g.bar")}
    assert sum(plans.values()) >= 2 and all(count > 0 for count in plans.values()), plans
    assert not page.find_elements(By.TAG_NAME, "script"), "the back office runs no script"
    page.execute_script("arguments[0].scrollIntoView()", page.find_element(By.ID, "chart-active-by-plan"))
    steps("dashboard-charts")
