// Control endpoints under /sandbox/ (no auth) for tests and demos.

import JSON
import Foundation

struct ControlAPI {
    let state: SandboxState
    let idempotency: IdempotencyStore
    let faults: FaultStore
    let calls: CallLog
    let clock: SandboxClock

    func handle(_ req: HTTPRequest) -> HTTPResponse {
        let path = req.path.hasSuffix("/") && req.path.count > 1 ? String(req.path.dropLast()) : req.path
        let m = req.method
        switch (m, path) {
        case ("POST", "/sandbox/payments/authorize"): return withBody(req, authorizePayment)
        case ("POST", "/sandbox/billing/authorize"): return withBody(req, authorizeBilling)
        case ("POST", "/sandbox/faults"): return withBody(req) { body in
            switch faults.add(body, now: clock.now()) {
            case let .success(rule): return .json(200, rule.json)
            case let .failure(e): return .json(e.status, e.json)
            }
        }
        case ("GET", "/sandbox/faults"): return .json(200, faults.list())
        case ("DELETE", "/sandbox/faults"):
            faults.clear()
            return .json(200, .fields([("cleared", .bool(true))]))
        case ("GET", "/sandbox/calls"):
            var f = CallLog.Filter()
            f.orderId = req.queryValue("orderId")
            f.path = req.queryValue("path")
            f.method = req.queryValue("method")
            f.idempotencyKey = req.queryValue("idempotencyKey")
            f.since = req.queryValue("since").flatMap { Int($0) }
            f.limit = req.queryValue("limit").flatMap { Int($0) }
            return .json(200, calls.list(f))
        case ("DELETE", "/sandbox/calls"):
            calls.clear()
            return .json(200, .fields([("cleared", .bool(true))]))
        case ("GET", "/sandbox/payments"), ("GET", "/sandbox/charges"):
            var f = SandboxState.PaymentFilter()
            f.orderId = req.queryValue("orderId")
            f.customerKey = req.queryValue("customerKey")
            f.status = req.queryValue("status")
            f.type = req.queryValue("type")
            f.billingKey = req.queryValue("billingKey")
            f.approvedOnly = path == "/sandbox/charges"
            let list = state.listPayments(f)
            return .json(200, .array(list.map(state.render.summary)))
        case ("GET", "/sandbox/billing-keys"):
            let keys = state.listBillingKeys(customerKey: req.queryValue("customerKey"))
            return .json(200, .array(keys.map { b in
                .fields([
                    ("billingKey", .string(b.billingKey)),
                    ("customerKey", .string(b.customerKey)),
                    ("cardNumber", .string(b.card.masked)),
                    ("cardCompany", .string(b.card.company)),
                    ("authenticatedAt", .string(TossTime.format(b.authenticatedAt))),
                    ("deleted", .bool(b.deletedAt != nil)),
                    ("deletedAt", b.deletedAt.map { .string(TossTime.format($0)) } ?? .null),
                ])
            }))
        case ("GET", "/sandbox/clock"): return clockState()
        case ("POST", "/sandbox/clock"): return withBody(req) { body in
            if let v = body["offsetSeconds"], !v.isNull {
                guard let n = number(v) else { return bad("offsetSeconds는 숫자여야 합니다.") }
                clock.offsetSeconds = n
            }
            if let v = body["advanceSeconds"], !v.isNull {
                guard let n = number(v) else { return bad("advanceSeconds는 숫자여야 합니다.") }
                clock.advance(by: n)
            }
            if let v = body["now"], !v.isNull {
                guard let s = v.stringValue, let t = TossTime.parse(s) else { return bad("now는 ISO 8601 시각이어야 합니다 (예: 2025-01-31T09:00:00+09:00).") }
                clock.offsetSeconds = t - Date().timeIntervalSince1970
            }
            return clockState()
        }
        case ("DELETE", "/sandbox/clock"):
            clock.offsetSeconds = 0
            return clockState()
        case ("POST", "/sandbox/reset"):
            state.reset()
            idempotency.reset()
            faults.clear()
            calls.clear()
            clock.offsetSeconds = 0
            return .json(200, .fields([("reset", .bool(true))]))
        case ("GET", "/sandbox/health"):
            return .json(200, .fields([("status", .string("ok")), ("sandbox", .bool(true))]))
        default:
            if m == "DELETE", path.hasPrefix("/sandbox/faults/") {
                let id = String(path.dropFirst("/sandbox/faults/".count))
                return faults.remove(id: id) ? .json(200, .fields([("deleted", .string(id))]))
                    : .json(404, TossError(404, "NOT_FOUND", "존재하지 않는 fault 입니다.").json)
            }
            return .json(404, TossError(404, "NOT_FOUND", "존재하지 않는 SANDBOX 엔드포인트입니다. GET / 에서 목록을 확인하세요.").json)
        }
    }

