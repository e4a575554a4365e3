"""Factories for billing tests and benchmarks: due subscriptions with real sandbox billing keys, made fast.

Going through sign-up + checkout for hundreds of subscriptions would spend minutes hashing passwords, so these
rows are written straight into the database, the way gudok itself writes them: the billing key is issued by the
sandbox over its REST API and sealed like `BillingKeyVault` does (AES-256-GCM, key HMAC-SHA256(GUDOK_SECRET_KEY,
"gudok billing-key vault v1"), the subscription id as associated data).
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import requests
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SEOUL = ZoneInfo("Asia/Seoul")
SANDBOX_SECRET_KEY = "test_sk_gudokSandboxSecretKey0000"
APPROVING_CARD = "4330123412341234"


def add_months(anchor: datetime, months: int) -> datetime:
    """The billing calendar: same wall-clock time, day clamped to the month's end, computed from the anchor."""
    local = anchor.astimezone(SEOUL)
    month_index = local.month - 1 + months
    year, month = local.year + month_index // 12, month_index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day)


def seal(secret_key: str, billing_key: str, subscription_id: str) -> str:
    key = hmac.new(secret_key.encode(), b"gudok billing-key vault v1", hashlib.sha256).digest()
    nonce = os.urandom(12)
    sealed = nonce + AESGCM(key).encrypt(nonce, billing_key.encode(), subscription_id.encode())
    return "v1." + base64.urlsafe_b64encode(sealed).decode().rstrip("=")


def digest(secret_key: str, billing_key: str) -> str:
    key = hmac.new(secret_key.encode(), b"gudok billing-key digest v1", hashlib.sha256).digest()
    return hmac.new(key, billing_key.encode(), hashlib.sha256).hexdigest()


def issue_billing_key(sandbox_url: str, customer_key: str, card: str = APPROVING_CARD,
                      session: requests.Session | None = None) -> dict:
    http = session or requests
    auth = http.post(f"{sandbox_url}/sandbox/billing/authorize", json={"customerKey": customer_key, "cardNumber": card}, timeout=10)
    auth.raise_for_status()
    token = base64.b64encode(f"{SANDBOX_SECRET_KEY}:".encode()).decode()
    issued = http.post(f"{sandbox_url}/v1/billing/authorizations/issue",
                       json={"authKey": auth.json()["authKey"], "customerKey": customer_key},
                       headers={"Authorization": f"Basic {token}"}, timeout=10)
    issued.raise_for_status()
    return issued.json()


def sql_text(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, (int, bool)):
        return str(int(value))
    return "'" + str(value).replace("'", "''") + "'"


def insert_due_subscriptions(stack, count: int, anchor: datetime, plan_type: str = "BASIC",
                             card: str = APPROVING_CARD) -> list[dict]:
    """`count` ACTIVE subscriptions anchored at `anchor` (period 0 paid), each with its own user and a real
    sandbox billing key, due at the start of period 1. Returns [{id, customer_key, billing_key, due}]."""
    secret = stack.env["GUDOK_SECRET_KEY"]
    [[plan_id, cycle]] = stack.query(f"SELECT id, billing_cycle FROM plans WHERE plan_type = '{plan_type}'")
    months = {"MONTHLY": 1, "QUARTERLY": 3, "YEARLY": 12}[cycle]
    due = add_months(anchor, months)
    start, due_seconds, now = int(anchor.timestamp()), int(due.timestamp()), int(anchor.timestamp())
    rows = [{"id": str(uuid.uuid4()), "user_id": str(uuid.uuid4()), "customer_key": "cus_" + uuid.uuid4().hex} for _ in range(count)]
    with requests.Session() as session, ThreadPoolExecutor(8) as pool:
        keys = list(pool.map(lambda row: issue_billing_key(stack.sandbox.url, row["customer_key"], card), rows))
    statements = []
    for row, billing in zip(rows, keys):
        name = "load_" + row["user_id"][:12]
        statements.append(
            "INSERT INTO users (id, username, username_key, email, password_hash, is_staff, is_active, created_at) VALUES "
            f"({sql_text(row['user_id'])}, {sql_text(name)}, {sql_text(name)}, {sql_text(name + '@example.com')}, "
            f"'pbkdf2_sha256$1$x$x', 0, 1, {now});")
        statements.append(
            "INSERT INTO subscriptions (id, user_id, plan_id, status, customer_key, anchor_at, current_period, start_date, end_date, "
            "next_billing_date, cancel_at_period_end, failed_attempts, retry_immediately, billing_key_sealed, billing_key_digest, "
            "card_company, card_number, created_at, updated_at) VALUES "
            f"({sql_text(row['id'])}, {sql_text(row['user_id'])}, {sql_text(plan_id)}, 'ACTIVE', {sql_text(row['customer_key'])}, "
            f"{start}, 0, {start}, {due_seconds}, {due_seconds}, 0, 0, 0, {sql_text(seal(secret, billing['billingKey'], row['id']))}, "
            f"{sql_text(digest(secret, billing['billingKey']))}, '현대', {sql_text(billing['card']['number'])}, {now}, {now});")
        row["billing_key"] = billing["billingKey"]
        row["due"] = due
    execute_script(stack, "\n".join(statements))
    return rows


def execute_script(stack, script: str) -> None:
    if stack.db == "sqlite":
        import sqlite3
        with sqlite3.connect(stack.database_url.removeprefix("sqlite://")) as connection:
            connection.executescript("BEGIN;\n" + script + "\nCOMMIT;")
    else:
        # Through stdin: a script for thousands of rows is longer than a command line may be.
        import subprocess
        from gudok_harness import PG_BIN
        subprocess.run([str(PG_BIN / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", stack.database_url, "-f", "-"],
                       input="BEGIN;\n" + script + "\nCOMMIT;\n", text=True, check=True, capture_output=True)


def sandbox_charges(sandbox_url: str) -> list[dict]:
    """Every payment the sandbox executed (approved or not)."""
    response = requests.get(f"{sandbox_url}/sandbox/payments", timeout=30)
    response.raise_for_status()
    data = response.json()
    return data["payments"] if isinstance(data, dict) else data


def approved_by_order(sandbox_url: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for payment in sandbox_charges(sandbox_url):
        if payment.get("status") in ("DONE", "PARTIAL_CANCELED", "CANCELED"):
            counts[payment["orderId"]] = counts.get(payment["orderId"], 0) + 1
    return counts


def summary(stdout: str) -> dict[str, int]:
    """Parses the last stdout line of `gudok bill`: charged=N failed=N pending=N expired=N."""
    last = stdout.strip().splitlines()[-1]
    return {key: int(value) for key, value in (part.split("=") for part in last.split())}


def iso(moment: datetime) -> str:
    return moment.astimezone(SEOUL).isoformat()


def days_later(moment: datetime, days: int) -> datetime:
    return (moment.astimezone(SEOUL) + timedelta(days=days))
