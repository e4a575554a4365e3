"""Secrets never reach logs, command output or answers (SPEC §3 "secrets never appear in logs or error messages",
§4 "never returns or logs [the billing key]"). Named to sort last.

The stacks of the other modules remove their directories at teardown, so this module starts its own stack,
drives a full flow through nginx (sign-up, log-in, pages, subscribe, card registration, a billing pass, webhooks,
failed log-ins, CLI commands, a metrics scrape with a bearer token), and then scans everything that flow left
behind: the responder's log, commands.log, nginx's logs, the database, and every HTTP answer received."""

from __future__ import annotations

import base64
import json
import secrets
import urllib.parse
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests

TOSS_SECRET = "test_sk_gudokSandboxSecretKey0000"


class Recorder:
    """Keeps every answer the test's clients received (status line, headers other than Set-Cookie, body)."""

    def __init__(self):
        self.answers: list[str] = []

    def attach(self, client):
        client.hooks["response"].append(self._keep)
        return client

    def _keep(self, response, *args, **kwargs):
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items() if k.lower() != "set-cookie")
        self.answers.append(f"{response.request.method} {response.url} -> {response.status_code}\n{headers}\n\n"
                            f"{response.content.decode('utf-8', 'replace')}")


def sandbox(stack, method: str, path: str, **kwargs):
    response = requests.request(method, stack.sandbox.url + path, timeout=10, **kwargs)
    assert response.status_code in (200, 201), (path, response.status_code, response.text)
    return response.json()


def database_text(stack) -> str:
    """Every row of every table, as text."""
    if stack.db == "sqlite":
        tables = [row[0] for row in stack.query("SELECT name FROM sqlite_master WHERE type = 'table'")]
    else:
        tables = [row[0] for row in stack.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")]
    dump = []
    for table in tables:
        for row in stack.query(f'SELECT * FROM "{table}"'):
            dump.append(f"{table}: " + " | ".join("" if cell is None else str(cell) for cell in row))
    return "\n".join(dump)


def variants(secret: str) -> set[str]:
    """The secret as it could be written: raw, percent-encoded, JSON-escaped."""
    forms = {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret), json.dumps(secret)[1:-1]}
    return {form for form in forms if len(form) >= 8}


