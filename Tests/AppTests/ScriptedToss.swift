import Foundation
import Toss
import Web

/// An in-memory Toss for the billing-service tests: it keeps a ledger of approvals and refunds, answers confirm, billing
/// charge, lookups and cancel in Toss's wire format, and can be told to lose answers or refuse lookups.
final class ScriptedToss: HTTPClient, @unchecked Sendable {
    struct Record {
        var paymentKey: String
        var orderID: String
        var customerKey: String?
        var amount: Int
        var balance: Int
        var status: String
    }

    enum Fault {
        /// The request runs, but its answer is lost (Toss approved, gudok never heard).
        case loseAnswerAfterApplying
        /// Nothing runs; the connection times out.
        case timeOutBeforeApplying
        case refuse(status: Int, code: String)
    }

    private let lock = NSLock()
    private var records: [String: Record] = [:]  // by order id
    private var billingKeys: [String: String] = [:]  // billing key → customer key
    private(set) var calls: [(method: String, path: String)] = []
    /// Consulted for every request: (method, path) → a fault, or nil to answer normally.
    var fault: (String, String) -> Fault? = { _, _ in nil }

    func send(_ request: OutboundRequest) throws(HTTPClientError) -> OutboundResponse {
        let path = String(request.url.drop { $0 != "/" }.dropFirst(2).drop { $0 != "/" })  // strip "http://host"
        let body = request.body.flatMap { try? JSON.parse($0) }?.objectValue ?? [:]
        lock.lock()
        calls.append((request.method, path))
        let injected = fault(request.method, path)
        lock.unlock()
        switch injected {
        case .timeOutBeforeApplying?: throw .timedOut(afterSending: true)
        case .refuse(let status, let code)?: return Self.error(status, code)
        case .loseAnswerAfterApplying?:
            _ = answer(request.method, path, body)
            throw .timedOut(afterSending: true)
        case nil:
            return answer(request.method, path, body)
        }
    }

    /// What Toss holds approved, net of refunds, for orders whose id passes `filter`.
    func heldNet(_ filter: (String) -> Bool = { _ in true }) -> Int {
        lock.lock()
        defer { lock.unlock() }
        return records.values.filter { filter($0.orderID) && $0.status != "ABORTED" }.reduce(0) { $0 + $1.balance }
    }

    func approvals() -> [Record] {
        lock.lock()
        defer { lock.unlock() }
        return Array(records.values)
    }

    func count(_ method: String, _ prefix: String) -> Int {
        lock.lock()
        defer { lock.unlock() }
        return calls.filter { $0.method == method && $0.path.hasPrefix(prefix) }.count
    }

    /// Approves an order the way the payment window would have before confirm (for tests that need a paymentKey).
    static func paymentKey(for orderID: String) -> String { "pk_" + orderID }

    private func answer(_ method: String, _ path: String, _ body: JSONObject) -> OutboundResponse {
        lock.lock()
        defer { lock.unlock() }
        switch (method, path) {
        case ("POST", "/v1/payments/confirm"):
            guard let orderID = body["orderId"]?.stringValue, let key = body["paymentKey"]?.stringValue else { return Self.error(400, "INVALID_REQUEST") }
            if records[orderID] != nil { return Self.error(400, "ALREADY_PROCESSED_PAYMENT") }
            let amount = body["amount"]?.intValue ?? Int(body["amount"]?.stringValue ?? "") ?? 0
            records[orderID] = Record(paymentKey: key, orderID: orderID, customerKey: nil, amount: amount, balance: amount, status: "DONE")
            return Self.payment(records[orderID]!)
        case ("POST", "/v1/billing/authorizations/issue"):
            let customerKey = body["customerKey"]?.stringValue ?? ""
            let billingKey = "bk_" + (body["authKey"]?.stringValue ?? UUID().uuidString)
            billingKeys[billingKey] = customerKey
            return Self.json(200, ["mId": "tvivarepublica", "customerKey": .string(customerKey), "billingKey": .string(billingKey),
                                   "card": ["issuerCode": "61", "number": "43301234****123*", "cardType": "신용", "ownerType": "개인"]])
        case ("GET", _) where path.hasPrefix("/v1/payments/orders/"):
            let orderID = String(path.dropFirst("/v1/payments/orders/".count))
            guard let record = records[orderID] else { return Self.error(404, "NOT_FOUND_PAYMENT") }
            return Self.payment(record)
        case ("POST", _) where path.hasPrefix("/v1/payments/") && path.hasSuffix("/cancel"):
            let key = String(path.dropFirst("/v1/payments/".count).dropLast("/cancel".count))
            guard let orderID = records.values.first(where: { $0.paymentKey == key })?.orderID else { return Self.error(404, "NOT_FOUND_PAYMENT") }
            guard records[orderID]!.balance > 0 else { return Self.error(400, "ALREADY_CANCELED_PAYMENT") }
            records[orderID]!.balance = 0
            records[orderID]!.status = "CANCELED"
            return Self.payment(records[orderID]!)
        case ("GET", _) where path.hasPrefix("/v1/payments/"):
            let key = String(path.dropFirst("/v1/payments/".count))
            guard let record = records.values.first(where: { $0.paymentKey == key }) else { return Self.error(404, "NOT_FOUND_PAYMENT") }
            return Self.payment(record)
        case ("POST", _) where path.hasPrefix("/v1/billing/"):
            guard let orderID = body["orderId"]?.stringValue else { return Self.error(400, "INVALID_REQUEST") }
            if let existing = records[orderID] { return Self.payment(existing) }  // the order id is the idempotency key
            let amount = body["amount"]?.intValue ?? 0
            records[orderID] = Record(paymentKey: "pk_" + orderID, orderID: orderID, customerKey: body["customerKey"]?.stringValue, amount: amount,
                                      balance: amount, status: "DONE")
            return Self.payment(records[orderID]!)
        default:
            return Self.error(404, "NOT_FOUND")
        }
    }

    private static func payment(_ record: Record) -> OutboundResponse {
        json(200, ["paymentKey": .string(record.paymentKey), "orderId": .string(record.orderID), "orderName": "구독", "status": .string(record.status),
                   "method": "카드", "totalAmount": .int(record.amount), "balanceAmount": .int(record.balance),
                   "vat": .int((record.balance + 5) / 11), "suppliedAmount": .int(record.balance - (record.balance + 5) / 11),
                   "approvedAt": "2026-01-31T09:00:00+09:00", "receipt": ["url": .string("https://toss.test/receipt/\(record.paymentKey)")]])
    }

    private static func error(_ status: Int, _ code: String) -> OutboundResponse {
        json(status, ["code": .string(code), "message": .string(code)])
    }

    private static func json(_ status: Int, _ value: JSON) -> OutboundResponse {
        OutboundResponse(status: status, headers: ["content-type": "application/json"], body: value.serializedBytes())
    }
}
