"""Browser end-to-end (SPEC §5): headless Chromium against nginx + `gudok serve` + the Toss sandbox.

A person signs up, picks a plan on the pricing page, pays (or registers a card) through the sandbox's
card form reached via the JS SDK stand-in, and manages the subscription on /account. Every step is
screenshotted under test-artifacts/screenshots/<test>/NN-step.png (plus NN-failure.png/.html and the
browser console on failure).

One module-level stack per database (SQLite, PostgreSQL; GUDOK_TEST_DATABASES=sqlite for a quick run); every
test signs up a fresh user in the session's browser after its cookies were cleared. Waits are explicit
(WebDriverWait, at most 15 s), never sleeps.
"""

from __future__ import annotations

import calendar
import json
import re
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from gudok_harness import ARTIFACTS

from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

# The pages go through the database too (dates round-trip through timestamps): both backends, one stack each.
pytestmark = pytest.mark.both_databases

SEOUL = ZoneInfo("Asia/Seoul")
PASSWORD = "correct horse battery"
APPROVING_CARD = "4330123412341234"  # the card form's default
DECLINED_AT_AUTHENTICATION = "4000000000000002"
WAIT = 15  # seconds, for every explicit wait


# ---------------------------------------------------------------- helpers


class Steps:
    """Screenshots (and the page source) of each step: test-artifacts/screenshots/<test>/NN-step.png."""

    def __init__(self, driver, name: str):
        self.driver = driver
        self.dir = ARTIFACTS / "screenshots" / re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:120]
        self.count = 0
        self.sources: list[tuple[str, str]] = []  # (url, page source) of every page a step looked at

    def __call__(self, step: str) -> None:
        self.count += 1
        self.dir.mkdir(parents=True, exist_ok=True)
        self.driver.save_screenshot(str(self.dir / f"{self.count:02d}-{step}.png"))
        self.record()

    def record(self) -> None:
        self.sources.append((self.driver.current_url, self.driver.page_source))

    def failure(self) -> None:
        try:
            self("failure")
            (self.dir / f"{self.count:02d}-failure.html").write_text(
                f"<!-- {self.driver.current_url} -->\n{self.driver.page_source}")
            (self.dir / "console.json").write_text(json.dumps(console_log(self.driver), ensure_ascii=False, indent=1))
        except WebDriverException as error:  # the browser itself is gone: nothing more to save
            self.dir.mkdir(parents=True, exist_ok=True)
            (self.dir / "failure.txt").write_text(str(error))


def console_log(driver) -> list[dict]:
    """The browser console since the last call (empty when the driver does not support it)."""
    try:
        return driver.get_log("browser")
    except (WebDriverException, AttributeError, ValueError):
        return []


def wait(driver):
    return WebDriverWait(driver, WAIT, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))


def click_and_reload(driver, element_id: str) -> None:
    """Clicks a form button and waits until the page it was on has been replaced."""
    old = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.ID, element_id).click()

    def replaced(_driver) -> bool:
        # Chromium may answer a question about a node of the page being torn down with an inspector error
        # ("Node with given id does not belong to the document") instead of "stale": both mean it is gone.
        try:
            return EC.staleness_of(old)(_driver)
        except WebDriverException as error:
            return "does not belong to the document" in str(error)

    wait(driver).until(replaced)


def wait_for_path(driver, stack_or_url: str, path: str) -> None:
    """Until the address is ORIGIN + PATH (the query string, if any, ignored)."""
    target = stack_or_url + path

    def arrived(d):
        return d.current_url.split("?", 1)[0].split("#", 1)[0] == target

    try:
        wait(driver).until(arrived)
    except Exception as error:
        raise AssertionError(f"expected to arrive at {target}, still at {driver.current_url}") from error


def add_months(day: date, months: int) -> date:
    """The day `months` later, clamped to the month's end (Jan 31 + 1 → Feb 28/29)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def fetch_json(driver, path: str) -> tuple[int, object]:
    """GET PATH from the current page's origin with the browser's own session (same-origin fetch)."""
    result = driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        fetch(arguments[0], {credentials: 'same-origin', headers: {Accept: 'application/json'}})
          .then(async (r) => done([r.status, await r.text()]))
          .catch((e) => done([0, String(e)]));
        """, path)
    status, text = result
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def sandbox_get(stack, path: str, **params):
    response = requests.get(stack.sandbox.url + path, params=params, timeout=10)
    response.raise_for_status()
    return response.json()


