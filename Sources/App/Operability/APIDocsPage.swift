import Web

/// `GET /api/docs`: a readable reference rendered on the server from the OpenAPI document (no CDN, no JS).
enum APIDocsPage {
    static func register(_ table: inout RouteTable) {
        table.api("GET", "/api/openapi.json", summary: "This OpenAPI document") { exchange in
            .json(OpenAPIDocument.make(exchange.app))
        }
        table.api("GET", "/api/docs", summary: "API reference (HTML)", doc: APIDoc(responseType: "text/html")) { exchange in
            .html(render(OpenAPIDocument.make(exchange.app), exchange))
        }
    }

    static let examples: [String: (ko: String, en: String, json: String)] = [
        "Plan": ("요금제", "A plan", #"{"id":"…","name":"베이직","plan_type":"BASIC","price":9900,"currency":"KRW","billing_cycle":"MONTHLY","features":["프로젝트 3개"],"is_active":true}"#),
        "SubscribeRequest": ("구독 시작 요청", "Start a subscription", #"{"plan_id":"…"}"#),
        "ConfirmRequest": ("결제 승인 요청 (amount는 숫자 또는 숫자 문자열)", "Confirm a payment (amount may be a number or a digit string)",
                           #"{"payment_key":"…","order_id":"ord_…","amount":9900}"#),
        "BillingIssueRequest": ("빌링키 발급 요청", "Register a card", #"{"customer_key":"cus_…","auth_key":"…"}"#),
        "CancelRequest": ("해지 요청 (기본: 기간 끝에 해지)", "Cancel (default: at period end)", #"{"at_period_end":true}"#),
        "SignupRequest": ("회원가입", "Sign up", #"{"username":"alice","email":"alice@example.com","password":"correct horse"}"#),
        "LoginRequest": ("로그인", "Sign in", #"{"username":"alice","password":"correct horse"}"#),
        "Error": ("오류 응답", "Error answer", #"{"message":"활성 구독이 아닙니다.","code":"NOT_ACTIVE"}"#),
    ]

    static func render(_ document: JSON, _ exchange: Exchange) -> String {
        let e = HTML.escape
        var sections = ""
        for entry in document["paths"]?.objectValue?.entries ?? [] {
            for operation in entry.value.objectValue?.entries ?? [] {
                let op = operation.value
                let requestRef = op["requestBody"]?["content"]?["application/json"]?["schema"]?["$ref"]?.stringValue
                let requestName = requestRef.map { String($0.split(separator: "/").last ?? "") }
                let responses = (op["responses"]?.objectValue?.entries ?? []).map { response -> String in
                    let ref = response.value["content"]?.objectValue?.entries.first?.value["schema"]?["$ref"]?.stringValue
                    return "<li><code>\(e(response.key))</code> \(e(response.value["description"]?.stringValue ?? ""))\(ref.map { " — <a href=\"#schema-\(e(String($0.split(separator: "/").last ?? "")))\">\(e(String($0.split(separator: "/").last ?? "")))</a>" } ?? "")</li>"
                }.joined()
                let needsLogin = op["security"] != nil ? "<span class=\"badge\">로그인 필요 · sign-in required</span>" : ""
                sections += """
                <section class="api-operation" id="\(e(op["operationId"]?.stringValue ?? ""))">
                <h3><code class="method">\(e(operation.key.uppercased()))</code> <code>\(e(entry.key))</code> \(needsLogin)</h3>
                <p>\(e(op["summary"]?.stringValue ?? ""))</p>
                \(requestName.map { "<p>요청 본문 · Request body: <a href=\"#schema-\(e($0))\">\(e($0))</a></p>\(example($0))" } ?? "")
                <ul>\(responses)</ul>
                </section>
                """
            }
        }
        var schemas = ""
        for schema in document["components"]?["schemas"]?.objectValue?.entries ?? [] {
            let rows = (schema.value["properties"]?.objectValue?.entries ?? []).map { property in
                "<tr><td><code>\(e(property.key))</code></td><td>\(e(typeText(property.value)))</td></tr>"
            }.joined()
            schemas += "<section id=\"schema-\(e(schema.key))\"><h3>\(e(schema.key))</h3>\(rows.isEmpty ? "" : "<table class=\"table\"><tbody>\(rows)</tbody></table>")\(example(schema.key))</section>"
        }
        let body = """
        <section class="api-docs">
        <h1>gudok API 문서 · API reference</h1>
        <p>JSON API는 쿠키 세션(<code>sessionid</code>)으로 인증하며, GET이 아닌 요청에는 <code>X-CSRFToken</code> 헤더(쿠키 <code>csrftoken</code> 값)가 필요합니다.
        금액은 원 단위 정수, 시각은 오프셋이 있는 RFC 3339입니다. 오류는 항상 <code>{"message", "code"}</code>입니다.</p>
        <p lang="en">The JSON API authenticates with a cookie session (<code>sessionid</code>); unsafe methods need header <code>X-CSRFToken</code> equal to cookie
        <code>csrftoken</code>. Money is integer won, times are RFC 3339 with offset, errors are <code>{"message", "code"}</code>.
        Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a>.</p>
        <h2>경로 · Routes</h2>
        \(sections)
        <h2>스키마 · Schemas</h2>
        \(schemas)
        </section>
        """
        return Layout.page(title: "API 문서", exchange, body: body)
    }

    private static func example(_ name: String) -> String {
        guard let example = examples[name] else { return "" }
        let e = HTML.escape
        return "<p class=\"muted\">예시 · Example — \(e(example.ko)) / \(e(example.en))</p><pre><code>\(e(example.json))</code></pre>"
    }

    private static func typeText(_ schema: JSON) -> String {
        if let ref = schema["$ref"]?.stringValue { return String(ref.split(separator: "/").last ?? "") }
        if let values = schema["enum"]?.arrayValue { return values.compactMap(\.stringValue).joined(separator: " | ") }
        if let type = schema["type"]?.stringValue { return type + (schema["format"]?.stringValue.map { " (\($0))" } ?? "") }
        if let types = schema["type"]?.arrayValue { return types.compactMap(\.stringValue).joined(separator: " | ") }
        if schema["oneOf"] != nil { return "integer | digit string" }
        return "object"
    }
}
