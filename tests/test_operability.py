"""Operability (SPEC §4 "Other routes"): /metrics in Prometheus text format and who may read it, the OpenAPI 3.1
document and its HTML rendering, a schemathesis run against the document through nginx, /healthz, and the JSON
request log (one line per request).

Python packages beyond the Makefile's: prometheus-client, openapi-spec-validator, schemathesis (and jsonschema,
which both of the latter bring)."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

import pytest
import requests

PASSWORD = "correct horse battery"
SANDBOX_SECRET = "test_sk_gudokSandboxSecretKey0000"

# Every JSON route SPEC §4 names (path parameters written as {}): the document must list each of them.
SPEC_ROUTES = {
    ("GET", "/api/auth/csrf"), ("POST", "/api/auth/signup"), ("POST", "/api/auth/login"), ("POST", "/api/auth/logout"),
    ("GET", "/api/auth/me"),
    ("GET", "/api/subscriptions/plans"), ("POST", "/api/subscriptions/subscribe"), ("POST", "/api/subscriptions/{}/checkout"),
    ("POST", "/api/subscriptions/payments/confirm"), ("POST", "/api/subscriptions/billing/issue"),
    ("GET", "/api/subscriptions/my-subscriptions"), ("POST", "/api/subscriptions/cancel/{}"),
    ("POST", "/api/subscriptions/{}/resume"), ("GET", "/api/subscriptions/payments"),
    ("GET", "/api/subscriptions/payments/success"), ("GET", "/api/subscriptions/payments/fail"),
    ("GET", "/api/subscriptions/billing/success"), ("GET", "/api/subscriptions/billing/fail"),
    ("POST", "/api/webhooks/toss"), ("GET", "/api/openapi.json"), ("GET", "/api/docs"), ("GET", "/healthz"),
}
# Routes that take a JSON body (SPEC §4) and so must document one.
JSON_BODIES = {("POST", "/api/auth/signup"), ("POST", "/api/auth/login"), ("POST", "/api/subscriptions/subscribe"),
               ("POST", "/api/subscriptions/payments/confirm"), ("POST", "/api/subscriptions/billing/issue"),
               ("POST", "/api/subscriptions/cancel/{}"), ("POST", "/api/webhooks/toss")}
SIGNED_IN_ROUTES = {("GET", "/api/auth/me"), ("POST", "/api/subscriptions/subscribe"), ("GET", "/api/subscriptions/my-subscriptions"),
                    ("GET", "/api/subscriptions/payments"), ("POST", "/api/subscriptions/payments/confirm"),
                    ("POST", "/api/subscriptions/cancel/{}")}
METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}


def normalise(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def signed_in(stack, staff: bool = False):
    name = f"ops_{uuid.uuid4().hex[:10]}"
    stack.create_user(name, PASSWORD, staff=staff)
    return stack.login(name, PASSWORD), name


def completed_payment(stack, client) -> dict:
    plans = {p["plan_type"]: p for p in client.get("/api/subscriptions/plans").json()}
    subscription = client.post("/api/subscriptions/subscribe", json={"plan_id": plans["BASIC"]["id"]})
    assert subscription.status_code == 201, subscription.text
    order = client.post(f"/api/subscriptions/{subscription.json()['id']}/checkout").json()
    authorised = requests.post(stack.sandbox.url + "/sandbox/payments/authorize",
                               json={"orderId": order["order_id"], "amount": order["amount"], "orderName": order["order_name"],
                                     "customerKey": order["customer_key"], "cardNumber": "4330123412341234"}, timeout=10).json()
    confirmed = client.post("/api/subscriptions/payments/confirm",
                            json={"payment_key": authorised["paymentKey"], "order_id": order["order_id"], "amount": order["amount"]})
    assert confirmed.status_code == 200, confirmed.text
    return confirmed.json()


def ensure(module: str, requirement: str):
    """Imports `module`, installing `requirement` with pip first when it is missing (skips if that fails, or if
    GUDOK_NO_PIP is set). The Makefile's deps-test should install these up front."""
    import importlib
    try:
        return importlib.import_module(module)
    except ImportError:
        if not os.environ.get("GUDOK_NO_PIP"):
            subprocess.run([sys.executable, "-m", "pip", "install", "-q", requirement], capture_output=True, timeout=300)
            importlib.invalidate_caches()
    return pytest.importorskip(module, reason=f"{module} missing and `pip install {requirement}` failed")


