// The sandbox's card form (what the SDK stand-in navigates to):
//   GET  /sandbox/payment?…       POST /sandbox/payment
//   GET  /sandbox/billing-auth?…  POST /sandbox/billing-auth
// On submit it records the authorisation and answers 303 to successUrl/failUrl
// with the parameters real Toss sends.

import JSON

enum CardFormKind: String {
    case payment
    case billing = "billing-auth"
}

struct CardFormRequest {
    var kind: CardFormKind
    var clientKey: String
    var customerKey: String
    var amount: Int64
    var orderId: String
    var orderName: String
    var successUrl: String
    var failUrl: String
    var customerEmail: String?
    var customerName: String?

    static let fieldNames = ["clientKey", "customerKey", "amount", "orderId", "orderName",
                             "successUrl", "failUrl", "customerEmail", "customerName"]

    /// Validates like the SDK; the error text is shown on an HTML page.
    static func parse(kind: CardFormKind, _ fields: [(String, String)], config: SandboxConfig) -> Result<CardFormRequest, TossError> {
        func field(_ n: String) -> String? {
            for (k, v) in fields where k == n { return v }
            return nil
        }
        func bad(_ code: String, _ message: String) -> Result<CardFormRequest, TossError> {
            .failure(TossError(400, code, message))
        }
        let successUrl = field("successUrl") ?? ""
        let failUrl = field("failUrl") ?? ""
        guard URLCoding.isHTTPURL(successUrl) else { return bad("INVALID_URL", "successUrl은 http(s) URL이어야 합니다.") }
        guard URLCoding.isHTTPURL(failUrl) else { return bad("INVALID_URL", "failUrl은 http(s) URL이어야 합니다.") }
        let clientKey = field("clientKey") ?? ""
        if let configured = config.clientKey {
            guard clientKey == configured else { return bad("INVALID_CLIENT_KEY", "등록되지 않은 클라이언트 키입니다.") }
        } else {
            guard clientKey.hasPrefix("test_ck_") || clientKey.hasPrefix("test_gck_") else {
                return bad("INVALID_CLIENT_KEY", "SANDBOX는 test_ck_ 로 시작하는 테스트 클라이언트 키만 받습니다.")
            }
        }
        if let m = field("method"), m != "CARD" { return bad("NOT_SUPPORTED_METHOD", "SANDBOX는 CARD만 지원합니다.") }
        let customerKey = field("customerKey") ?? ""
        let anonymous = customerKey == Validate.anonymousCustomerKey
        guard (anonymous && kind == .payment) || (!anonymous && Validate.isCustomerKey(customerKey)) else {
            return bad("INVALID_CUSTOMER_KEY", "customerKey가 올바르지 않습니다.")
        }
        var amount: Int64 = 0
        var orderId = ""
        var orderName = ""
        if kind == .payment {
            guard let a = JSON.string(field("amount") ?? "").integerAmount, a > 0 else {
                return bad("INVALID_AMOUNT_VALUE", "amount는 0보다 큰 정수여야 합니다.")
            }
            amount = a
            orderId = field("orderId") ?? ""
            guard Validate.isOrderId(orderId) else { return bad("INVALID_ORDER_ID", "orderId가 올바르지 않습니다.") }
            orderName = field("orderName") ?? ""
            guard !orderName.isEmpty, orderName.count <= 100 else { return bad("INVALID_ORDER_NAME", "orderName이 올바르지 않습니다.") }
        }
        func optional(_ n: String) -> String? {
            guard let v = field(n), !v.isEmpty else { return nil }
            return String(v.prefix(100))
        }
        return .success(CardFormRequest(kind: kind, clientKey: clientKey, customerKey: customerKey, amount: amount,
                                        orderId: orderId, orderName: orderName, successUrl: successUrl, failUrl: failUrl,
                                        customerEmail: optional("customerEmail"), customerName: optional("customerName")))
    }

    var hiddenFields: [(String, String)] {
        var f: [(String, String)] = [("clientKey", clientKey), ("customerKey", customerKey),
                                     ("successUrl", successUrl), ("failUrl", failUrl)]
        if kind == .payment { f += [("amount", String(amount)), ("orderId", orderId), ("orderName", orderName)] }
        if let e = customerEmail { f.append(("customerEmail", e)) }
        if let n = customerName { f.append(("customerName", n)) }
        return f
    }
}

enum CardForm {
    static func handle(_ req: HTTPRequest, kind: CardFormKind, state: SandboxState, config: SandboxConfig) -> HTTPResponse {
        switch req.method {
        case "GET", "HEAD":
            switch CardFormRequest.parse(kind: kind, req.query, config: config) {
            case let .failure(e): return Pages.errorPage(e)
            case let .success(r): return .html(200, page(r, cardNumber: Cards.defaultNumber, error: nil))
            }
        case "POST":
            let fields = req.formFields
            switch CardFormRequest.parse(kind: kind, fields, config: config) {
            case let .failure(e): return Pages.errorPage(e)
            case let .success(r): return submit(r, fields: fields, state: state)
            }
        default:
            return .text(405, "Method Not Allowed\n")
        }
    }

