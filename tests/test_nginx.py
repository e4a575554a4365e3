"""The nginx configurations: the production site passes `nginx -t`, and the
edge behaviours that nginx (not the responder) owns answer in the API's error shape."""

import concurrent.futures
import json
import re
import subprocess

from gudok_harness import REPO


def test_production_config_is_valid_nginx(tmp_path):
    work = tmp_path
    subprocess.run([str(REPO / "scripts" / "tls-cert.sh"), str(work)], check=True)
    site = (REPO / "nginx" / "gudok.conf").read_text()
    site = site.replace("/etc/letsencrypt/live/billing.example.com/fullchain.pem", str(work / "cert.pem"))
    site = site.replace("/etc/letsencrypt/live/billing.example.com/privkey.pem", str(work / "key.pem"))
    site = site.replace("include fastcgi_params;", "include /etc/nginx/fastcgi_params;")
    (work / "site.conf").write_text(site)
    # The stock Debian http {} block, reduced to what the site relies on.
    (work / "nginx.conf").write_text(f"pid {work}/nginx.pid;\nevents {{}}\n"
                                     f"http {{ include /etc/nginx/mime.types; include {work}/site.conf; }}\n")

    result = subprocess.run(["nginx", "-t", "-p", str(work), "-c", str(work / "nginx.conf"),
                             "-e", str(work / "error.log")], capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
    assert "listen 443 ssl http2;" in site
    assert "http2 on" not in site  # nginx 1.22 (Debian 12) does not know it


def test_dev_template_renders_every_placeholder(tmp_path):
    work = tmp_path

    out = subprocess.run([str(REPO / "scripts" / "render-nginx.sh"), "--var", str(work), "--https-port", "1",
                          "--http-port", "2"], check=True, capture_output=True, text=True).stdout.strip()

    text = open(out).read()
    assert not re.search(r"@[A-Z_]+@", text), re.findall(r"@[A-Z_]+@", text)
    assert (work / "tls" / "cert.pem").exists() and (work / "tls" / "key.pem").exists()


def test_body_beyond_nginx_limit_is_a_413_json_error_from_nginx(make_stack):
    stack = make_stack()

    response = stack.client.post("/api/auth/signup", data=b"x" * (2 * 1024 * 1024),
                                 headers={"Content-Type": "application/json"})

    assert response.status_code == 413
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"


def test_login_and_payment_routes_are_rate_limited_with_json_429(make_stack):
    stack = make_stack()
    token = stack.client.csrf_token()

    def post(path):
        response = stack.new_client().post(path, json={}, csrf=False,
                                           headers={"X-CSRFToken": token, "Cookie": f"csrftoken={token}"})
        return response.status_code, response.text

    for path in ("/api/auth/login", "/api/subscriptions/payments/confirm"):
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(post, [path] * 200))
        statuses = [status for status, _ in answers]
        assert 429 in statuses, (path, statuses)
        assert any(status != 429 for status in statuses), (path, statuses)
        for status, text in answers:
            if status == 429:
                assert json.loads(text)["code"], text
    # Reads are never limited, the login form included (only sign-in attempts count).
    assert all(stack.client.get("/api/subscriptions/plans").status_code == 200 for _ in range(30))
    assert all(stack.client.get("/accounts/login").status_code == 200 for _ in range(80))


def test_responder_down_is_a_502_json_error(make_stack):
    stack = make_stack()
    stack.stop_responder()

    response = stack.client.get("/api/subscriptions/plans")

    assert response.status_code == 502
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "SERVICE_UNAVAILABLE"