def browser_session(driver, stack):
    """A GudokClient carrying the browser's cookies for the stack's origin."""
    session = stack.new_client()
    for cookie in driver.get_cookies():
        session.cookies.set(cookie["name"], cookie["value"])
    return session


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def steps(request, browser):
    before = request.session.testsfailed
    recorder = Steps(browser, request.node.name)
    yield recorder
    if request.session.testsfailed > before:  # the call phase is reported before teardown runs
        recorder.failure()


@pytest.fixture
def page(browser, stack, steps):
    """The session browser with no cookies and an empty console log."""
    browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
    browser.get("about:blank")
    console_log(browser)
    return browser


@pytest.fixture(scope="module")
def basic_plan(stack) -> dict:
    plans = stack.client.get("/api/subscriptions/plans").json()
    return next(plan for plan in plans if plan["plan_type"] == "BASIC")


def sign_up(driver, stack, steps) -> str:
    """Signs up a fresh user through /accounts/signup; ends on the pricing page."""
    username = f"web_{uuid.uuid4().hex[:10]}"
    driver.get(stack.url("/accounts/signup"))
    wait(driver).until(EC.presence_of_element_located((By.ID, "signup-button")))
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "email").send_keys(f"{username}@example.com")
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    steps("signup-form")
    driver.find_element(By.ID, "signup-button").click()
    wait_for_path(driver, stack.base_url, "/")
    wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".plan-card")))
    assert username in driver.find_element(By.CSS_SELECTOR, ".site-header").text
    steps("pricing")
    return username


def open_checkout(driver, stack, steps, plan: dict) -> None:
    """From the pricing page: the plan's 구독하기 → /checkout/{plan_id}."""
    card = driver.find_element(By.CSS_SELECTOR, f'.plan-card[data-plan-type="{plan["plan_type"]}"]')
    assert card.find_element(By.CSS_SELECTOR, ".price").text.strip() == "9,900원 / 월"
    link = card.find_element(By.LINK_TEXT, "구독하기")
    link.click()
    wait_for_path(driver, stack.base_url, f"/checkout/{plan['id']}")
    wait(driver).until(EC.element_to_be_clickable((By.ID, "payment-button")))
    assert driver.find_element(By.ID, "plan-price").text.strip() == "9,900원 / 월"
    steps("checkout")


def to_card_form(driver, stack, steps, button_id: str, kind: str) -> None:
    """Clicks a checkout button; the SDK stand-in navigates to the sandbox's card form (KIND: payment | billing-auth)."""
    driver.find_element(By.ID, button_id).click()
    try:
        wait_for_path(driver, stack.sandbox.url, f"/sandbox/{kind}")
    except AssertionError:
        error = driver.find_elements(By.ID, "checkout-error")
        shown = error[0].text if error else ""
        raise AssertionError(f"the card form did not open (checkout error: {shown!r}; console: "
                             f"{console_log(driver)})") from None
    wait(driver).until(EC.element_to_be_clickable((By.ID, "pay-button")))
    assert "SANDBOX" in driver.title
    assert "SANDBOX" in driver.find_element(By.ID, "sandbox-banner").text
    steps(f"card-form-{kind}")


def submit_card(driver, steps, card: str | None = None) -> None:
    if card is not None:
        field = driver.find_element(By.ID, "card-number")
        field.clear()
        field.send_keys(card)
    else:
        assert driver.find_element(By.ID, "card-number").get_attribute("value") == APPROVING_CARD
    steps("card-entered")
    driver.find_element(By.ID, "pay-button").click()


def subscription_card(driver):
    cards = driver.find_elements(By.CSS_SELECTOR, "article.subscription-card")
    assert len(cards) == 1, f"expected one subscription on /account, found {len(cards)}"
    return cards[0]