def request_records(stack) -> list[dict]:
    return [r for r in stack.log_records() if r.get("event") == "request"]


# ---------------------------------------------------------------- FastCGI without nginx


def fastcgi_get(socket_path: Path, uri: str, remote_addr: str, headers: dict[str, str] | None = None) -> tuple[int, dict, bytes]:
    """One FastCGI RESPONDER request straight to the responder's socket, with the params nginx's stock
    fastcgi_params would send, and any REMOTE_ADDR (it is only a string here: no traffic goes anywhere)."""
    path, _, query = uri.partition("?")
    params = {"QUERY_STRING": query, "REQUEST_METHOD": "GET", "CONTENT_TYPE": "", "CONTENT_LENGTH": "",
              "SCRIPT_NAME": path, "REQUEST_URI": uri, "DOCUMENT_URI": path, "DOCUMENT_ROOT": "/", "SERVER_PROTOCOL": "HTTP/1.1",
              "REQUEST_SCHEME": "https", "HTTPS": "on", "GATEWAY_INTERFACE": "CGI/1.1", "SERVER_SOFTWARE": "nginx",
              "REMOTE_ADDR": remote_addr, "REMOTE_PORT": "40000", "SERVER_ADDR": "127.0.0.1", "SERVER_PORT": "443",
              "SERVER_NAME": "localhost", "HTTP_HOST": "localhost", "REQUEST_ID": uuid.uuid4().hex}
    for name, value in (headers or {}).items():
        params["HTTP_" + name.upper().replace("-", "_")] = value

    def length(n: int) -> bytes:
        return bytes([n]) if n < 128 else struct.pack("!I", n | 0x80000000)

    def record(kind: int, content: bytes) -> bytes:
        return struct.pack("!BBHHBx", 1, kind, 1, len(content), 0) + content

    encoded = b"".join(length(len(k.encode())) + length(len(v.encode())) + k.encode() + v.encode() for k, v in params.items())
    message = (record(1, struct.pack("!HB5x", 1, 0)) + record(4, encoded) + record(4, b"") + record(5, b""))
    stdout = b""
    with socket.socket(socket.AF_UNIX) as conn:
        conn.settimeout(15)
        conn.connect(str(socket_path))
        conn.sendall(message)
        buffer = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            buffer += chunk
            done = False
            while len(buffer) >= 8:
                _, kind, _, size, padding = struct.unpack("!BBHHBx", buffer[:8])
                if len(buffer) < 8 + size + padding:
                    break
                content, buffer = buffer[8:8 + size], buffer[8 + size + padding:]
                if kind == 6:
                    stdout += content
                elif kind == 3:
                    done = True
            if done:
                break
    head, _, body = stdout.partition(b"\r\n\r\n")
    answer_headers = {}
    for line in head.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        answer_headers[name.strip().lower()] = value.strip()
    status = int(answer_headers.get("status", "200").split()[0])
    return status, answer_headers, body


# ---------------------------------------------------------------- /metrics


def metric_families(text: str) -> dict:
    parser = ensure("prometheus_client.parser", "prometheus-client")
    return {family.name: family for family in parser.text_string_to_metric_families(text)}


def sample_value(families: dict, family: str, sample: str, **labels) -> float | None:
    for s in families[family].samples if family in families else []:
        if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return None