    private static func submit(_ r: CardFormRequest, fields: [(String, String)], state: SandboxState) -> HTTPResponse {
        func field(_ n: String) -> String? {
            for (k, v) in fields where k == n { return v }
            return nil
        }
        if field("action") == "cancel" {
            return .redirect(URLCoding.appendQuery(to: r.failUrl, [("code", "PAY_PROCESS_CANCELED"),
                                                                  ("message", "사용자에 의해 결제가 취소되었습니다")]))
        }
        let entered = field("cardNumber") ?? ""
        guard Cards.normalize(entered) != nil else {
            return .html(400, page(r, cardNumber: entered, error: "카드 번호 16자리를 입력해주세요."))
        }
        func fail(_ e: TossError) -> HTTPResponse {
            var params = [("code", e.code), ("message", e.message)]
            if r.kind == .payment { params.append(("orderId", r.orderId)) }
            return .redirect(URLCoding.appendQuery(to: r.failUrl, params))
        }
        switch r.kind {
        case .payment:
            let a = PaymentAuthorization(orderId: r.orderId, amount: r.amount, orderName: r.orderName,
                                         customerKey: r.customerKey, customerEmail: r.customerEmail,
                                         customerName: r.customerName, cardNumber: entered)
            switch state.authorizePayment(a) {
            case let .failure(e): return fail(e)
            case let .success(p):
                return .redirect(URLCoding.appendQuery(to: r.successUrl, [("paymentKey", p.paymentKey),
                                                                         ("orderId", p.orderId),
                                                                         ("amount", String(p.totalAmount))]))
            }
        case .billing:
            switch state.authorizeBilling(customerKey: r.customerKey, cardNumber: entered) {
            case let .failure(e): return fail(e)
            case let .success(a):
                return .redirect(URLCoding.appendQuery(to: r.successUrl, [("customerKey", a.customerKey),
                                                                         ("authKey", a.authKey)]))
            }
        }
    }

    static func page(_ r: CardFormRequest, cardNumber: String, error: String?) -> String {
        let h = HTMLText.escape
        let isPayment = r.kind == .payment
        let title = isPayment ? "카드 결제" : "자동결제 카드 등록"
        let button = isPayment ? "결제하기" : "카드 등록"
        var summary = ""
        if isPayment {
            summary = """
            <dl class="summary">
              <dt>주문</dt><dd id="order-name">\(h(r.orderName))</dd>
              <dt>결제 금액</dt><dd id="amount" class="amount">\(HTMLText.won(r.amount))</dd>
              <dt>주문번호</dt><dd id="order-id"><code>\(h(r.orderId))</code></dd>
            </dl>
            """
        } else {
            summary = """
            <dl class="summary">
              <dt>등록 방식</dt><dd>자동결제(빌링) — 이후 결제는 가맹점이 빌링키로 요청합니다</dd>
              <dt>customerKey</dt><dd id="customer-key"><code>\(h(r.customerKey))</code></dd>
            </dl>
            """
        }
        let hidden = r.hiddenFields.map { "<input type=\"hidden\" name=\"\(h($0.0))\" value=\"\(h($0.1))\">" }.joined(separator: "\n    ")
        let cards = Cards.testCards.map {
            "<li><button type=\"button\" class=\"test-card\" data-card=\"\($0.number)\"><code>\($0.number)</code></button> \(h($0.effect))</li>"
        }.joined(separator: "\n      ")
        let errorHTML = error.map { "<p id=\"form-error\" class=\"error\" role=\"alert\">\(h($0))</p>" } ?? ""
        return """
        <!doctype html>
        <html lang="ko">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="robots" content="noindex">
        <title>SANDBOX · 테스트 결제 — \(title)</title>
        <style>\(Pages.css)</style>
        </head>
        <body>
        <div class="banner" id="sandbox-banner">SANDBOX · 테스트 결제 — 실제 결제가 이루어지지 않습니다</div>
        <main>
          <h1>\(title)</h1>
          \(summary)
          <form method="post" action="\(r.kind.rawValue)" id="card-form" autocomplete="off">
            \(hidden)
            <label for="card-number">카드 번호</label>
            <input id="card-number" name="cardNumber" value="\(h(cardNumber))" inputmode="numeric" maxlength="19" autocomplete="off" autofocus>
            \(errorHTML)
            <div class="buttons">
              <button id="pay-button" type="submit" name="action" value="pay" class="primary">\(button)</button>
              <button id="cancel-button" type="submit" name="action" value="cancel" formnovalidate>취소</button>
            </div>
          </form>
          <section class="cards">
            <h2>테스트 카드</h2>
            <ul>
              \(cards)
            </ul>
            <p class="note">유효기간·비밀번호·본인인증은 묻지 않습니다 (SANDBOX).</p>
          </section>
        </main>
        <script>
        document.querySelectorAll(".test-card").forEach(function (b) {
          b.addEventListener("click", function () { document.getElementById("card-number").value = b.getAttribute("data-card"); });
        });
        </script>
        </body>
        </html>
        """
    }
}
