// Payment window payments: authorisation (card form / control API), confirm,
// lookup and cancel.

import JSON
import Foundation

/// What a /v1 handler answers: a status and a JSON body (nil = empty body).
struct APIResult: Sendable {
    var status: Int
    var body: JSON?

    static func ok(_ body: JSON) -> APIResult { APIResult(status: 200, body: body) }
    static func error(_ e: TossError) -> APIResult { APIResult(status: e.status, body: e.json) }
}

enum Validate {
    static func isOrderId(_ s: String) -> Bool {
        let n = s.utf8.count
        guard n >= 6 && n <= 64 else { return false }
        return s.utf8.allSatisfy { b in
            (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || (b >= 48 && b <= 57) || b == 45 || b == 95 || b == 61
        }
    }

    /// SDK v2 rule: 2–50 of `[A-Za-z0-9_=.@-]`.
    static func isCustomerKey(_ s: String, maxLength: Int = 50) -> Bool {
        let n = s.utf8.count
        guard n >= 2 && n <= maxLength else { return false }
        return s.utf8.allSatisfy { b in
            (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || (b >= 48 && b <= 57) || b == 45 || b == 95 || b == 61 || b == 46 || b == 64
        }
    }

    static let anonymousCustomerKey = "@@ANONYMOUS"

    /// Optional string field: absent/null → nil; wrong type → error.
    static func optionalString(_ body: JSON, _ key: String, max: Int) throws -> String? {
        guard let v = body[key], !v.isNull else { return nil }
        guard let s = v.stringValue else { throw TossError.invalidRequest("\(key) 값이 문자열이 아닙니다.") }
        guard s.count <= max else { throw TossError.invalidRequest("\(key) 값은 \(max)자 이하여야 합니다.") }
        return s
    }

    static func requiredString(_ body: JSON, _ key: String, max: Int) throws -> String {
        guard let s = try optionalString(body, key, max: max), !s.isEmpty else {
            throw TossError.invalidRequest("\(key) 값이 필요합니다.")
        }
        return s
    }

    static func requiredAmount(_ body: JSON, _ key: String) throws -> Int64 {
        guard let v = body[key], !v.isNull else { throw TossError.invalidRequest("\(key) 값이 필요합니다.") }
        guard let n = v.integerAmount else { throw TossError.invalidRequest("\(key) 값이 올바르지 않습니다.") }
        return n
    }
}

struct PaymentAuthorization {
    var orderId: String
    var amount: Int64
    var orderName: String
    var customerKey: String?
    var customerEmail: String?
    var customerName: String?
    var cardNumber: String
}

extension SandboxState {
    /// What the card form does when the buyer pays: an IN_PROGRESS payment
    /// waiting for confirm. Errors are answered to failUrl by the caller.
    func authorizePayment(_ a: PaymentAuthorization) -> Result<PaymentRecord, TossError> {
        guard Validate.isOrderId(a.orderId) else {
            return .failure(TossError.invalidRequest("orderId는 영문 대소문자, 숫자, -, _, = 로 이루어진 6자 이상 64자 이하여야 합니다."))
        }
        guard a.amount > 0 else { return .failure(TossError.invalidRequest("amount는 0보다 커야 합니다.")) }
        guard let number = Cards.normalize(a.cardNumber) else { return .failure(TossError.known("INVALID_CARD_NUMBER")) }
        let card = Cards.info(number)
        if card.behavior == .declineAtAuthentication {
            return .failure(TossError(403, "REJECT_CARD_COMPANY", Cards.authenticationDeclineMessage))
        }
        return locked {
            let now = clock.now()
            if let existingKey = paymentKeyByOrderId[a.orderId] {
                refreshExpiry(existingKey, now: now)
                if var old = payments[existingKey] {
                    guard old.status == "IN_PROGRESS" || old.status == "EXPIRED" else {
                        return .failure(TossError.known("DUPLICATED_ORDER_ID"))
                    }
                    // A new payment window for the same order replaces the old session.
                    old.status = "EXPIRED"
                    payments[existingKey] = old
                }
            }
            let p = PaymentRecord(seq: takeSeq(), paymentKey: newPaymentKey(now), type: "NORMAL",
                                  orderId: a.orderId, orderName: a.orderName,
                                  customerKey: a.customerKey == Validate.anonymousCustomerKey ? nil : a.customerKey,
                                  customerEmail: a.customerEmail, customerName: a.customerName,
                                  billingKey: nil, card: card, totalAmount: a.amount, balanceAmount: a.amount,
                                  status: "IN_PROGRESS", requestedAt: now)
            insert(p)
            return .success(p)
        }
    }

    func confirm(paymentKey: String, orderId: String, amount: Int64, forced: TossError?) -> Result<PaymentRecord, TossError> {
        locked {
            let now = clock.now()
            guard payments[paymentKey] != nil else { return .failure(.notFoundPaymentSession) }
            refreshExpiry(paymentKey, now: now)
            var p = payments[paymentKey]!
            switch p.status {
            case "IN_PROGRESS": break
            case "EXPIRED": return .failure(.notFoundPaymentSession)
            default: return .failure(.alreadyProcessed)
            }
            guard p.orderId == orderId else {
                return .failure(TossError.invalidRequest("orderId가 결제 인증 정보와 일치하지 않습니다."))
            }
            guard p.totalAmount == amount else {
                return .failure(TossError.invalidRequest("결제 금액이 결제 인증 금액과 일치하지 않습니다."))
            }
            guard amount >= 100 else { return .failure(TossError.known("BELOW_MINIMUM_AMOUNT")) }
            var decline = forced
            if decline == nil, case let .declineAtApproval(e) = p.card.behavior { decline = e }
            if let e = decline {
                p.status = "ABORTED"
                p.failure = e
                payments[paymentKey] = p
                return .failure(e)
            }
            p.status = "DONE"
            p.approvedAt = now
            p.approveNo = SandboxRandom.digits(8)
            p.lastTransactionKey = newTransactionKey()
            payments[paymentKey] = p
            return .success(p)
        }
    }

    func payment(key: String) -> PaymentRecord? {
        locked {
            refreshExpiry(key, now: clock.now())
            return payments[key]
        }
    }

    func payment(orderId: String) -> PaymentRecord? {
        locked {
            guard let key = paymentKeyByOrderId[orderId] else { return nil }
            refreshExpiry(key, now: clock.now())
            return payments[key]
        }
    }

    func cancel(paymentKey: String, reason: String, amount: Int64?, refundableAmount: Int64?) -> Result<PaymentRecord, TossError> {
        locked {
            let now = clock.now()
            guard payments[paymentKey] != nil else { return .failure(.notFoundPayment) }
            refreshExpiry(paymentKey, now: now)
            var p = payments[paymentKey]!
            switch p.status {
            case "DONE", "PARTIAL_CANCELED": break
            case "CANCELED": return .failure(TossError.known("ALREADY_CANCELED_PAYMENT"))
            default: return .failure(TossError.known("NOT_CANCELABLE_PAYMENT"))
            }
            let cancelAmount = amount ?? p.balanceAmount
            guard cancelAmount > 0 else { return .failure(TossError.invalidRequest("cancelAmount는 0보다 커야 합니다.")) }
            guard cancelAmount <= p.balanceAmount else { return .failure(TossError.known("NOT_CANCELABLE_AMOUNT")) }
            if let r = refundableAmount, r != p.balanceAmount {
                return .failure(TossError.known("NOT_MATCHES_REFUNDABLE_AMOUNT"))
            }
            p.balanceAmount -= cancelAmount
            let tx = newTransactionKey()
            p.cancels.append(CancelRecord(transactionKey: tx, cancelReason: reason, canceledAt: now,
                                          cancelAmount: cancelAmount, refundableAmount: p.balanceAmount))
            p.lastTransactionKey = tx
            p.status = p.balanceAmount == 0 ? "CANCELED" : "PARTIAL_CANCELED"
            payments[paymentKey] = p
            return .success(p)
        }
    }
}

// MARK: - /v1 handlers

extension SandboxState {
    func handleConfirm(_ body: JSON, forced: TossError?) -> APIResult {
        do {
            let paymentKey = try Validate.requiredString(body, "paymentKey", max: 200)
            let orderId = try Validate.requiredString(body, "orderId", max: 64)
            let amount = try Validate.requiredAmount(body, "amount")
            switch confirm(paymentKey: paymentKey, orderId: orderId, amount: amount, forced: forced) {
            case let .success(p): return .ok(render.payment(p))
            case let .failure(e): return .error(e)
            }
        } catch let e as TossError { return .error(e) } catch { return .error(.invalidRequest()) }
    }

    func handleGetPayment(key: String) -> APIResult {
        guard let p = payment(key: key) else { return .error(.notFoundPayment) }
        return .ok(render.payment(p))
    }

    func handleGetPayment(orderId: String) -> APIResult {
        guard let p = payment(orderId: orderId) else { return .error(.notFoundPayment) }
        return .ok(render.payment(p))
    }

    func handleCancel(paymentKey: String, _ body: JSON) -> APIResult {
        do {
            let reason = try Validate.requiredString(body, "cancelReason", max: 200)
            var amount: Int64?
            if let v = body["cancelAmount"], !v.isNull {
                guard let n = v.integerAmount else { throw TossError.invalidRequest("cancelAmount 값이 올바르지 않습니다.") }
                amount = n
            }
            var refundable: Int64?
            if let v = body["refundableAmount"], !v.isNull {
                guard let n = v.integerAmount else { throw TossError.invalidRequest("refundableAmount 값이 올바르지 않습니다.") }
                refundable = n
            }
            if let c = body["currency"]?.stringValue, c != "KRW" {
                throw TossError.invalidRequest("currency가 결제 통화와 다릅니다.")
            }
            switch cancel(paymentKey: paymentKey, reason: reason, amount: amount, refundableAmount: refundable) {
            case let .success(p): return .ok(render.payment(p))
            case let .failure(e): return .error(e)
            }
        } catch let e as TossError { return .error(e) } catch { return .error(.invalidRequest()) }
    }
}
