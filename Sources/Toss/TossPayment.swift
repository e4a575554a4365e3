import Foundation
import JSON

/// The fields of Toss's Payment object that gudok uses; everything else in the JSON is ignored.
public struct TossPayment: Sendable, Equatable {
    public var paymentKey: String
    public var orderId: String
    public var orderName: String
    /// READY, IN_PROGRESS, WAITING_FOR_DEPOSIT, DONE, CANCELED, PARTIAL_CANCELED, ABORTED, EXPIRED.
    public var status: String
    /// NORMAL, BILLING, BRANDPAY.
    public var type: String?
    /// Korean, e.g. "카드", "간편결제".
    public var method: String?
    public var totalAmount: Int
    /// What is left to cancel.
    public var balanceAmount: Int
    public var requestedAt: String?
    public var approvedAt: String?
    public var lastTransactionKey: String?
    public var card: TossCard?
    public var receiptURL: String?
    public var cancels: [TossCancel]
    public var failure: TossFailure?
    /// Toss's VAT split of the balance: `vat = round((amount − taxFreeAmount) ÷ 11)`, `suppliedAmount` the rest.
    public var vat: Int?
    public var suppliedAmount: Int?

    public init(paymentKey: String, orderId: String, orderName: String, status: String, type: String? = nil,
                method: String? = nil, totalAmount: Int, balanceAmount: Int, requestedAt: String? = nil,
                approvedAt: String? = nil, lastTransactionKey: String? = nil, card: TossCard? = nil,
                receiptURL: String? = nil, cancels: [TossCancel] = [], failure: TossFailure? = nil, vat: Int? = nil,
                suppliedAmount: Int? = nil) {
        self.paymentKey = paymentKey
        self.orderId = orderId
        self.orderName = orderName
        self.status = status
        self.type = type
        self.method = method
        self.totalAmount = totalAmount
        self.balanceAmount = balanceAmount
        self.requestedAt = requestedAt
        self.approvedAt = approvedAt
        self.lastTransactionKey = lastTransactionKey
        self.card = card
        self.receiptURL = receiptURL
        self.cancels = cancels
        self.failure = failure
        self.vat = vat
        self.suppliedAmount = suppliedAmount
    }

    /// Reads a Payment object, e.g. the `data` of a PAYMENT_STATUS_CHANGED webhook. `paymentKey`,
    /// `orderId`, `status` and `totalAmount` are required; an absent `balanceAmount` is the total
    /// less the cancels.
    public init(jsonObject: JSONObject) throws(TossError) {
        try self.init(JSONFields(jsonObject))
    }

    public init(json: [UInt8]) throws(TossError) {
        guard let fields = JSONFields(json: json) else { throw Self.unreadable("not a JSON object") }
        try self.init(fields)
    }

    init(_ fields: JSONFields) throws(TossError) {
        guard let paymentKey = fields.string("paymentKey") else { throw Self.unreadable("no paymentKey") }
        guard let orderId = fields.string("orderId") else { throw Self.unreadable("no orderId") }
        guard let status = fields.string("status") else { throw Self.unreadable("no status") }
        guard let totalAmount = fields.int("totalAmount") else { throw Self.unreadable("no totalAmount") }
        let cancels = fields.objects("cancels").compactMap(TossCancel.init)
        self.init(
            paymentKey: paymentKey, orderId: orderId, orderName: fields.string("orderName") ?? "", status: status,
            type: fields.string("type"), method: fields.string("method"), totalAmount: totalAmount,
            balanceAmount: fields.int("balanceAmount") ?? totalAmount - cancels.reduce(0) { $0 + $1.cancelAmount },
            requestedAt: fields.string("requestedAt"), approvedAt: fields.string("approvedAt"),
            lastTransactionKey: fields.string("lastTransactionKey"), card: fields.object("card").map(TossCard.init),
            receiptURL: fields.object("receipt")?.string("url"), cancels: cancels,
            failure: fields.object("failure").flatMap(TossFailure.init), vat: fields.int("vat"), suppliedAmount: fields.int("suppliedAmount"))
    }

    private static func unreadable(_ reason: String) -> TossError {
        TossError(code: TossError.Kind.invalidResponseCode, message: "unreadable Payment object: \(reason)",
                  httpStatus: nil)
    }
}

public struct TossCancel: Sendable, Equatable {
    public var cancelAmount: Int
    public var cancelReason: String
    public var canceledAt: String?
    public var transactionKey: String?
    /// "DONE" once the cancel went through.
    public var cancelStatus: String?

    public init(cancelAmount: Int, cancelReason: String, canceledAt: String? = nil, transactionKey: String? = nil,
                cancelStatus: String? = nil) {
        self.cancelAmount = cancelAmount
        self.cancelReason = cancelReason
        self.canceledAt = canceledAt
        self.transactionKey = transactionKey
        self.cancelStatus = cancelStatus
    }

    init?(_ fields: JSONFields) {
        guard let amount = fields.int("cancelAmount") else { return nil }
        self.init(cancelAmount: amount, cancelReason: fields.string("cancelReason") ?? "",
                  canceledAt: fields.string("canceledAt"), transactionKey: fields.string("transactionKey"),
                  cancelStatus: fields.string("cancelStatus"))
    }
}

/// Why a payment ended ABORTED (or a similar state): Toss's error code and message.
public struct TossFailure: Sendable, Equatable {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    init?(_ fields: JSONFields) {
        guard let code = fields.string("code") else { return nil }
        self.init(code: code, message: fields.string("message") ?? "")
    }
}
