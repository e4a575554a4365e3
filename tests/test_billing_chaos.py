"""Never twice, never lost (SPEC §8 invariant): concurrent `gudok bill` processes, and `kill -9` at random moments
followed by reconcile + bill to completion."""

from __future__ import annotations

import random
import signal
import subprocess
import time
from datetime import datetime, timedelta

import pytest
import requests

from billing_support import SEOUL, approved_by_order, insert_due_subscriptions, iso, sandbox_charges, summary


@pytest.fixture(params=["sqlite", "postgres"])
def chaos(request, make_stack):
    return make_stack(db=request.param, sandbox="own", sandbox_args=("--latency-ms", "60"))


def start_bill(stack, now: datetime, concurrency: int = 8) -> subprocess.Popen:
    return subprocess.Popen([str(stack.gudok_bin), "bill", "--now", iso(now), "--concurrency", str(concurrency)],
                            cwd=stack.dir, env=stack.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def assert_each_charged_exactly_once(stack, rows: list[dict]) -> None:
    approved = approved_by_order(stack.sandbox.url)
    for row in rows:
        prefix = "sub-" + row["id"].replace("-", "") + "-p1-"
        orders = {order: n for order, n in approved.items() if order.startswith(prefix)}
        assert sum(orders.values()) == 1, f"subscription {row['id']} charged {orders} at the sandbox"
    completed = {order for [order] in stack.query("SELECT order_id FROM payments WHERE status = 'COMPLETED'")}
    missing = [order for order in approved if order not in completed]
    assert not missing, f"charges Toss accepted but the database does not have as COMPLETED: {missing[:5]}"
    [[active_period_1]] = stack.query("SELECT COUNT(*) FROM subscriptions WHERE status = 'ACTIVE' AND current_period = 1")
    assert int(active_period_1) == len(rows)


def test_four_concurrent_bill_processes_charge_each_subscription_once(chaos):
    stack = chaos
    anchor = datetime(2032, 1, 15, 10, 0, tzinfo=SEOUL)
    rows = insert_due_subscriptions(stack, 60, anchor)
    due = rows[0]["due"]
    processes = [start_bill(stack, due) for _ in range(4)]
    totals = {"charged": 0, "failed": 0, "pending": 0, "expired": 0}
    for process in processes:
        out, _ = process.communicate(timeout=180)
        assert process.returncode == 0
        for key, value in summary(out).items():
            totals[key] += value
    assert totals["charged"] == 60 and totals["failed"] == 0, totals
    assert_each_charged_exactly_once(stack, rows)
    charge_calls = [c for c in requests.get(stack.sandbox.url + "/sandbox/calls", timeout=30).json()
                    if c["path"].startswith("/v1/billing/") and "authorizations" not in c["path"]]
    executed = [c for c in charge_calls if not c.get("replayed")]
    assert len({c["orderId"] for c in executed}) == 60


def test_kill_9_at_random_moments_then_reconcile_and_bill_to_completion(chaos):
    stack = chaos
    anchor = datetime(2032, 2, 29, 23, 30, tzinfo=SEOUL)
    rows = insert_due_subscriptions(stack, 200, anchor)
    due = rows[0]["due"]
    assert (due.month, due.day) == (3, 29), "anchored on Feb 29: the next period starts Mar 29"
    rng = random.Random(20321)
    kills = 0
    for _ in range(12):
        process = start_bill(stack, due, concurrency=8)
        time.sleep(rng.uniform(0.1, 0.9))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait(timeout=30)
    assert kills >= 3, "the passes finished before they could be killed: make them slower"
    later = due + timedelta(minutes=5)
    for _ in range(10):
        assert stack.run("reconcile", "--now", iso(later), timeout=300).returncode == 0
        result = stack.run("bill", "--now", iso(later), "--concurrency", "16", timeout=300)
        assert result.returncode == 0, result.stderr
        [[pending]] = stack.query("SELECT COUNT(*) FROM payments WHERE status = 'PENDING'")
        [[waiting]] = stack.query("SELECT COUNT(*) FROM subscriptions WHERE current_period = 0")
        if int(pending) == 0 and int(waiting) == 0:
            break
    assert_each_charged_exactly_once(stack, rows)
    assert len([p for p in sandbox_charges(stack.sandbox.url) if p.get("status") == "DONE"]) == 200