def expected_next_charge_days(started: datetime, finished: datetime) -> set[str]:
    """One month after today in Seoul (clamped); both ends of the flow count, in case it straddled midnight."""
    return {add_months(moment.astimezone(SEOUL).date(), 1).isoformat() for moment in (started, finished)}


def assert_active_on_account(driver, started: datetime) -> object:
    card = subscription_card(driver)
    assert card.get_attribute("data-status") == "ACTIVE"
    assert card.find_element(By.CSS_SELECTOR, ".badge").text.strip() == "활성"
    next_billing = card.find_element(By.CSS_SELECTOR, ".next-billing").text.strip()
    days = expected_next_charge_days(started, datetime.now(SEOUL))
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2}) \d{2}:\d{2} · (.+)", next_billing)
    assert match, f"next charge shown as {next_billing!r}"
    assert match.group(1) in days, f"next charge {match.group(1)}, expected one of {sorted(days)}"
    assert match.group(2) == "9,900원"
    period = card.find_element(By.CSS_SELECTOR, ".period").text
    assert period.startswith(started.astimezone(SEOUL).date().isoformat()) or period.startswith(
        datetime.now(SEOUL).date().isoformat()), period
    assert any(period.endswith(day) for day in days), period
    return card


def assert_receipt_row(driver) -> str:
    rows = driver.find_elements(By.CSS_SELECTOR, "#payments tbody tr")
    assert len(rows) == 1, f"expected one payment row, found {len(rows)}"
    row = rows[0]
    assert "9,900원" in row.text
    assert "완료" in row.text
    receipt = row.find_element(By.LINK_TEXT, "영수증").get_attribute("href")
    assert receipt and receipt.startswith(("http://", "https://")), receipt
    response = requests.get(receipt, timeout=10, verify=False)
    assert response.status_code == 200, (receipt, response.status_code)
    return receipt


def my_subscriptions(driver) -> list[dict]:
    status, body = fetch_json(driver, "/api/subscriptions/my-subscriptions")
    assert status == 200, (status, body)
    return body


def my_payments(driver) -> list[dict]:
    status, body = fetch_json(driver, "/api/subscriptions/payments")
    assert status == 200, (status, body)
    return body


def pay_first_period(driver, stack, steps, plan: dict) -> datetime:
    """Sign-up → pricing → checkout → card form → /account with an ACTIVE subscription. Returns the start time."""
    sign_up(driver, stack, steps)
    started = datetime.now(SEOUL)
    open_checkout(driver, stack, steps, plan)
    to_card_form(driver, stack, steps, "payment-button", "payment")
    assert driver.find_element(By.ID, "amount").text.strip() == "9,900원"
    submit_card(driver, steps)
    wait_for_path(driver, stack.base_url, "/account")
    wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "article.subscription-card")))
    steps("account-active")
    return started


# ---------------------------------------------------------------- scenarios


def test_pay_first_month_by_card(page, stack, steps, basic_plan):
    started = pay_first_period(page, stack, steps, basic_plan)

    assert page.find_element(By.ID, "notice").text.strip() == "결제가 완료되어 구독이 시작되었습니다."
    assert_active_on_account(page, started)
    assert_receipt_row(page)
    subscriptions = my_subscriptions(page)
    assert [s["status"] for s in subscriptions] == ["ACTIVE"]
    assert subscriptions[0]["plan"]["id"] == basic_plan["id"]
    payments = my_payments(page)
    assert [(p["status"], p["amount"]) for p in payments] == [("COMPLETED", 9900)]
    # The redirect went through gudok's successUrl (nginx saw it).
    assert "GET /api/subscriptions/payments/success?" in stack.access_log()