def test_metrics_is_prometheus_text_and_counts_requests(stack):
    client = stack.new_client()
    first = client.get("/metrics")
    assert first.status_code == 200, first.text
    assert first.headers["Content-Type"].startswith("text/plain"), first.headers["Content-Type"]
    assert "version=0.0.4" in first.headers["Content-Type"]
    families = metric_families(first.text)
    before = sample_value(families, "gudok_http_requests", "gudok_http_requests_total", method="GET", route="/healthz", status="200") or 0
    for _ in range(3):
        assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get(f"/no-such-route-{uuid.uuid4().hex}").status_code == 404
    second = client.get("/metrics")
    families = metric_families(second.text)
    assert families["gudok_http_requests"].type == "counter"
    after = sample_value(families, "gudok_http_requests", "gudok_http_requests_total", method="GET", route="/healthz", status="200")
    assert after == before + 3, f"/healthz 200 counter went {before} → {after} after 3 requests"
    assert sample_value(families, "gudok_http_requests", "gudok_http_requests_total", method="GET", route="/metrics", status="200") >= 1
    # Unknown paths share one label value: no unbounded label cardinality from scanners.
    assert "no-such-route" not in second.text
    assert sample_value(families, "gudok_http_requests", "gudok_http_requests_total", method="GET", status="404") >= 1


def test_metrics_has_a_latency_histogram(stack):
    client = stack.new_client()
    client.get("/api/subscriptions/plans")
    families = metric_families(client.get("/metrics").text)
    histogram = families.get("gudok_http_request_duration_seconds")
    assert histogram is not None and histogram.type == "histogram", sorted(families)
    buckets: dict[str, list[tuple[float, float]]] = {}
    counts, sums = {}, {}
    for s in histogram.samples:
        route = s.labels.get("route")
        if s.name.endswith("_bucket"):
            buckets.setdefault(route, []).append((float(s.labels["le"]), s.value))
        elif s.name.endswith("_count"):
            counts[route] = s.value
        elif s.name.endswith("_sum"):
            sums[route] = s.value
    assert "/api/subscriptions/plans" in buckets, sorted(buckets)
    for route, values in buckets.items():
        values.sort()
        assert values[-1][0] == math.inf, f"{route}: no +Inf bucket"
        assert all(a[1] <= b[1] for a, b in zip(values, values[1:])), f"{route}: buckets not cumulative {values}"
        assert values[-1][1] == counts[route], f"{route}: +Inf bucket != _count"
        assert sums[route] >= 0
        assert len(values) >= 5, f"{route}: too few buckets to be useful"


def test_metrics_has_payment_and_pending_gauges(stack):
    client, _ = signed_in(stack)
    completed_payment(stack, client)
    families = metric_families(client.get("/metrics").text)
    assert families.get("gudok_payments") is not None and families["gudok_payments"].type == "gauge", sorted(families)
    assert (sample_value(families, "gudok_payments", "gudok_payments", status="COMPLETED") or 0) >= 1
    pending = families.get("gudok_pending_payments")
    assert pending is not None and pending.type == "gauge", sorted(families)
    assert [s.value for s in pending.samples] == [0], pending.samples
    assert "gudok_subscriptions" in families


def test_metrics_has_invoice_and_money_safety_gauges(stack):
    client, _ = signed_in(stack)
    completed_payment(stack, client)
    families = metric_families(client.get("/metrics").text)
    for name in ("gudok_invoices", "gudok_surplus_approvals", "gudok_subscriptions_charge_blocked", "gudok_payments_vat_mismatch"):
        assert name in families and families[name].type == "gauge", (name, sorted(families))
    assert (sample_value(families, "gudok_invoices", "gudok_invoices", status="PAID") or 0) >= 1
    assert sample_value(families, "gudok_surplus_approvals", "gudok_surplus_approvals", state="awaiting_refund") == 0
    assert [s.value for s in families["gudok_payments_vat_mismatch"].samples] == [0], "the sandbox's VAT is the invoice's"
    assert [s.value for s in families["gudok_subscriptions_charge_blocked"].samples] == [0]


