// The sandbox's records and how they render as Toss Payment / Billing objects
// (API version 2022-11-16).

import JSON

public struct CancelRecord: Sendable {
    var transactionKey: String
    var cancelReason: String
    var canceledAt: Double
    var cancelAmount: Int64
    var refundableAmount: Int64
}

public struct PaymentRecord: Sendable {
    var seq: Int
    var paymentKey: String
    var type: String // NORMAL | BILLING
    var orderId: String
    var orderName: String
    var customerKey: String?
    var customerEmail: String?
    var customerName: String?
    var billingKey: String?
    var card: CardInfo
    var totalAmount: Int64
    var balanceAmount: Int64
    var status: String // IN_PROGRESS | DONE | CANCELED | PARTIAL_CANCELED | ABORTED | EXPIRED
    var requestedAt: Double
    var approvedAt: Double?
    var approveNo: String?
    var lastTransactionKey: String?
    var cancels: [CancelRecord] = []
    var failure: TossError?

    var wasApproved: Bool { approvedAt != nil }
}

public struct BillingKeyRecord: Sendable {
    var billingKey: String
    var customerKey: String
    var card: CardInfo
    var authenticatedAt: Double
    var deletedAt: Double?
}

public struct AuthKeyRecord: Sendable {
    var authKey: String
    var customerKey: String
    var card: CardInfo
    var createdAt: Double
    var usedBy: String? // billingKey once issued
}

struct Render {
    let mId: String
    let publicURL: String

    func payment(_ p: PaymentRecord) -> JSON {
        let vat = Int64((Double(p.balanceAmount) / 11).rounded())
        let approved = p.status != "IN_PROGRESS" && p.status != "EXPIRED"
        var card: JSON = .null
        if approved {
            let acquire: String
            switch p.status {
            case "CANCELED": acquire = "CANCELED"
            case "ABORTED": acquire = "READY"
            default: acquire = "READY"
            }
            card = .fields([
                ("issuerCode", .string(p.card.issuerCode)),
                ("acquirerCode", .string(p.card.acquirerCode)),
                ("number", .string(p.card.masked)),
                ("installmentPlanMonths", .int(0)),
                ("isInterestFree", .bool(false)),
                ("interestPayer", .null),
                ("approveNo", .str(p.approveNo)),
                ("useCardPoint", .bool(false)),
                ("cardType", .string(p.card.cardType)),
                ("ownerType", .string(p.card.ownerType)),
                ("acquireStatus", .string(acquire)),
                ("amount", .int64(p.totalAmount)),
            ])
        }
        let cancels: JSON = p.cancels.isEmpty ? .null : .array(p.cancels.map(cancel))
        let failure: JSON = p.failure.map { .fields([("code", .string($0.code)), ("message", .string($0.message))]) } ?? .null
        let receiptURL = "\(publicURL)/receipt/\(URLCoding.encodeComponent(p.paymentKey))"
        let receipt: JSON = approved && p.status != "ABORTED" ? .fields([("url", .string(receiptURL))]) : .null
        let checkout: JSON = .fields([("url", .string("\(publicURL)/v1/payments/\(URLCoding.encodeComponent(p.paymentKey))/checkout"))])
        return .fields([
            ("mId", .string(mId)),
            ("lastTransactionKey", .str(p.lastTransactionKey)),
            ("paymentKey", .string(p.paymentKey)),
            ("orderId", .string(p.orderId)),
            ("orderName", .string(p.orderName)),
            ("taxExemptionAmount", .int(0)),
            ("status", .string(p.status)),
            ("requestedAt", .string(TossTime.format(p.requestedAt))),
            ("approvedAt", p.approvedAt.map { .string(TossTime.format($0)) } ?? .null),
            ("useEscrow", .bool(false)),
            ("cultureExpense", .bool(false)),
            ("card", card),
            ("virtualAccount", .null),
            ("transfer", .null),
            ("mobilePhone", .null),
            ("giftCertificate", .null),
            ("cashReceipt", .null),
            ("cashReceipts", .null),
            ("discount", .null),
            ("cancels", cancels),
            ("secret", .null),
            ("type", .string(p.type)),
            ("easyPay", .null),
            ("country", .string("KR")),
            ("failure", failure),
            ("isPartialCancelable", .bool(true)),
            ("receipt", receipt),
            ("checkout", checkout),
            ("currency", .string("KRW")),
            ("totalAmount", .int64(p.totalAmount)),
            ("balanceAmount", .int64(p.balanceAmount)),
            ("suppliedAmount", .int64(p.balanceAmount - vat)),
            ("vat", .int64(vat)),
            ("taxFreeAmount", .int(0)),
            ("metadata", .null),
            ("method", .string("카드")),
            ("version", .string("2022-11-16")),
        ])
    }

    func cancel(_ c: CancelRecord) -> JSON {
        .fields([
            ("transactionKey", .string(c.transactionKey)),
            ("cancelReason", .string(c.cancelReason)),
            ("taxExemptionAmount", .int(0)),
            ("canceledAt", .string(TossTime.format(c.canceledAt))),
            ("transferDiscountAmount", .int(0)),
            ("easyPayDiscountAmount", .int(0)),
            ("receiptKey", .null),
            ("cardDiscountAmount", .int(0)),
            ("cancelAmount", .int64(c.cancelAmount)),
            ("taxFreeAmount", .int(0)),
            ("refundableAmount", .int64(c.refundableAmount)),
            ("cancelStatus", .string("DONE")),
            ("cancelRequestId", .null),
        ])
    }

    func billing(_ b: BillingKeyRecord) -> JSON {
        .fields([
            ("mId", .string(mId)),
            ("customerKey", .string(b.customerKey)),
            ("authenticatedAt", .string(TossTime.format(b.authenticatedAt))),
            ("method", .string("카드")),
            ("billingKey", .string(b.billingKey)),
            ("card", .fields([
                ("issuerCode", .string(b.card.issuerCode)),
                ("acquirerCode", .string(b.card.acquirerCode)),
                ("number", .string(b.card.masked)),
                ("cardType", .string(b.card.cardType)),
                ("ownerType", .string(b.card.ownerType)),
            ])),
            ("cardCompany", .string(b.card.company)),
            ("cardNumber", .string(b.card.masked)),
        ])
    }

    /// Compact summary for the control API (`/sandbox/payments`).
    func summary(_ p: PaymentRecord) -> JSON {
        .fields([
            ("seq", .num(p.seq)),
            ("paymentKey", .string(p.paymentKey)),
            ("orderId", .string(p.orderId)),
            ("orderName", .string(p.orderName)),
            ("type", .string(p.type)),
            ("status", .string(p.status)),
            ("approved", .bool(p.wasApproved)),
            ("customerKey", .str(p.customerKey)),
            ("billingKey", .str(p.billingKey)),
            ("cardNumber", .string(p.card.masked)),
            ("totalAmount", .int64(p.totalAmount)),
            ("balanceAmount", .int64(p.balanceAmount)),
            ("requestedAt", .string(TossTime.format(p.requestedAt))),
            ("approvedAt", p.approvedAt.map { .string(TossTime.format($0)) } ?? .null),
            ("cancelCount", .num(p.cancels.count)),
            ("failure", failure(p)),
        ])
    }

    private func failure(_ p: PaymentRecord) -> JSON {
        p.failure.map { .fields([("code", .string($0.code)), ("message", .string($0.message))]) } ?? .null
    }
}
