import Web

/// `/api/auth/*` (docs/api.md#accounts-api).
enum AuthAPI {
    static func register(_ table: inout RouteTable) {
        table.api("GET", "/api/auth/csrf", summary: "Get a CSRF token", doc: APIDoc(responses: [(200, "CsrfToken")])) { exchange in
            .json(["csrf_token": .string(exchange.csrfToken)])
        }
        table.api("POST", "/api/auth/signup", summary: "Create an account", doc: APIDoc(request: "SignupRequest", responses: [(201, "User"), (400, "Error"), (403, "Error"), (409, "Error")])) { exchange in
            let body = try JSONBody(exchange.request)
            let user = try exchange.accounts.signUp(username: try body.string("username"), email: try body.optionalString("email") ?? "",
                                                    password: try body.string("password"))
            return .json(user.json, status: 201)
        }
        table.api("POST", "/api/auth/login", summary: "Sign in", doc: APIDoc(request: "LoginRequest", responses: [(200, "User"), (401, "Error"), (403, "Error"), (429, "Error")])) { exchange in
            let body = try JSONBody(exchange.request)
            let user = try exchange.accounts.signIn(username: try body.string("username"), password: try body.string("password"),
                                                    address: exchange.request.remoteAddress)
            try exchange.signIn(user)
            return .json(user.json)
        }
        table.api("POST", "/api/auth/logout", summary: "Sign out", doc: APIDoc(responses: [(204, nil), (403, "Error")])) { exchange in
            try exchange.signOut()
            return .noContent()
        }
        table.api("GET", "/api/auth/me", .signedIn, summary: "The signed-in user", doc: APIDoc(responses: [(200, "User"), (401, "Error")])) { exchange in
            .json(try exchange.requireUser().json)
        }
    }
}