def test_register_card_for_automatic_billing(page, stack, steps, basic_plan):
    sign_up(page, stack, steps)
    started = datetime.now(SEOUL)
    open_checkout(page, stack, steps, basic_plan)
    to_card_form(page, stack, steps, "billing-button", "billing-auth")
    customer_key = page.find_element(By.ID, "customer-key").text.strip()
    submit_card(page, steps)
    wait_for_path(page, stack.base_url, "/account")
    wait(page).until(EC.presence_of_element_located((By.CSS_SELECTOR, "article.subscription-card")))
    steps("account-active")

    assert "GET /api/subscriptions/billing/success?" in stack.access_log()
    assert page.find_element(By.ID, "notice").text.strip() == "카드가 등록되었습니다."
    card = assert_active_on_account(page, started)
    issued = sandbox_get(stack, "/sandbox/billing-keys", customerKey=customer_key)
    assert len(issued) == 1, issued
    masked = issued[0]["cardNumber"]
    assert masked == "43301234****123*"
    card_info = card.find_element(By.CSS_SELECTOR, ".card-info").text
    assert masked in card_info and issued[0]["cardCompany"] in card_info, card_info
    assert_receipt_row(page)
    subscriptions = my_subscriptions(page)
    steps.record()
    assert [s["status"] for s in subscriptions] == ["ACTIVE"]
    assert subscriptions[0]["card"]["number"] == masked

    # The raw billing key never reaches a page (nor the API answers) and never the responder's log.
    all_keys = [entry["billingKey"] for entry in sandbox_get(stack, "/sandbox/billing-keys")]
    assert all_keys
    pages_seen = steps.sources + [("/api/subscriptions/my-subscriptions", json.dumps(subscriptions)),
                                  ("/api/subscriptions/payments", json.dumps(my_payments(page)))]
    log = stack.log_text()
    assert log
    for key in all_keys:
        for url, source in pages_seen:
            assert key not in source, f"billing key shown on {url}"
        assert key not in log, "billing key in the responder's log"


def test_card_declined_in_card_form(page, stack, steps, basic_plan):
    sign_up(page, stack, steps)
    open_checkout(page, stack, steps, basic_plan)
    to_card_form(page, stack, steps, "payment-button", "payment")
    order_id = page.find_element(By.ID, "order-id").text.strip()
    submit_card(page, steps, DECLINED_AT_AUTHENTICATION)
    wait_for_path(page, stack.base_url, "/api/subscriptions/payments/fail")
    wait(page).until(EC.presence_of_element_located((By.ID, "payment-result")))
    steps("failure-page")

    assert page.find_element(By.ID, "failure-message").text.strip()
    assert page.find_element(By.ID, "failure-code").text.strip() == "REJECT_CARD_COMPANY"
    assert "결제가 완료되지 않았습니다" in page.find_element(By.CSS_SELECTOR, "#payment-result h1").text
    subscriptions = my_subscriptions(page)
    assert not [s for s in subscriptions if s["status"] == "ACTIVE"], subscriptions
    assert not [p for p in my_payments(page) if p["status"] == "COMPLETED"]
    assert sandbox_get(stack, "/sandbox/charges", orderId=order_id) == []


def test_customer_cancels_in_card_form(page, stack, steps, basic_plan):
    sign_up(page, stack, steps)
    open_checkout(page, stack, steps, basic_plan)
    to_card_form(page, stack, steps, "payment-button", "payment")
    order_id = page.find_element(By.ID, "order-id").text.strip()
    steps("before-cancel")
    page.find_element(By.ID, "cancel-button").click()
    wait_for_path(page, stack.base_url, "/api/subscriptions/payments/fail")
    wait(page).until(EC.presence_of_element_located((By.ID, "payment-result")))
    steps("cancelled-page")

    assert page.find_element(By.ID, "failure-code").text.strip() == "PAY_PROCESS_CANCELED"
    assert "취소" in page.find_element(By.CSS_SELECTOR, "#payment-result h1").text
    assert "청구되지 않았습니다" in page.find_element(By.ID, "failure-message").text
    subscriptions = my_subscriptions(page)
    assert not [s for s in subscriptions if s["status"] == "ACTIVE"], subscriptions
    assert not [p for p in my_payments(page) if p["status"] == "COMPLETED"]
    assert sandbox_get(stack, "/sandbox/payments", orderId=order_id) == []
    for subscription in subscriptions:
        assert sandbox_get(stack, "/sandbox/charges", customerKey=subscription["customer_key"]) == []