def test_metrics_through_nginx_is_allowed_from_loopback(stack):
    # Through the stack's nginx the client address is 127.0.0.1: allowed without a token.
    response = requests.get(stack.url("/metrics"), verify=False, timeout=10)
    assert response.status_code == 200
    assert "gudok_http_requests_total" in response.text


def test_metrics_refuses_other_addresses_without_a_token(stack):
    ok, _, body = fastcgi_get(stack.socket_path, "/metrics", "127.0.0.1")
    assert ok == 200 and b"gudok_http_requests_total" in body
    for address in ["203.0.113.9", "192.0.2.44", "10.1.2.3", "128.0.0.1", "2001:db8::1", ""]:
        status, headers, body = fastcgi_get(stack.socket_path, "/metrics", address)
        assert status == 403, f"/metrics from {address!r}: {status}"
        assert b"gudok_http_requests_total" not in body
        assert headers.get("content-type", "").startswith("application/json")
        # No token configured on this stack: any bearer is refused.
        status, _, _ = fastcgi_get(stack.socket_path, "/metrics", address, {"Authorization": "Bearer "})
        assert status == 403
        status, _, _ = fastcgi_get(stack.socket_path, "/metrics", address, {"Authorization": "Bearer anything"})
        assert status == 403


def test_metrics_token_lets_other_addresses_in(make_stack):
    token = "metrics-" + uuid.uuid4().hex
    stack = make_stack(env={"GUDOK_METRICS_TOKEN": token})
    address = "203.0.113.9"
    status, _, body = fastcgi_get(stack.socket_path, "/metrics", address, {"Authorization": f"Bearer {token}"})
    assert status == 200 and b"gudok_http_requests_total" in body
    for wrong in [f"Bearer {token}x", f"Bearer {token[:-1]}", token, f"Basic {token}", f"bearer{token}", "Bearer ", ""]:
        status, _, body = fastcgi_get(stack.socket_path, "/metrics", address, {"Authorization": wrong})
        assert status == 403, f"Authorization {wrong!r}: {status}"
    status, _, _ = fastcgi_get(stack.socket_path, "/metrics", address)
    assert status == 403
    # The token itself is never logged.
    assert token not in stack.log_text()
    assert token not in stack.access_log()


# ---------------------------------------------------------------- OpenAPI


