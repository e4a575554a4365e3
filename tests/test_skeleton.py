"""The walking skeleton, through real nginx, on SQLite and PostgreSQL:
plans API and pricing page, static files, error shapes, the CLI's contract."""

import re
import signal
import uuid

import pytest

from gudok_harness import REPO

pytestmark = pytest.mark.both_databases

DEMO_PLANS = {
    "BASIC": ("베이직", 9900, "MONTHLY"),
    "PREMIUM": ("프리미엄", 19900, "MONTHLY"),
    "ENTERPRISE": ("엔터프라이즈", 199000, "YEARLY"),
}
PLAN_FIELDS = {"id", "name", "plan_type", "price", "currency", "billing_cycle", "features", "is_active"}


def assert_json_error(response, status):
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text[:300]}"
    assert response.headers["Content-Type"].startswith("application/json"), response.headers["Content-Type"]
    body = response.json()
    assert isinstance(body.get("message"), str) and body["message"], body
    assert isinstance(body.get("code"), str) and re.fullmatch(r"[A-Z][A-Z0-9_]*", body["code"]), body
    return body


def test_plans_api_lists_the_three_demo_plans_in_the_plan_shape(stack):
    response = stack.client.get("/api/subscriptions/plans")

    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    plans = response.json()
    assert sorted(p["plan_type"] for p in plans) == sorted(DEMO_PLANS), plans
    for plan in plans:
        assert set(plan) == PLAN_FIELDS, plan
        uuid.UUID(plan["id"])
        name, price, cycle = DEMO_PLANS[plan["plan_type"]]
        assert (plan["name"], plan["price"], plan["billing_cycle"]) == (name, price, cycle), plan
        assert type(plan["price"]) is int, plan
        assert plan["currency"] == "KRW"
        assert plan["is_active"] is True
        assert isinstance(plan["features"], list) and all(isinstance(f, str) for f in plan["features"]), plan


def test_pricing_page_shows_prices_and_checkout_links(stack):
    plans = stack.client.get("/api/subscriptions/plans").json()

    response = stack.client.get("/")

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    page = response.text
    assert "9,900원 / 월" in page
    assert "19,900원 / 월" in page
    assert "199,000원" in page
    for plan in plans:
        assert f'href="/checkout/{plan["id"]}"' in page, plan["id"]
    assert "/static/css/gudok.css" in page


def test_nginx_serves_the_stylesheet(stack):
    response = stack.client.get("/static/css/gudok.css")

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/css")
    assert response.content == (REPO / "public" / "css" / "gudok.css").read_bytes()
    assert stack.client.get("/static/css/no-such-file.css").status_code == 404


def test_responses_carry_the_security_headers_once(stack):
    response = stack.client.get("/api/subscriptions/plans")

    for header, value in [("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY")]:
        assert response.headers.get(header) == value, response.headers
    assert response.headers.get("Referrer-Policy"), response.headers


def test_unknown_route_is_a_404_json_error(stack):
    assert_json_error(stack.client.get("/api/no-such-route"), 404)


def test_wrong_method_is_a_405_json_error(stack):
    assert_json_error(stack.client.delete("/api/subscriptions/plans"), 405)


def test_oversize_body_reaches_the_responder_and_gets_its_413(stack):
    body = b'{"username": "' + b"x" * (100 * 1024) + b'"}'

    response = stack.client.post("/api/auth/signup", data=body, headers={"Content-Type": "application/json"})

    assert_json_error(response, 413)
    assert "too large body" not in stack.nginx_error_log(), "nginx refused the body itself"
    # Kept-alive FastCGI connections must stay in step after a refused body.
    for _ in range(10):
        assert stack.client.get("/healthz").status_code == 200


def test_malformed_json_is_a_400_json_error(stack):
    response = stack.client.post("/api/auth/signup", data=b'{"username": "kim", ',
                                 headers={"Content-Type": "application/json"})

    assert_json_error(response, 400)


def test_healthz_answers_ok(stack):
    response = stack.client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_plain_http_redirects_to_https(stack):
    response = stack.client.get(f"{stack.http_url}/api/subscriptions/plans?page=2", allow_redirects=False)

    assert response.status_code == 301
    assert response.headers["Location"] == f"{stack.base_url}/api/subscriptions/plans?page=2"


def test_migrate_is_safe_to_run_again(stack):
    for _ in range(2):
        result = stack.run("migrate")
        assert result.returncode == 0, result.stderr
    assert stack.client.get("/api/subscriptions/plans").status_code == 200


def test_seed_does_not_duplicate_plans(stack):
    assert stack.run("seed").returncode == 0
    assert len(stack.client.get("/api/subscriptions/plans").json()) == 3


def test_serve_refuses_a_socket_held_by_a_live_responder(stack):
    result = stack.run("serve", "--fastcgi", f"unix:{stack.socket_path}", timeout=20)

    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0], result.stderr
    assert stack.socket_path.exists()
    assert stack.client.get("/healthz").status_code == 200


@pytest.mark.parametrize("args", [["--help"], ["serve", "--help"], ["migrate", "--help"], ["bill", "--help"]])
def test_help_exits_0(stack, args):
    result = stack.run(*args)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


@pytest.mark.parametrize("args", [["no-such-command"], ["serve", "--no-such-flag"], ["serve", "--threads", "many"],
                                  ["migrate", "extra-argument"]])
def test_bad_arguments_exit_2_with_one_line(stack, args):
    result = stack.run(*args, timeout=20)

    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0], result.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_responder_exits_0_on_a_stop_signal(make_stack, stack, sig):
    own = make_stack(db=stack.db)
    assert own.client.get("/healthz").status_code == 200

    assert own.stop_responder(sig, timeout=20) == 0, own.log_text()[-2000:]


def test_migrate_builds_the_schema_in_the_configured_database(stack):
    if stack.db == "sqlite":
        rows = stack.query("SELECT count(*) FROM sqlite_master WHERE type = 'table'")
    else:
        rows = stack.query("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
    assert int(rows[0][0]) >= 2, rows