def test_cancel_and_resume_on_account_page(page, stack, steps, basic_plan):
    started = pay_first_period(page, stack, steps, basic_plan)
    assert_active_on_account(page, started)

    click_and_reload(page, "cancel-period-end-button")
    wait(page).until(EC.presence_of_element_located((By.ID, "resume-button")))
    steps("cancel-at-period-end")
    card = subscription_card(page)
    assert card.get_attribute("data-status") == "ACTIVE"
    assert "해지 예정" in card.find_element(By.CSS_SELECTOR, ".next-billing").text
    assert not page.find_elements(By.ID, "cancel-period-end-button")
    assert [s["cancel_at_period_end"] for s in my_subscriptions(page)] == [True]

    click_and_reload(page, "resume-button")
    wait(page).until(EC.presence_of_element_located((By.ID, "cancel-period-end-button")))
    steps("resumed")
    assert "해지 예정" not in page.find_element(By.TAG_NAME, "main").text
    assert_active_on_account(page, started)
    assert [s["cancel_at_period_end"] for s in my_subscriptions(page)] == [False]

    click_and_reload(page, "cancel-now-button")
    wait(page).until(lambda d: d.find_element(By.CSS_SELECTOR, "article.subscription-card")
                     .get_attribute("data-status") == "CANCELLED")
    steps("cancelled-now")
    card = subscription_card(page)
    assert card.find_element(By.CSS_SELECTOR, ".badge").text.strip() == "취소됨"
    assert not page.find_elements(By.ID, "cancel-now-button")
    assert [s["status"] for s in my_subscriptions(page)] == ["CANCELLED"]


def register_card_on_checkout(driver, stack, steps, plan: dict) -> None:
    sign_up(driver, stack, steps)
    open_checkout(driver, stack, steps, plan)
    to_card_form(driver, stack, steps, "billing-button", "billing-auth")
    submit_card(driver, steps)
    wait_for_path(driver, stack.base_url, "/account")
    wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "article.subscription-card")))


def test_change_plan_and_consent_to_a_price_increase_on_account_page(page, stack, steps, basic_plan):
    premium = next(plan for plan in stack.client.get("/api/subscriptions/plans").json() if plan["plan_type"] == "PREMIUM")
    register_card_on_checkout(page, stack, steps, basic_plan)
    [subscription] = my_subscriptions(page)

    # An upgrade from the page: switched now, the prorated difference charged once to the registered card.
    select = page.find_element(By.ID, "change-plan-select")
    select.find_element(By.CSS_SELECTOR, f'option[value="{premium["id"]}"]').click()
    steps("change-plan-chosen")
    click_and_reload(page, "change-plan-button")
    wait(page).until(EC.presence_of_element_located((By.ID, "notice")))
    steps("plan-changed")
    assert premium["name"] in page.find_element(By.ID, "notice").text
    assert premium["name"] in subscription_card(page).find_element(By.TAG_NAME, "h2").text
    [changed] = my_subscriptions(page)
    assert (changed["plan"]["id"], changed["price"]) == (premium["id"], premium["price"])
    charges = [c for c in sandbox_get(stack, "/sandbox/payments", customerKey=subscription["customer_key"]) if c["status"] == "DONE"]
    amounts = [c["totalAmount"] for c in charges]
    assert len(amounts) == 2 and basic_plan["price"] in amounts, amounts
    amounts.remove(basic_plan["price"])
    assert 0 < amounts[0] <= premium["price"] - basic_plan["price"], "only the unused part of the difference is charged"

    # A price increase scheduled by the operator: the banner asks, the customer agrees from the page.
    name = f"webstaff_{uuid.uuid4().hex[:8]}"
    stack.create_user(name, PASSWORD, staff=True)
    staff = stack.login(name, PASSWORD)
    effective = datetime.now(SEOUL).replace(microsecond=0) + timedelta(days=40)
    scheduled = staff.post(f"/api/admin/plans/{premium['id']}/price-changes",
                           json={"amount": premium["price"] + 3000, "effective_at": effective.isoformat()})
    assert scheduled.status_code == 201, scheduled.text
    try:
        page.get(stack.url("/account"))
        banner = wait(page).until(EC.presence_of_element_located((By.ID, "price-change")))
        steps("price-change-banner")
        assert banner.get_attribute("data-consent") == "PENDING"
        assert "동의하지 않으시면" in banner.text and "해지" in banner.text
        click_and_reload(page, "price-agree-button")
        banner = wait(page).until(EC.presence_of_element_located((By.ID, "price-change")))
        steps("price-consent-given")
        assert banner.get_attribute("data-consent") == "GIVEN"
        assert [s["pending_price"]["consent"] for s in my_subscriptions(page)] == ["GIVEN"]
    finally:
        staff.delete(f"/api/admin/price-changes/{scheduled.json()['id']}")


