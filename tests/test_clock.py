"""The test clock (SPEC §3): `gudok clock set/advance/show/reset`, read by every process; a banner on every page."""

from __future__ import annotations

import uuid

import pytest
import requests


@pytest.fixture(scope="module")
def stack_env():
    return {"GUDOK_TEST_CLOCK": "1"}


def clock(stack, *args: str) -> str:
    result = stack.run("clock", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_clock_commands_refuse_without_the_test_clock(stack):
    for args in (["show"], ["set", "2030-01-01T00:00:00+09:00"], ["advance", "1d"], ["reset"]):
        result = stack.run("clock", *args, env={"GUDOK_TEST_CLOCK": None})
        assert result.returncode == 2, (args, result.returncode, result.stderr)
        assert result.stderr.strip() and len(result.stderr.strip().splitlines()) == 1


def test_set_advance_show_reset(stack):
    try:
        assert clock(stack, "set", "2030-01-31T09:00:00+09:00") == "2030-01-31T09:00:00+09:00"
        assert clock(stack, "advance", "31d") == "2030-03-03T09:00:00+09:00"
        assert clock(stack, "advance", "90m") == "2030-03-03T10:30:00+09:00"
        assert clock(stack, "advance", "2h") == "2030-03-03T12:30:00+09:00"
        assert clock(stack, "show") == "2030-03-03T12:30:00+09:00"
        assert stack.run("clock", "set", "not a time").returncode == 2
        assert stack.run("clock", "advance", "3 weeks").returncode == 2
        assert stack.run("clock", "set", "2030-02-30T00:00:00+09:00").returncode == 2
    finally:
        assert "real time" in clock(stack, "reset")
    assert "real time" in clock(stack, "show")


def test_every_page_shows_a_banner_while_a_test_clock_is_set(stack):
    try:
        clock(stack, "set", "2030-05-05T05:05:00+09:00")
        page = stack.new_client().get("/")
        assert page.status_code == 200
        assert 'id="test-clock-banner"' in page.text and "2030-05-05 05:05" in page.text
        login = stack.new_client().get("/accounts/login")
        assert "test-clock-banner" in login.text
    finally:
        clock(stack, "reset")
    assert "test-clock-banner" not in stack.new_client().get("/").text


def test_the_responder_activates_subscriptions_at_the_test_time(stack):
    name = f"clocked_{uuid.uuid4().hex[:8]}"
    stack.create_user(name, "correct horse battery")
    client = stack.login(name, "correct horse battery")
    plan = next(p for p in client.get("/api/subscriptions/plans").json() if p["plan_type"] == "BASIC")
    subscription = client.post("/api/subscriptions/subscribe", json={"plan_id": plan["id"]}).json()
    auth = requests.post(stack.sandbox.url + "/sandbox/billing/authorize",
                         json={"customerKey": subscription["customer_key"], "cardNumber": "4330123412341234"}, timeout=10).json()
    try:
        clock(stack, "set", "2030-01-31T09:00:00+09:00")
        issued = client.post("/api/subscriptions/billing/issue", json={"customer_key": subscription["customer_key"], "auth_key": auth["authKey"]})
        assert issued.status_code == 200, issued.text
        active = issued.json()["subscription"]
        assert active["start_date"] == "2030-01-31T09:00:00+09:00"
        assert active["next_billing_date"] == "2030-02-28T09:00:00+09:00"
        # The biller reads the same clock: nothing is due on Feb 27, the renewal is on Feb 28.
        clock(stack, "set", "2030-02-27T09:00:00+09:00")
        assert stack.run("bill").stdout.strip().splitlines()[-1].startswith("charged=0 ")
        clock(stack, "advance", "1d")
        assert stack.run("bill").stdout.strip().splitlines()[-1].startswith("charged=1 ")
        # --now overrides the clock.
        assert stack.run("bill", "--now", "2030-03-31T09:00:00+09:00").stdout.strip().splitlines()[-1].startswith("charged=1 ")
    finally:
        clock(stack, "reset")
    mine = client.get("/api/subscriptions/my-subscriptions").json()[0]
    assert mine["next_billing_date"] == "2030-04-30T09:00:00+09:00"
