import Foundation
import XCTest
@testable import Toss

/// One raw answer from the sandbox.
struct SandboxResponse {
    var status: Int
    /// Lowercased names.
    var headers: [String: String]
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    var object: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])) as? [String: Any] ?? [:]
    }

    var array: [[String: Any]] {
        (try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])) as? [[String: Any]] ?? []
    }

    /// `code` of a Toss error body.
    var code: String? { object["code"] as? String }
}

/// Raw HTTP to the sandbox (REST API and control endpoints) over `CurlHTTPClient`, bypassing `TossClient`.
final class SandboxHTTP: Sendable {
    static let secretKey = "test_sk_gudokSandboxTests"

    let baseURL: String
    private let http = CurlHTTPClient()

    init(baseURL: String) {
        self.baseURL = baseURL
    }

    static func basic(_ secretKey: String) -> String {
        "Basic " + Data((secretKey + ":").utf8).base64EncodedString()
    }

    /// Any request; `body` is sent as given (a `String`) or JSON-encoded (anything else).
    func send(_ method: String, _ path: String, headers: [(String, String)] = [], body: Any? = nil,
              timeout: Double = 15) throws -> SandboxResponse {
        var bytes: [UInt8]?
        var allHeaders = headers
        switch body {
        case nil: bytes = nil
        case let text as String: bytes = Array(text.utf8)
        case let raw as [UInt8]: bytes = raw
        case let value?:
            bytes = [UInt8](try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]))
            if !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
                allHeaders.append(("Content-Type", "application/json"))
            }
        }
        let request = OutboundRequest(method: method, url: baseURL + path, headers: allHeaders, body: bytes,
                                      timeout: timeout, connectTimeout: 5)
        let response = try http.send(request)
        return SandboxResponse(status: response.status, headers: response.headers, body: response.body)
    }

    /// A `/v1` call with `Authorization: Basic base64(secretKey:)` (nil: no Authorization header).
    func api(_ method: String, _ path: String, body: Any? = nil, secretKey: String? = SandboxHTTP.secretKey,
             idempotencyKey: String? = nil, headers: [(String, String)] = [], timeout: Double = 15) throws -> SandboxResponse {
        var all = headers
        if let secretKey { all.append(("Authorization", Self.basic(secretKey))) }
        if let idempotencyKey { all.append(("Idempotency-Key", idempotencyKey)) }
        return try send(method, path, headers: all, body: body, timeout: timeout)
    }

    // MARK: Control API

    func reset() throws {
        let response = try send("POST", "/sandbox/reset")
        guard response.status == 200 else { throw ControlFailure("reset: HTTP \(response.status) \(response.text)") }
    }

    /// What the card form does when the buyer pays: returns the paymentKey of an IN_PROGRESS payment.
    func authorizePayment(orderId: String, amount: Int, cardNumber: String = "4330123412341234",
                          orderName: String = "베이직 월간") throws -> String {
        let response = try send("POST", "/sandbox/payments/authorize",
                                body: ["orderId": orderId, "amount": amount, "orderName": orderName, "cardNumber": cardNumber])
        guard response.status == 200, let key = response.object["paymentKey"] as? String else {
            throw ControlFailure("authorize payment: HTTP \(response.status) \(response.text)")
        }
        return key
    }

    /// What the billing-auth card form does: returns a one-time authKey.
    func authorizeBilling(customerKey: String, cardNumber: String = "4330123412341234") throws -> String {
        let response = try send("POST", "/sandbox/billing/authorize",
                                body: ["customerKey": customerKey, "cardNumber": cardNumber])
        guard response.status == 200, let key = response.object["authKey"] as? String else {
            throw ControlFailure("authorize billing: HTTP \(response.status) \(response.text)")
        }
        return key
    }

    /// Adds a fault rule; returns its id.
    @discardableResult
    func addFault(_ rule: [String: Any]) throws -> String {
        let response = try send("POST", "/sandbox/faults", body: rule)
        guard response.status == 200, let id = response.object["id"] as? String else {
            throw ControlFailure("add fault: HTTP \(response.status) \(response.text)")
        }
        return id
    }

    func calls(_ query: String = "") throws -> [[String: Any]] {
        try send("GET", "/sandbox/calls" + (query.isEmpty ? "" : "?" + query)).array
    }

    /// Approved payments only.
    func charges(orderId: String) throws -> [[String: Any]] {
        try send("GET", "/sandbox/charges?orderId=" + Self.encode(orderId)).array
    }

    /// Every payment record.
    func payments(_ query: String) throws -> [[String: Any]] {
        try send("GET", "/sandbox/payments?" + query).array
    }

    func advanceClock(seconds: Int) throws {
        let response = try send("POST", "/sandbox/clock", body: ["advanceSeconds": seconds])
        guard response.status == 200 else { throw ControlFailure("clock: HTTP \(response.status) \(response.text)") }
    }

    static func encode(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? value
    }
}

struct ControlFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// JSON numbers from JSONSerialization come back as Int, Double or NSNumber depending on the platform.
func jsonInt(_ value: Any?) -> Int? {
    switch value {
    case let int as Int: return int
    case let double as Double: return Int(exactly: double)
    case let number as NSNumber: return number.intValue
    default: return nil
    }
}

func jsonBool(_ value: Any?) -> Bool? {
    switch value {
    case let bool as Bool: return bool
    case let number as NSNumber: return number.boolValue
    default: return nil
    }
}

/// A fresh, valid orderId (`[A-Za-z0-9_-]`, 6–64 chars).
func uniqueOrderId(_ tag: String) -> String {
    "\(tag)-\(UUID().uuidString.prefix(8).lowercased())"
}

/// Asserts that `body` throws a `Toss.TossError` of this kind and code; returns it for more checks.
@discardableResult
func assertTossError<T>(_ body: @autoclosure () throws -> T, kind: TossError.Kind, code: String,
                        httpStatus: Int?? = .none, _ message: String = "",
                        file: StaticString = #filePath, line: UInt = #line) -> TossError? {
    do {
        let value = try body()
        XCTFail("expected \(kind) \(code), got a result: \(value) \(message)", file: file, line: line)
        return nil
    } catch let error as TossError {
        XCTAssertEqual(error.code, code, "code (\(error)) \(message)", file: file, line: line)
        XCTAssertEqual(error.kind, kind, "kind (\(error)) \(message)", file: file, line: line)
        if case .some(let status) = httpStatus {
            XCTAssertEqual(error.httpStatus, status, "httpStatus (\(error)) \(message)", file: file, line: line)
        }
        return error
    } catch {
        XCTFail("expected a TossError, got \(error) \(message)", file: file, line: line)
        return nil
    }
}
