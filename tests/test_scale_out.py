"""Scale-out (SPEC §8, last point): nginx balancing over two `gudok serve` responders and two `gudok worker`s on one
PostgreSQL database. One responder is killed in the middle of the checkout traffic; nothing is lost or doubled."""

from __future__ import annotations

import re
import signal
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests

from billing_support import approved_by_order
from gudok_harness import socket_accepts, stop_process

CUSTOMERS = 16


def with_retries(call, attempts: int = 8):
    """A client retries what failed while a responder died (502/connection errors); confirm is idempotent."""
    last = None
    for _ in range(attempts):
        try:
            response = call()
            if response.status_code < 500:
                return response
            last = response
        except requests.RequestException as error:
            last = error
        time.sleep(0.3)
    raise AssertionError(f"still failing after {attempts} attempts: {last}")


def test_two_responders_two_workers_one_database(make_stack):
    stack = make_stack(db="postgres", env={"GUDOK_TEST_CLOCK": "1"}, sandbox="own", threads=8)
    second_socket = stack.dir / "run" / "gudok-2.sock"
    log = open(stack.log_dir / "gudok-2.log", "ab")
    second = subprocess.Popen([str(stack.gudok_bin), "serve", "--fastcgi", f"unix:{second_socket}", "--threads", "8"],
                              cwd=stack.dir, env=stack.env, stdout=log, stderr=log)
    workers = []
    try:
        deadline = time.monotonic() + 20
        while not socket_accepts(second_socket):
            assert second.poll() is None and time.monotonic() < deadline, "second responder did not start"
            time.sleep(0.05)
        conf = stack.dir / "nginx.conf"
        text = conf.read_text()
        text, replaced = re.subn(r"(upstream gudok \{\s*server unix:[^;]+;)", rf"\1\n        server unix:{second_socket};", text)
        assert replaced == 1, "the dev nginx template's upstream block changed: update this test"
        conf.write_text(text)
        stack.nginx.send_signal(signal.SIGHUP)
        time.sleep(1)

        stack.run("clock", "set", "2033-03-31T10:00:00+09:00", check=True)
        for n in range(2):
            worker_log = open(stack.log_dir / f"worker-{n}.log", "ab")
            workers.append(subprocess.Popen([str(stack.gudok_bin), "worker", "--interval", "1", "--concurrency", "4"],
                                            cwd=stack.dir, env=stack.env, stdout=worker_log, stderr=worker_log))

        plan_id = next(p["id"] for p in stack.client.get("/api/subscriptions/plans").json() if p["plan_type"] == "BASIC")
        names = [f"scale{n}_{uuid.uuid4().hex[:6]}" for n in range(CUSTOMERS)]
        for name in names:
            stack.create_user(name, "correct horse battery")
        killed = threading.Event()

        def customer(index: int) -> str:
            client = stack.new_client()
            with_retries(lambda: client.login(names[index], "correct horse battery"))
            subscription = with_retries(lambda: client.post("/api/subscriptions/subscribe", json={"plan_id": plan_id})).json()
            if index == CUSTOMERS // 2 and not killed.is_set():
                stack.responder.send_signal(signal.SIGKILL)  # the first responder dies mid-traffic
                stack._responder_stopped = True
                killed.set()
            auth = requests.post(stack.sandbox.url + "/sandbox/billing/authorize",
                                 json={"customerKey": subscription["customer_key"], "cardNumber": "4330123412341234"}, timeout=10).json()
            issued = with_retries(lambda: client.post("/api/subscriptions/billing/issue",
                                                      json={"customer_key": subscription["customer_key"], "auth_key": auth["authKey"]}))
            if issued.status_code != 200:
                # A retry after a lost answer: the first call issued the key and charged; the subscription shows it.
                mine = with_retries(lambda: client.get("/api/subscriptions/my-subscriptions")).json()
                assert mine[0]["status"] == "ACTIVE", (issued.status_code, issued.text)
            return subscription["id"]

        with ThreadPoolExecutor(4) as pool:
            ids = list(pool.map(customer, range(CUSTOMERS)))
        assert killed.is_set()
        assert len(set(ids)) == CUSTOMERS

        rows = stack.query("SELECT status, current_period FROM subscriptions")
        assert sorted(rows) == [["ACTIVE", "0"]] * CUSTOMERS, rows
        approved = approved_by_order(stack.sandbox.url)
        assert len(approved) == CUSTOMERS and set(approved.values()) == {1}, approved

        # A month later both workers bill; each subscription's period 1 is charged exactly once.
        stack.run("clock", "set", "2033-05-01T10:00:00+09:00", check=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            [[done]] = stack.query("SELECT COUNT(*) FROM subscriptions WHERE current_period = 1 AND status = 'ACTIVE'")
            if int(done) == CUSTOMERS:
                break
            time.sleep(0.5)
        assert int(done) == CUSTOMERS, f"only {done} of {CUSTOMERS} renewed"
        approved = approved_by_order(stack.sandbox.url)
        renewals = {order: n for order, n in approved.items() if re.search(r"-p1-a\d+$", order)}
        assert len(renewals) == CUSTOMERS and set(renewals.values()) == {1}, renewals
        [[completed]] = stack.query("SELECT COUNT(*) FROM payments WHERE status = 'COMPLETED'")
        assert int(completed) == 2 * CUSTOMERS
    finally:
        for worker in workers:
            assert stop_process(worker) == 0, "a worker did not stop cleanly on SIGTERM"
        stop_process(second)
        log.close()
