import Foundation
import Web

/// Toss's successUrl/failUrl redirects: the browser lands here, gudok confirms, and the person sees what happened.
enum PaymentRedirects {
    static func register(_ table: inout RouteTable) {
        table.page("GET", "/api/subscriptions/payments/success", .signedIn, summary: "Toss successUrl (payment window)", query: ["paymentKey", "orderId", "amount"]) { exchange in
            let query = exchange.request.query
            guard let paymentKey = query["paymentKey"], let orderID = query["orderId"], let amountText = query["amount"],
                  let amount = Int(amountText) else {
                return result(exchange, status: 400, title: "결제 정보를 확인할 수 없습니다",
                              message: "결제사에서 돌아온 주소에 결제 정보가 빠져 있습니다. 결제가 되지 않았으니 다시 시도해 주세요.", code: "INVALID_REDIRECT")
            }
            let user = try exchange.requireUser()
            do {
                _ = try exchange.subscriptions.confirm(user: user, paymentKey: paymentKey, orderID: orderID, amount: amount)
                return .redirect(to: "/account?paid=1")
            } catch let error as SubscriptionError {
                // A reload or a second tab after the period was paid: say it is paid, not that this attempt failed.
                if exchange.subscriptions.firstPeriodPaid(user: user, orderID: orderID) { return .redirect(to: "/account?paid=1") }
                let http = error.httpError
                switch error {
                case .pgUnavailable, .paymentInProgress:
                    return result(exchange, status: 200, title: "결제 결과를 확인하고 있습니다",
                                  message: "결제사의 응답을 기다리고 있습니다. 이중 결제는 되지 않으며, 결과가 확인되면 자동으로 반영됩니다. 잠시 후 내 구독 화면에서 상태를 확인해 주세요.",
                                  code: "PAYMENT_PENDING", tone: "info")
                case .orderVoid:
                    return result(exchange, status: http.status, title: "바뀐 요금제로 다시 결제해 주세요", message: http.message, code: http.code)
                default:
                    return result(exchange, status: http.status, title: "결제를 완료하지 못했습니다",
                                  message: http.message + " 카드에서 결제되지 않았습니다. 다른 카드로 다시 시도하거나 카드사에 문의해 주세요.", code: http.code)
                }
            }
        }
        // The failure pages explain without a session too; only the signed-in owner's order is marked failed.
        table.page("GET", "/api/subscriptions/payments/fail", summary: "Toss failUrl (payment window)", query: ["code", "message", "orderId"]) { exchange in
            let query = exchange.request.query
            let code = query["code"] ?? "UNKNOWN"
            let message = query["message"] ?? "결제가 완료되지 않았습니다."
            if let orderID = query["orderId"], let user = exchange.user {
                try exchange.subscriptions.markOrderFailed(user: user, orderID: orderID, code: code, message: message)
            }
            return failure(exchange, code: code, message: message)
        }
        table.page("GET", "/api/subscriptions/billing/success", .signedIn, summary: "Toss successUrl (billing auth)", query: ["customerKey", "authKey"]) { exchange in
            let query = exchange.request.query
            guard let customerKey = query["customerKey"], let authKey = query["authKey"] else {
                return result(exchange, status: 400, title: "카드 등록 정보를 확인할 수 없습니다",
                              message: "결제사에서 돌아온 주소에 카드 등록 정보가 빠져 있습니다. 다시 시도해 주세요.", code: "INVALID_REDIRECT")
            }
            let user = try exchange.requireUser()
            do {
                _ = try exchange.subscriptions.issueBillingKey(user: user, customerKey: customerKey, authKey: authKey)
                return .redirect(to: "/account?card=1")
            } catch let error as SubscriptionError {
                let http = error.httpError
                switch error {
                case .pgUnavailable, .paymentInProgress:
                    if exchange.subscriptions.firstPeriodPaid(user: user, customerKey: customerKey) { return .redirect(to: "/account?card=1") }
                    return result(exchange, status: 200, title: "카드가 등록되었고 결제 결과를 확인하고 있습니다",
                                  message: "결제사의 응답을 기다리고 있습니다. 이중 결제는 되지 않으며, 결과가 확인되면 자동으로 반영됩니다. 잠시 후 내 구독 화면에서 상태를 확인해 주세요.",
                                  code: "PAYMENT_PENDING", tone: "info")
                default:
                    // A reload whose authKey Toss already used: the card and the period may well be in place.
                    if exchange.subscriptions.firstPeriodPaid(user: user, customerKey: customerKey) { return .redirect(to: "/account?card=1") }
                    return result(exchange, status: http.status, title: "카드 등록 또는 결제를 완료하지 못했습니다",
                                  message: http.message + " 다른 카드로 다시 시도해 주세요.", code: http.code)
                }
            }
        }
        table.page("GET", "/api/subscriptions/billing/fail", summary: "Toss failUrl (billing auth)", query: ["code", "message"]) { exchange in
            failure(exchange, code: exchange.request.query["code"] ?? "UNKNOWN", message: exchange.request.query["message"] ?? "카드 등록이 완료되지 않았습니다.")
        }
    }

    static func failure(_ exchange: Exchange, code: String, message: String) -> HTTPResponse {
        let title = code == "PAY_PROCESS_CANCELED" ? "결제를 취소하셨습니다" : "결제가 완료되지 않았습니다"
        let advice = code == "PAY_PROCESS_CANCELED"
            ? "결제 창을 닫아 결제가 진행되지 않았습니다. 요금은 청구되지 않았습니다."
            : "카드에서 결제되지 않았습니다. 카드 정보를 확인하거나 다른 카드로 다시 시도해 주세요."
        return result(exchange, status: 200, title: title, message: "\(message) — \(advice)", code: code)
    }

    static func result(_ exchange: Exchange, status: Int, title: String, message: String, code: String, tone: String = "error") -> HTTPResponse {
        let e = HTML.escape
        let body = """
        <section class="card narrow payment-result" id="payment-result" data-code="\(e(code))">
        <h1>\(e(title))</h1>
        <div class="alert \(tone)" role="alert"><p id="failure-message">\(e(message))</p><p class="muted">\(tone == "info" ? "상태" : "오류 코드"): <code id="failure-code">\(e(code))</code></p></div>
        <p><a class="button primary" href="/">요금제 다시 보기</a> <a class="button" href="/account">내 구독</a></p>
        </section>
        """
        return .html(Layout.page(title: title, exchange, body: body), status: status)
    }
}