@pytest.fixture(scope="module")
def openapi(stack) -> dict:
    response = stack.new_client().get("/api/openapi.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()


def operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method.upper(), path, operation


def test_openapi_is_3_1_and_lists_every_route(openapi):
    assert openapi["openapi"].startswith("3.1"), openapi["openapi"]
    assert openapi["info"]["title"] and openapi["info"]["version"]
    documented = {(method, normalise(path)) for method, path, _ in operations(openapi)}
    missing = sorted(SPEC_ROUTES - documented)
    assert not missing, f"routes of SPEC §4 missing from /api/openapi.json: {missing}"
    ids = [operation.get("operationId") for _, _, operation in operations(openapi)]
    assert all(ids) and len(ids) == len(set(ids)), "operationIds must exist and be unique"
    for method, path, operation in operations(openapi):
        assert operation.get("responses"), f"{method} {path}: no responses"
        for name in re.findall(r"\{([^}]+)\}", path):
            params = [p for p in operation.get("parameters", []) if p.get("in") == "path" and p.get("name") == name]
            assert params and params[0].get("required") is True, f"{method} {path}: path parameter {name} undocumented"
        key = (method, normalise(path))
        if key in JSON_BODIES:
            schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            assert schema, f"{method} {path}: JSON request body undocumented"
        if key in SIGNED_IN_ROUTES:
            assert operation.get("security"), f"{method} {path}: needs a session but documents no security"
    plans = openapi["paths"]["/api/subscriptions/plans"]["get"]
    assert not plans.get("security"), "plans need no login"
    schemes = openapi["components"]["securitySchemes"]
    assert any(s.get("in") == "cookie" and s.get("name") == "sessionid" for s in schemes.values()), schemes


def test_openapi_documents_the_spec_shapes(openapi):
    schemas = openapi["components"]["schemas"]

    def properties(name):
        schema = schemas[name]
        return set(schema.get("properties", {}))

    assert properties("Error") == {"message", "code"}
    assert properties("User") == {"id", "username", "email", "is_staff"}
    assert properties("Plan") == {"id", "name", "plan_type", "price", "currency", "billing_cycle", "features", "is_active"}
    assert properties("Subscription") >= {"id", "plan", "status", "customer_key", "start_date", "end_date", "next_billing_date",
                                          "cancel_at_period_end", "card", "created_at"}
    assert properties("Payment") >= {"id", "subscription_id", "payment_type", "amount", "status", "order_id", "payment_method",
                                     "paid_at", "failure_code", "failure_reason", "refunded_amount", "receipt_url", "created_at", "invoice_id"}
    assert "billing_key" not in json.dumps(schemas).lower().replace("billingissue", ""), "the billing key must never be in an answer"


def test_every_ref_resolves(openapi):
    refs = []

    def walk(node, where):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    refs.append((value, where))
                else:
                    walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for n, value in enumerate(node):
                walk(value, f"{where}/{n}")

    walk(openapi, "#")
    assert refs, "no $ref at all?"
    broken = []
    for ref, where in refs:
        if not ref.startswith("#/"):
            broken.append((where, ref, "not a local reference"))
            continue
        node = openapi
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                broken.append((where, ref, f"no {part}"))
                break
            node = node[part]
    assert not broken, f"unresolvable $ref: {broken}"


def test_openapi_passes_the_spec_validator(openapi):
    validator = ensure("openapi_spec_validator", "openapi-spec-validator")
    validator.validate(openapi)


def test_every_documented_operation_is_served(stack, openapi):
    """The document lists nothing the app does not serve: each operation reaches its own route (the request log names
    the matched route pattern; '-' would mean no route matched)."""
    wrong = []
    for method, path, _ in operations(openapi):
        concrete = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
        client = stack.new_client()
        response = client.request(method, concrete, csrf=False, allow_redirects=False,
                                  headers={"Accept": "application/json"})
        record = request_records(stack)[-1]
        if record.get("route") != path:
            wrong.append((method, path, response.status_code, record.get("route")))
        assert response.status_code < 500, (method, path, response.status_code, response.text[:300])
    assert not wrong, f"documented but not served as documented: {wrong}"


def test_real_answers_match_their_documented_schemas(stack, openapi):
    jsonschema = ensure("jsonschema", "jsonschema")
    client, _ = signed_in(stack)
    plans = {p["plan_type"]: p for p in client.get("/api/subscriptions/plans").json()}
    subscription = client.post("/api/subscriptions/subscribe", json={"plan_id": plans["PREMIUM"]["id"]}).json()
    order = client.post(f"/api/subscriptions/{subscription['id']}/checkout").json()
    auth = requests.post(stack.sandbox.url + "/sandbox/billing/authorize",
                         json={"customerKey": subscription["customer_key"], "cardNumber": "4330123412341234"}, timeout=10).json()
    issued = client.post("/api/subscriptions/billing/issue",
                         json={"customer_key": subscription["customer_key"], "auth_key": auth["authKey"]})
    assert issued.status_code == 200, issued.text
    cancelled = client.post(f"/api/subscriptions/cancel/{subscription['id']}", json={"at_period_end": True})
    answers = [("GET", "/api/subscriptions/plans", client.get("/api/subscriptions/plans")),
               ("GET", "/api/auth/me", client.get("/api/auth/me")),
               ("GET", "/api/auth/csrf", client.get("/api/auth/csrf")),
               ("GET", "/api/subscriptions/my-subscriptions", client.get("/api/subscriptions/my-subscriptions")),
               ("GET", "/api/subscriptions/payments", client.get("/api/subscriptions/payments")),
               ("POST", "/api/subscriptions/{subscription_id}/checkout", None, order),
               ("POST", "/api/subscriptions/billing/issue", issued),
               ("POST", "/api/subscriptions/cancel/{subscription_id}", cancelled),
               ("GET", "/healthz", client.get("/healthz")),
               ("POST", "/api/subscriptions/subscribe", client.post("/api/subscriptions/subscribe", json={"plan_id": "nope"}))]
    problems = []
    for method, path, response, *given in answers:
        documented = {normalise(p): item for p, item in openapi["paths"].items()}[normalise(path)][method.lower()]
        status = 201 if given else response.status_code
        body = given[0] if given else response.json()
        spec = documented["responses"].get(str(status)) or documented["responses"].get("default")
        assert spec, f"{method} {path}: status {status} undocumented"
        schema = spec["content"]["application/json"]["schema"]
        validator = jsonschema.Draft202012Validator({**schema, "components": openapi["components"]})
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]
        if errors:
            problems.append((method, path, status, errors[:3]))
        for key, value in _walk_items(body):
            if key.endswith(("_date", "_at")) and isinstance(value, str):
                assert re.search(r"(Z|[+-]\d\d:\d\d)$", value), f"{method} {path}: {key}={value} has no offset"
                datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert not problems, f"answers that do not match /api/openapi.json: {problems}"