def test_coupon_entered_at_checkout(page, stack, steps, basic_plan):
    name = f"webstaff_{uuid.uuid4().hex[:8]}"
    stack.create_user(name, PASSWORD, staff=True)
    code = f"WEB{uuid.uuid4().hex[:8].upper()}"
    made = stack.login(name, PASSWORD).post("/api/admin/coupons", json={"code": code, "percent_off": 10, "duration": "ONCE"})
    assert made.status_code == 201, made.text
    sign_up(page, stack, steps)
    open_checkout(page, stack, steps, basic_plan)
    page.find_element(By.ID, "coupon-code").send_keys(code.lower())
    steps("coupon-entered")
    to_card_form(page, stack, steps, "payment-button", "payment")
    assert page.find_element(By.ID, "amount").text.strip() == "8,910원"
    submit_card(page, steps)
    wait_for_path(page, stack.base_url, "/account")
    wait(page).until(EC.presence_of_element_located((By.CSS_SELECTOR, "article.subscription-card")))
    steps("account-with-coupon")
    [subscription] = my_subscriptions(page)
    assert subscription["status"] == "ACTIVE" and subscription["coupon"]["code"] == code
    assert "8,910원" in page.find_element(By.ID, "invoices").text


def test_checkout_page_security_policy_and_sdk(page, stack, steps, basic_plan):
    sign_up(page, stack, steps)
    # Collect CSP violations from the very first script of every document.
    hook = page.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": """
        window.__cspViolations = [];
        document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(
          {directive: e.violatedDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber}));
    """})
    try:
        console_log(page)
        open_checkout(page, stack, steps, basic_plan)
        violations = page.execute_script("return window.__cspViolations")
        sdk_loaded = page.execute_script("return !!(window.TossPayments && window.TossPayments.__sandbox)")
        script_sources = [s.get_dom_attribute("src") for s in page.find_elements(By.CSS_SELECTOR, "script[src]")]
        fetched = page.execute_script(
            "return performance.getEntriesByType('resource').map((e) => e.name)")
        console = console_log(page)
    finally:
        page.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": hook["identifier"]})

    sdk_url = stack.sandbox.js_sdk_url
    assert stack.env["TOSS_JS_SDK_URL"] == sdk_url
    assert sdk_url in script_sources, script_sources
    assert sdk_url in fetched, fetched
    assert sdk_loaded, "the SDK script did not run (TossPayments missing)"
    assert violations == [], violations
    problems = [entry for entry in console
                if re.search(r"Content Security Policy|Mixed Content|Refused to", entry.get("message", ""))]
    assert problems == [], problems

    # The header itself, on the same page and the same session.
    response = browser_session(page, stack).get(page.current_url, timeout=10)
    assert response.status_code == 200
    header = response.headers.get("Content-Security-Policy")
    assert header, dict(response.headers)
    assert len(response.raw.headers.getlist("Content-Security-Policy")) == 1
    directives = {}
    for part in header.split(";"):
        tokens = part.split()
        if tokens:
            directives[tokens[0].lower()] = tokens[1:]
    sdk_origin = stack.sandbox.url
    assert sorted(directives["script-src"]) == sorted(["'self'", sdk_origin]), header
    assert directives.get("default-src") == ["'self'"], header
    assert "'unsafe-inline'" not in directives["script-src"] and "'unsafe-eval'" not in directives["script-src"]
    assert directives.get("object-src") == ["'none'"], header

    # And the SDK still works under that policy: the payment button reaches the card form.
    to_card_form(page, stack, steps, "payment-button", "payment")