@pytest.mark.parametrize("db", ["sqlite", "postgres"])
def test_no_secret_reaches_logs_outputs_or_answers(make_stack, db):
    metrics_token = "mt-" + secrets.token_hex(16)
    stack = make_stack(db=db, env={"GUDOK_METRICS_TOKEN": metrics_token})
    recorder = Recorder()
    password = "Pw-" + secrets.token_hex(8)
    staff_password = "Staff-" + secrets.token_hex(8)
    username = f"secret_{uuid.uuid4().hex[:8]}"
    session_ids: set[str] = set()

    # -- accounts: sign up, a failed log-in that carries the real password, log in (API and form)
    client = recorder.attach(stack.new_client())
    assert client.get("/accounts/signup").status_code == 200
    assert client.signup(username, password, email=f"{username}@example.com").status_code == 201
    assert client.login("nobody_" + username, password).status_code == 401
    assert client.login(username, password + "-wrong").status_code == 401
    login = client.login(username, password)
    assert login.status_code == 200, login.text
    session_ids.add(client.cookies.get("sessionid"))
    form_client = recorder.attach(stack.new_client())
    token = form_client.csrf_token()
    form = form_client.post("/accounts/login", data={"username": username, "password": password, "csrfmiddlewaretoken": token,
                                                     "next": "/account"}, csrf=False, allow_redirects=False)
    assert form.status_code in (302, 303), form.text[:300]
    session_ids.add(form_client.cookies.get("sessionid"))
    assert client.get("/api/auth/me").status_code == 200

    # -- the CLI (password on stdin) and a staff session
    staff = f"staff_{uuid.uuid4().hex[:8]}"
    stack.create_user(staff, staff_password, staff=True)
    short = stack.run("user", "create", f"short_{uuid.uuid4().hex[:6]}", "--password-stdin", input="Sh0rt!\n")
    assert short.returncode != 0
    staff_client = recorder.attach(stack.login(staff, staff_password))
    session_ids.add(staff_client.cookies.get("sessionid"))

    # -- subscribe and register a card (billing key issued, first period charged)
    plans = {p["plan_type"]: p for p in client.get("/api/subscriptions/plans").json()}
    subscription = client.post("/api/subscriptions/subscribe", json={"plan_id": plans["BASIC"]["id"]}).json()
    customer_key = subscription["customer_key"]
    checkout = client.get(f"/checkout/{plans['BASIC']['id']}")
    assert checkout.status_code == 200
    bad_issue = client.post("/api/subscriptions/billing/issue", json={"customer_key": customer_key, "auth_key": "bln_not_a_real_key"})
    assert bad_issue.status_code in (400, 404), bad_issue.text
    auth = sandbox(stack, "POST", "/sandbox/billing/authorize", json={"customerKey": customer_key, "cardNumber": "4330123412341234"})
    issued = client.post("/api/subscriptions/billing/issue", json={"customer_key": customer_key, "auth_key": auth["authKey"]})
    assert issued.status_code == 200, issued.text
    keys = sandbox(stack, "GET", "/sandbox/billing-keys", params={"customerKey": customer_key})
    billing_keys = [k["billingKey"] for k in (keys["billingKeys"] if isinstance(keys, dict) else keys)]
    assert billing_keys, keys

    # -- a second card through the redirect route (billing/success), replacing the first
    auth2 = sandbox(stack, "POST", "/sandbox/billing/authorize", json={"customerKey": customer_key, "cardNumber": "5123456789012346"})
    redirect = client.get("/api/subscriptions/billing/success", params={"customerKey": customer_key, "authKey": auth2["authKey"]},
                          allow_redirects=False)
    assert redirect.status_code in (302, 303), redirect.text[:300]
    keys = sandbox(stack, "GET", "/sandbox/billing-keys", params={"customerKey": customer_key})
    billing_keys = sorted({k["billingKey"] for k in (keys["billingKeys"] if isinstance(keys, dict) else keys)} | set(billing_keys))
    assert len(billing_keys) >= 2

    # -- pages and lists that show the card
    for path in ("/", "/account", "/api/subscriptions/my-subscriptions", "/api/subscriptions/payments", "/api/docs",
                 "/api/openapi.json"):
        assert client.get(path).status_code == 200, path
    for path in ("/admin", "/admin/subscriptions", "/admin/payments", f"/admin/subscriptions?q={customer_key}",
                 "/api/admin/subscriptions", "/api/admin/payments", "/admin/webhooks", "/api/admin/webhook-events"):
        staff_client.get(path)  # the back office may still be in progress: any answer is scanned

    # -- a billing pass in the future, reconcile, and the worker's sibling commands
    [mine] = client.get("/api/subscriptions/my-subscriptions").json()
    due = datetime.fromisoformat(mine["next_billing_date"]) + timedelta(days=1)
    bill = stack.run("bill", "--now", due.isoformat())
    assert bill.returncode == 0, bill.stderr
    assert bill.stdout.strip().splitlines()[-1].startswith("charged=1"), bill.stdout
    assert stack.run("reconcile", "--now", due.isoformat()).returncode == 0
    assert stack.run("bill", "--now", "2099-12-31T00:00:00+09:00", "--limit", "5").returncode == 0

    # -- webhooks: a status change, and BILLING_DELETED carrying the raw key
    payments = client.get("/api/subscriptions/payments").json()
    assert payments
    hook = requests.post(stack.url("/api/webhooks/toss"), verify=False, timeout=10,
                         json={"eventType": "BILLING_DELETED", "createdAt": "2026-01-01T00:00:00.000000",
                               "data": {"billingKey": billing_keys[0], "customerKey": customer_key, "mId": "gudok_sandbox"}},
                         headers={"tosspayments-webhook-transmission-id": f"wh_{uuid.uuid4().hex}"})
    recorder.answers.append(hook.text)
    assert hook.status_code == 200

    # -- metrics with the bearer token, and log-out
    scrape = requests.get(stack.url("/metrics"), headers={"Authorization": f"Bearer {metrics_token}"}, verify=False, timeout=10)
    recorder.answers.append(scrape.text)
    assert scrape.status_code == 200
    assert client.logout().status_code == 204

    # ---------------------------------------------------------------- the scan
    toss_authorization = base64.b64encode(f"{TOSS_SECRET}:".encode()).decode()
    secret_values = {
        "GUDOK_SECRET_KEY": stack.env["GUDOK_SECRET_KEY"],
        "Toss secret key": TOSS_SECRET,
        "Toss Authorization header": toss_authorization,
        "user password": password,
        "staff password": staff_password,
        "metrics token": metrics_token,
        **{f"billing key #{n + 1}": key for n, key in enumerate(billing_keys)},
        **{f"session id #{n + 1}": sid for n, sid in enumerate(sorted(s for s in session_ids if s))},
    }
    assert len([k for k in secret_values if k.startswith("session id")]) == 3

    log_dir = Path(stack.log_dir)
    sources = {f"log/{path.name}": path.read_text(errors="replace") for path in sorted(log_dir.iterdir()) if path.is_file()}
    assert "commands.log" in {Path(name).name for name in sources}, sorted(sources)
    assert any(name.endswith("gudok.log") for name in sources), sorted(sources)
    assert any("nginx-access" in name for name in sources), sorted(sources)
    assert stack.log_records(), "the responder logged nothing?"
    for path in sorted(Path(stack.dir).glob("*.log")):
        sources[path.name] = path.read_text(errors="replace")
    sources["HTTP answers"] = "\n\n".join(recorder.answers)
    assert len(recorder.answers) > 20
    sources["database"] = database_text(stack)

    # Controls: the sources really hold what the flow did (a scan of empty files proves nothing).
    assert customer_key in sources["HTTP answers"] and customer_key in sources["database"]
    assert staff in sources["log/commands.log"] and "charged=1" in sources["log/commands.log"]
    assert "/api/subscriptions/billing/issue" in sources["log/nginx-access.log"]
    assert '"route":"/api/subscriptions/billing/issue"' in sources["log/gudok.log"]

    leaks = []
    for label, value in secret_values.items():
        for form in variants(value):
            for source, text in sources.items():
                if form in text:
                    line = next(line for line in text.splitlines() if form in line)
                    leaks.append(f"{label} in {source}: …{line.strip()[:200]}…")
    assert not leaks, "secrets found:\n" + "\n".join(leaks)
