// Automatic billing (자동결제): billing-auth keys from the card form, billing
// key issue, charges with a billing key, and billing key deletion.

import JSON
import Foundation

struct BillingCharge {
    var customerKey: String
    var amount: Int64
    var orderId: String
    var orderName: String
    var customerEmail: String?
    var customerName: String?
}

extension SandboxState {
    /// What the billing-auth card form does: a one-time authKey for this customer.
    func authorizeBilling(customerKey: String, cardNumber: String) -> Result<AuthKeyRecord, TossError> {
        guard Validate.isCustomerKey(customerKey), customerKey != Validate.anonymousCustomerKey else {
            return .failure(TossError.invalidRequest("customerKey는 영문 대소문자, 숫자, -, _, =, ., @ 로 이루어진 2자 이상 50자 이하여야 합니다."))
        }
        guard let number = Cards.normalize(cardNumber) else { return .failure(TossError.known("INVALID_CARD_NUMBER")) }
        let card = Cards.info(number)
        if card.behavior == .declineAtAuthentication {
            return .failure(TossError(403, "REJECT_CARD_COMPANY", Cards.authenticationDeclineMessage))
        }
        let record = AuthKeyRecord(authKey: "bln_" + SandboxRandom.alphanumeric(32), customerKey: customerKey,
                                   card: card, createdAt: clock.now(), usedBy: nil)
        locked { authKeys[record.authKey] = record }
        return .success(record)
    }

    func issueBillingKey(authKey: String, customerKey: String) -> Result<BillingKeyRecord, TossError> {
        locked {
            guard var auth = authKeys[authKey] else {
                return .failure(TossError.known("NOT_FOUND", message: "존재하지 않는 authKey 입니다."))
            }
            guard auth.usedBy == nil else { return .failure(TossError.known("INVALID_AUTH_KEY")) }
            guard auth.customerKey == customerKey else {
                return .failure(TossError.invalidRequest("customerKey가 카드 등록(빌링 인증) 때의 customerKey와 일치하지 않습니다."))
            }
            let now = clock.now()
            let record = BillingKeyRecord(billingKey: SandboxRandom.billingKey(), customerKey: customerKey,
                                          card: auth.card, authenticatedAt: now, deletedAt: nil)
            auth.usedBy = record.billingKey
            authKeys[authKey] = auth
            billingKeys[record.billingKey] = record
            billingOrder.append(record.billingKey)
            return .success(record)
        }
    }

    func charge(billingKey: String, _ c: BillingCharge, forced: TossError?) -> Result<PaymentRecord, TossError> {
        locked {
            guard let key = billingKeys[billingKey], key.deletedAt == nil else { return .failure(.notFoundBilling) }
            guard key.customerKey == c.customerKey else { return .failure(TossError.known("NOT_MATCHES_CUSTOMER_KEY")) }
            guard c.amount >= 100 else { return .failure(TossError.known("BELOW_MINIMUM_AMOUNT")) }
            guard paymentKeyByOrderId[c.orderId] == nil else { return .failure(TossError.known("DUPLICATED_ORDER_ID")) }
            let now = clock.now()
            var p = PaymentRecord(seq: takeSeq(), paymentKey: newPaymentKey(now), type: "BILLING",
                                  orderId: c.orderId, orderName: c.orderName, customerKey: c.customerKey,
                                  customerEmail: c.customerEmail, customerName: c.customerName,
                                  billingKey: billingKey, card: key.card, totalAmount: c.amount, balanceAmount: c.amount,
                                  status: "DONE", requestedAt: now)
            var decline = forced
            if decline == nil, case let .declineAtApproval(e) = key.card.behavior { decline = e }
            if let e = decline {
                // The failed attempt is still recorded under this orderId.
                p.status = "ABORTED"
                p.failure = e
                insert(p)
                return .failure(e)
            }
            p.approvedAt = now
            p.approveNo = SandboxRandom.digits(8)
            p.lastTransactionKey = newTransactionKey()
            insert(p)
            return .success(p)
        }
    }

    func deleteBillingKey(_ billingKey: String) -> TossError? {
        locked {
            guard var key = billingKeys[billingKey], key.deletedAt == nil else { return .notFoundBilling }
            key.deletedAt = clock.now()
            billingKeys[billingKey] = key
            return nil
        }
    }
}

// MARK: - /v1 handlers

extension SandboxState {
    func handleIssue(_ body: JSON) -> APIResult {
        do {
            let authKey = try Validate.requiredString(body, "authKey", max: 300)
            let customerKey = try Validate.requiredString(body, "customerKey", max: 300)
            switch issueBillingKey(authKey: authKey, customerKey: customerKey) {
            case let .success(b): return .ok(render.billing(b))
            case let .failure(e): return .error(e)
            }
        } catch let e as TossError { return .error(e) } catch { return .error(.invalidRequest()) }
    }

    func handleCharge(billingKey: String, _ body: JSON, forced: TossError?) -> APIResult {
        do {
            let customerKey = try Validate.requiredString(body, "customerKey", max: 300)
            let amount = try Validate.requiredAmount(body, "amount")
            let orderId = try Validate.requiredString(body, "orderId", max: 64)
            guard Validate.isOrderId(orderId) else {
                throw TossError.invalidRequest("orderId는 영문 대소문자, 숫자, -, _, = 로 이루어진 6자 이상 64자 이하여야 합니다.")
            }
            let orderName = try Validate.requiredString(body, "orderName", max: 100)
            let email = try Validate.optionalString(body, "customerEmail", max: 100)
            let name = try Validate.optionalString(body, "customerName", max: 100)
            if let v = body["taxFreeAmount"], !v.isNull, v.integerAmount != 0 {
                throw TossError.invalidRequest("샌드박스는 taxFreeAmount 0만 지원합니다.")
            }
            let c = BillingCharge(customerKey: customerKey, amount: amount, orderId: orderId, orderName: orderName,
                                  customerEmail: email, customerName: name)
            switch charge(billingKey: billingKey, c, forced: forced) {
            case let .success(p): return .ok(render.payment(p))
            case let .failure(e): return .error(e)
            }
        } catch let e as TossError { return .error(e) } catch { return .error(.invalidRequest()) }
    }

    func handleDeleteBilling(billingKey: String) -> APIResult {
        if let e = deleteBillingKey(billingKey) { return .error(e) }
        return APIResult(status: 200, body: nil)
    }
}