    private func number(_ v: JSON) -> Double? {
        switch v {
        case let .int(i): return Double(i)
        case let .double(d): return d
        case let .string(s): return Double(s)
        default: return nil
        }
    }

    private func bad(_ message: String) -> HTTPResponse {
        .json(400, TossError(400, "INVALID_REQUEST", message).json)
    }

    private func withBody(_ req: HTTPRequest, _ f: (JSON) -> HTTPResponse) -> HTTPResponse {
        if req.body.isEmpty { return f(.fields([])) }
        guard let body = try? JSON.parse(req.body), case .object = body else { return bad("요청 본문은 JSON 객체여야 합니다.") }
        return f(body)
    }

    private func clockState() -> HTTPResponse {
        let now = clock.now()
        return .json(200, .fields([
            ("now", .string(TossTime.format(now))),
            ("offsetSeconds", .double(clock.offsetSeconds)),
        ]))
    }

    private func authorizePayment(_ body: JSON) -> HTTPResponse {
        do {
            let orderId = try Validate.requiredString(body, "orderId", max: 64)
            let amount = try Validate.requiredAmount(body, "amount")
            let orderName = try Validate.optionalString(body, "orderName", max: 100) ?? "SANDBOX 테스트 주문"
            let customerKey = try Validate.optionalString(body, "customerKey", max: 50)
            if let c = customerKey, c != Validate.anonymousCustomerKey, !Validate.isCustomerKey(c) {
                throw TossError(400, "INVALID_CUSTOMER_KEY", "customerKey가 올바르지 않습니다.")
            }
            let card = try Validate.optionalString(body, "cardNumber", max: 32) ?? Cards.defaultNumber
            let a = PaymentAuthorization(orderId: orderId, amount: amount, orderName: orderName, customerKey: customerKey,
                                         customerEmail: try Validate.optionalString(body, "customerEmail", max: 100),
                                         customerName: try Validate.optionalString(body, "customerName", max: 100),
                                         cardNumber: card)
            switch state.authorizePayment(a) {
            case let .success(p):
                return .json(200, .fields([("paymentKey", .string(p.paymentKey)), ("orderId", .string(p.orderId)),
                                           ("amount", .int64(p.totalAmount))]))
            case let .failure(e): return .json(e.status, e.json)
            }
        } catch let e as TossError { return .json(e.status, e.json) } catch { return bad("잘못된 요청입니다.") }
    }

    private func authorizeBilling(_ body: JSON) -> HTTPResponse {
        do {
            let customerKey = try Validate.requiredString(body, "customerKey", max: 300)
            let card = try Validate.optionalString(body, "cardNumber", max: 32) ?? Cards.defaultNumber
            switch state.authorizeBilling(customerKey: customerKey, cardNumber: card) {
            case let .success(a):
                return .json(200, .fields([("authKey", .string(a.authKey)), ("customerKey", .string(a.customerKey))]))
            case let .failure(e): return .json(e.status, e.json)
            }
        } catch let e as TossError { return .json(e.status, e.json) } catch { return bad("잘못된 요청입니다.") }
    }
}
