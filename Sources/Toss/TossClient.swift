import Foundation

/// Typed calls to the Toss Payments core API (version 2022-11-16 objects). Blocking; safe to share
/// between threads. Every POST carries the caller's `Idempotency-Key`: retry a `.transient` or
/// `.ambiguous` failure with the same key and Toss replays the first answer instead of acting twice.
public final class TossClient: Sendable {
    public let configuration: TossConfiguration
    private let http: any HTTPClient
    private let authorization: String
    private let baseURL: String

    public init(configuration: TossConfiguration, http: any HTTPClient = CurlHTTPClient()) {
        self.configuration = configuration
        self.http = http
        authorization = Self.authorizationHeader(secretKey: configuration.secretKey)
        var base = configuration.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        baseURL = base
    }

    /// `Basic base64("{secretKey}:")`; the colon is the empty password and Toss requires it.
    static func authorizationHeader(secretKey: String) -> String {
        "Basic " + Data((secretKey + ":").utf8).base64EncodedString()
    }

    // MARK: Payments

    /// `POST /payments/confirm`: approves a payment the buyer authenticated in the payment window.
    public func confirmPayment(paymentKey: String, orderId: String, amount: Int,
                               idempotencyKey: String) throws(TossError) -> TossPayment {
        let response = try send("POST", "/payments/confirm",
                                body: ["paymentKey": .string(paymentKey), "orderId": .string(orderId), "amount": .int(amount)],
                                idempotencyKey: idempotencyKey, timeout: configuration.timeouts.confirm,
                                operation: "payment confirm")
        return try payment(from: response, operation: "payment confirm")
    }

    /// `GET /payments/{paymentKey}`.
    public func payment(paymentKey: String) throws(TossError) -> TossPayment {
        let path = try "/payments/" + segment(paymentKey, "paymentKey")
        let response = try send("GET", path, timeout: configuration.timeouts.lookup, operation: "payment lookup")
        return try payment(from: response, operation: "payment lookup")
    }

    /// `GET /payments/orders/{orderId}`: the way to settle an ambiguous confirm or charge.
    public func payment(orderId: String) throws(TossError) -> TossPayment {
        let path = try "/payments/orders/" + segment(orderId, "orderId")
        let response = try send("GET", path, timeout: configuration.timeouts.lookup, operation: "order lookup")
        return try payment(from: response, operation: "order lookup")
    }

    /// `POST /payments/{paymentKey}/cancel`; `amount` nil cancels the whole remaining balance.
    public func cancelPayment(paymentKey: String, reason: String, amount: Int?,
                              idempotencyKey: String) throws(TossError) -> TossPayment {
        let path = try "/payments/" + segment(paymentKey, "paymentKey") + "/cancel"
        var body: RequestBody = ["cancelReason": .string(reason)]
        if let amount { body["cancelAmount"] = .int(amount) }
        let response = try send("POST", path, body: body, idempotencyKey: idempotencyKey,
                                timeout: configuration.timeouts.cancel, operation: "payment cancel")
        return try payment(from: response, operation: "payment cancel")
    }

    // MARK: Billing

    /// `POST /billing/authorizations/issue`: trades the one-time `authKey` from the billing-auth
    /// redirect for a billing key. Store the key at once; Toss never shows it again.
    public func issueBillingKey(authKey: String, customerKey: String,
                                idempotencyKey: String) throws(TossError) -> TossBilling {
        let operation = "billing key issue"
        let response = try send("POST", "/billing/authorizations/issue",
                                body: ["authKey": .string(authKey), "customerKey": .string(customerKey)],
                                idempotencyKey: idempotencyKey, timeout: configuration.timeouts.confirm,
                                operation: operation)
        guard let fields = JSONFields(json: response.body), let billing = try? TossBilling(fields) else {
            throw TossError.unreadable("Billing object", status: response.status, operation: operation)
        }
        return billing
    }

    /// `POST /billing/{billingKey}`: charges the card. May take Toss up to 60 s.
    public func chargeBillingKey(_ billingKey: String, customerKey: String, amount: Int, orderId: String,
                                 orderName: String, customerEmail: String?, customerName: String?,
                                 idempotencyKey: String) throws(TossError) -> TossPayment {
        let path = try "/billing/" + segment(billingKey, "billingKey")
        var body: RequestBody = ["customerKey": .string(customerKey), "amount": .int(amount), "orderId": .string(orderId),
                                 "orderName": .string(orderName)]
        if let customerEmail { body["customerEmail"] = .string(customerEmail) }
        if let customerName { body["customerName"] = .string(customerName) }
        let response = try send("POST", path, body: body, idempotencyKey: idempotencyKey,
                                timeout: configuration.timeouts.billingCharge, operation: "billing charge")
        return try payment(from: response, operation: "billing charge")
    }

    /// `DELETE /billing/{billingKey}`; Toss answers 200 with an empty body.
    public func deleteBillingKey(_ billingKey: String) throws(TossError) {
        let path = try "/billing/" + segment(billingKey, "billingKey")
        _ = try send("DELETE", path, timeout: configuration.timeouts.cancel, operation: "billing key delete")
    }

    // MARK: Transport

    /// Sends one call; returns only 2xx answers and throws everything else as `TossError`.
    private func send(_ method: String, _ path: String, body: RequestBody? = nil, idempotencyKey: String? = nil,
                      timeout: Double, operation: String) throws(TossError) -> OutboundResponse {
        var headers = [("Authorization", authorization), ("Accept", "application/json"),
                       ("Content-Type", "application/json")]
        if let idempotencyKey { headers.append(("Idempotency-Key", idempotencyKey)) }
        let request = OutboundRequest(method: method, url: baseURL + path, headers: headers, body: body?.bytes,
                                      timeout: timeout, connectTimeout: configuration.timeouts.connect)
        let response: OutboundResponse
        do {
            response = try http.send(request)
        } catch {
            throw TossError(transport: error, operation: operation, timeout: timeout)
        }
        guard (200..<300).contains(response.status) else {
            throw TossError(status: response.status, body: response.body, operation: operation)
        }
        return response
    }

    private func payment(from response: OutboundResponse, operation: String) throws(TossError) -> TossPayment {
        guard let fields = JSONFields(json: response.body), let payment = try? TossPayment(fields) else {
            throw TossError.unreadable("Payment object", status: response.status, operation: operation)
        }
        return payment
    }

    private func segment(_ value: String, _ name: String) throws(TossError) -> String {
        guard !value.isEmpty else {
            throw TossError(kind: .invalidRequest, code: "INVALID_REQUEST", message: "\(name) is empty")
        }
        return PathSegment.encode(value)
    }
}
