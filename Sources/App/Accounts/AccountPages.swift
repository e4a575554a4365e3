import Web

/// `/accounts/login`, `/accounts/signup`, `POST /accounts/logout`.
enum AccountPages {
    static func register(_ table: inout RouteTable) {
        table.page("GET", "/accounts/login", summary: "Sign-in page") { exchange in
            if exchange.user != nil { return .redirect(to: safeNext(exchange.request.query["next"])) }
            return .html(loginPage(exchange, username: "", error: nil))
        }
        table.page("POST", "/accounts/login", summary: "Sign in (form)") { exchange in
            let form = exchange.request.form
            let username = form["username"] ?? ""
            do {
                let user = try exchange.accounts.signIn(username: username, password: form["password"] ?? "", address: exchange.request.remoteAddress)
                try exchange.signIn(user)
                return .redirect(to: safeNext(form["next"] ?? exchange.request.query["next"]))
            } catch let error as AccountError {
                let http = error.httpError
                var response = HTTPResponse.html(loginPage(exchange, username: username, error: http.message), status: http.status)
                for (name, value) in http.headers { response.addHeader(name, value) }
                return response
            }
        }
        table.page("GET", "/accounts/signup", summary: "Sign-up page") { exchange in
            .html(signupPage(exchange, username: "", email: "", errors: [:]))
        }
        table.page("POST", "/accounts/signup", summary: "Sign up (form)") { exchange in
            let form = exchange.request.form
            let username = form["username"] ?? ""
            let email = form["email"] ?? ""
            let password = form["password"] ?? ""
            if password != (form["password_confirm"] ?? password) {
                return .html(signupPage(exchange, username: username, email: email, errors: ["password": "비밀번호가 서로 다릅니다."]), status: 400)
            }
            do {
                let user = try exchange.accounts.signUp(username: username, email: email, password: password)
                try exchange.signIn(user)
                return .redirect(to: safeNext(form["next"] ?? exchange.request.query["next"]))
            } catch AccountError.invalid(let errors) {
                return .html(signupPage(exchange, username: username, email: email, errors: errors), status: 400)
            } catch AccountError.usernameTaken {
                return .html(signupPage(exchange, username: username, email: email, errors: ["username": "이미 사용 중인 아이디입니다."]), status: 409)
            }
        }
        table.page("POST", "/accounts/logout", summary: "Sign out (form)") { exchange in
            try exchange.signOut()
            return .redirect(to: "/")
        }
    }

    /// Only same-site absolute paths: `/account` yes; `//evil.example`, `https://…`, `/\evil` no.
    static func safeNext(_ next: String?) -> String {
        // Browsers drop tabs and newlines from URLs, so `/\t/evil` would become `//evil`: refuse every control character.
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), next.utf8.count < 2048,
              !next.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || $0 == "\\" }) else { return "/" }
        return next
    }

    private static func loginPage(_ exchange: Exchange, username: String, error: String?) -> String {
        let e = HTML.escape
        let next = safeNext(exchange.request.query["next"] ?? exchange.request.form["next"])
        let body = """
        <section class="card narrow">
        <h1>로그인</h1>
        \(error.map { "<div class=\"alert error\" role=\"alert\">\(e($0))</div>" } ?? "")
        <form method="post" action="/accounts/login" class="form" id="login-form">
        \(Layout.csrfField(exchange))
        <input type="hidden" name="next" value="\(e(next))">
        <label class="field">아이디<input name="username" id="username" value="\(e(username))" autocomplete="username" required></label>
        <label class="field">비밀번호<input type="password" name="password" id="password" autocomplete="current-password" required></label>
        <button type="submit" class="button primary" id="login-button">로그인</button>
        </form>
        <p class="muted">계정이 없으신가요? <a href="/accounts/signup?next=\(e(PercentEncoding.encodeComponent(next)))">회원가입</a></p>
        </section>
        """
        return Layout.page(title: "로그인", exchange, body: body)
    }

    private static func signupPage(_ exchange: Exchange, username: String, email: String, errors: [String: String]) -> String {
        let e = HTML.escape
        let next = safeNext(exchange.request.query["next"] ?? exchange.request.form["next"])
        func error(_ field: String) -> String { errors[field].map { "<span class=\"errors\">\(e($0))</span>" } ?? "" }
        let body = """
        <section class="card narrow">
        <h1>회원가입</h1>
        \(errors.isEmpty ? "" : "<div class=\"alert error\" role=\"alert\">입력한 내용을 확인하세요.</div>")
        <form method="post" action="/accounts/signup" class="form" id="signup-form">
        \(Layout.csrfField(exchange))
        <input type="hidden" name="next" value="\(e(next))">
        <label class="field">아이디<input name="username" id="username" value="\(e(username))" autocomplete="username" required>\(error("username"))</label>
        <label class="field">이메일<input type="email" name="email" id="email" value="\(e(email))" autocomplete="email">\(error("email"))</label>
        <label class="field">비밀번호 (8자 이상)<input type="password" name="password" id="password" autocomplete="new-password" required>\(error("password"))</label>
        <button type="submit" class="button primary" id="signup-button">가입하기</button>
        </form>
        <p class="muted">이미 계정이 있으신가요? <a href="/accounts/login?next=\(e(PercentEncoding.encodeComponent(next)))">로그인</a></p>
        </section>
        """
        return Layout.page(title: "회원가입", exchange, body: body)
    }
}