def _walk_items(node):
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _walk_items(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk_items(value)


def test_api_docs_is_self_contained_korean_and_english_html(stack, openapi):
    response = stack.new_client().get("/api/docs")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    page = response.text
    assert re.search(r"[\uac00-\ud7a3]{2,}", page), "no Korean text"
    for english in ("API reference", "Request body", "Schemas"):
        assert english in page, f"no English text {english!r}"
    external = re.findall(r"<script[^>]*\bsrc\s*=\s*[\"']?(?:https?:)?//[^>]*>", page, re.I)
    assert not external, f"/api/docs loads scripts from elsewhere (no CDN): {external}"
    external_css = re.findall(r"<link[^>]*\bhref\s*=\s*[\"']?(?:https?:)?//[^>]*>", page, re.I)
    assert not external_css, f"/api/docs loads styles from elsewhere: {external_css}"
    assert "/api/openapi.json" in page
    for method, path, _ in operations(openapi):
        assert path in page, f"{method} {path} is not in the HTML docs"
    for name in ("Plan", "Subscription", "Payment", "Error"):
        assert f'id="schema-{name}"' in page, f"schema {name} not rendered"


def test_healthz(stack):
    response = stack.new_client().get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert response.headers["Content-Type"].startswith("application/json")


# ---------------------------------------------------------------- the JSON request log


def test_every_request_is_one_json_log_line(stack):
    client, _ = signed_in(stack)
    user_id = client.get("/api/auth/me").json()["id"]
    anonymous = stack.new_client()
    before = len(request_records(stack))
    subscription_id = str(uuid.uuid4())
    sent = [
        (anonymous, "GET", "/healthz", None, "/healthz", 200, None),
        (anonymous, "GET", "/api/subscriptions/plans", None, "/api/subscriptions/plans", 200, None),
        (anonymous, "GET", f"/totally/unknown/{uuid.uuid4()}", None, "-", 404, None),
        (anonymous, "DELETE", "/api/auth/me", None, "-", 405, None),
        (anonymous, "POST", "/api/auth/login", {"username": "nobody_here", "password": "wrong password"}, "/api/auth/login", 401, None),
        (anonymous, "GET", "/", None, "/", 200, None),
        (client, "GET", "/api/auth/me", None, "/api/auth/me", 200, user_id),
        (client, "POST", f"/api/subscriptions/{subscription_id}/checkout", None, "/api/subscriptions/{subscription_id}/checkout", 404,
         user_id),
        (client, "GET", "/account", None, "/account", 200, user_id),
    ]
    for who, method, path, body, _, status, _ in sent:
        response = who.request(method, path, json=body, allow_redirects=False)
        assert response.status_code == status, (method, path, response.status_code, response.text[:200])
    deadline = time.monotonic() + 5
    while len(request_records(stack)) < before + len(sent) + 1 and time.monotonic() < deadline:  # +1: the CSRF cookie fetch
        time.sleep(0.05)
    records = request_records(stack)[before:]
    ours = [r for r in records if r.get("route") != "/api/auth/csrf"]
    assert len(ours) == len(sent), f"expected {len(sent)} request lines, got {len(ours)}: {ours}"
    ids = set()
    for (_, method, path, _, route, status, uid), record in zip(sent, ours):
        for key in ("time", "request_id", "method", "route", "status", "duration_ms", "user_id"):
            assert key in record, f"{method} {path}: no {key!r} in {record}"
        assert record["method"] == method and record["status"] == status, (method, path, record)
        assert record["route"] == route, f"{method} {path}: route {record['route']!r}, expected the pattern {route!r}"
        assert subscription_id not in json.dumps(record["route"]), "route must be the pattern, not the concrete path"
        assert record["user_id"] == uid, (method, path, record)
        assert isinstance(record["duration_ms"], (int, float)) and 0 <= record["duration_ms"] < 30_000
        assert isinstance(record["request_id"], str) and len(record["request_id"]) >= 8
        ids.add(record["request_id"])
        stamp = datetime.fromisoformat(record["time"].replace("Z", "+00:00"))
        assert stamp.tzinfo is not None
    assert len(ids) == len(ours), "request ids must be unique"
    # Every line of the responder's stderr is JSON.
    non_json = [line for line in stack.log_text().splitlines() if line.strip() and not line.lstrip().startswith("{")]
    assert not non_json, f"non-JSON log lines: {non_json[:5]}"


# ---------------------------------------------------------------- schemathesis


def _schemathesis_command() -> list[str]:
    ensure("schemathesis", "schemathesis>=4,<5")  # the CLI options below are schemathesis 4's
    st = Path(sys.executable).parent / "st"
    if st.is_file():
        return [str(st)]
    found = shutil.which("st") or shutil.which("schemathesis")
    if found:
        return [found]
    return [sys.executable, "-m", "schemathesis.cli"]


# Keep this test last in the module: as staff it may deactivate, edit or delete the module stack's plans.
def test_schemathesis_finds_no_server_errors_and_no_schema_violations(stack, tmp_path):
    command = _schemathesis_command()
    # A staff session: it reaches every route a customer does, and the back office's JSON routes too.
    client, _ = signed_in(stack, staff=True)
    session = client.cookies.get("sessionid")
    token = client.csrf_token()
    args = [*command, "run", stack.url("/api/openapi.json"), "--url", stack.base_url,
            "--tls-verify", "false",
            "-H", f"Cookie: sessionid={session}; csrftoken={token}",
            "-H", f"X-CSRFToken: {token}",
            "--checks", "not_a_server_error,response_schema_conformance,content_type_conformance",
            "--max-response-time", "5",
            "--request-timeout", "10",
            "--max-examples", "50",
            "--seed", "20261125",
            "--workers", "2",
            "--exclude-path", "/api/auth/logout"]  # would end the session the run signs its requests with
    started = time.monotonic()
    try:
        # cwd: schemathesis keeps a cache directory (.schemathesis/) in its working directory.
        result = subprocess.run(args, capture_output=True, text=True, timeout=170, cwd=tmp_path,
                                env={**os.environ, "NO_COLOR": "1"})
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"schemathesis ran over its time budget:\n{(error.stdout or b'')[-4000:]}")
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    failures = output.find("FAILURES")
    excerpt = (output[failures:failures + 12000] + "\n[…]\n" + output[-2500:]) if failures >= 0 else output[-12000:]
    assert result.returncode == 0, f"schemathesis found problems (exit {result.returncode}, {elapsed:.0f}s):\n{excerpt}"
    assert stack.responder.poll() is None, "the responder died under schemathesis"
    assert "unhandled_error" not in stack.log_text(), "the responder logged an unhandled error under fuzzing"
