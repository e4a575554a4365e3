import Foundation
import XCTest
@testable import Toss

/// The libcurl transport against a real loopback socket.
final class CurlHTTPClientTests: XCTestCase {
    private let okBody = #"{"ok":true}"#

    private func server(_ script: @escaping @Sendable (LoopbackServer.Request) -> LoopbackServer.Action) throws -> LoopbackServer {
        let server = try LoopbackServer(script: script)
        addTeardownBlock { server.stop() }
        return server
    }

    private func request(_ url: String, method: String = "POST", body: String? = "{}", timeout: Double = 5,
                         connectTimeout: Double = 2) -> OutboundRequest {
        OutboundRequest(method: method, url: url,
                        headers: [("Authorization", "Basic abc"), ("Content-Type", "application/json"),
                                  ("Idempotency-Key", "idem-1")],
                        body: body.map { Array($0.utf8) }, timeout: timeout, connectTimeout: connectTimeout)
    }

    func testNormalAnswer() throws {
        let okBody = okBody
        let server = try server { _ in .respond(status: 201, body: okBody) }
        let response = try CurlHTTPClient().send(request(server.baseURL + "/v1/payments/confirm", body: #"{"amount":1}"#))
        XCTAssertEqual(response.status, 201)
        XCTAssertEqual(String(decoding: response.body, as: UTF8.self), okBody)
        XCTAssertEqual(response.headers["content-type"], "application/json")
        XCTAssertEqual(response.headers["x-test"], "one, two")

        let seen = try XCTUnwrap(server.requests.first)
        XCTAssertEqual(seen.method, "POST")
        XCTAssertEqual(seen.target, "/v1/payments/confirm")
        XCTAssertEqual(String(decoding: seen.body, as: UTF8.self), #"{"amount":1}"#)
        XCTAssertEqual(seen.headers["authorization"], "Basic abc")
        XCTAssertEqual(seen.headers["idempotency-key"], "idem-1")
        XCTAssertEqual(seen.headers["content-type"], "application/json")
        XCTAssertNil(seen.headers["expect"])
    }

    func testErrorStatusesAreResponsesNotThrows() throws {
        let server = try server { _ in .respond(status: 503, body: "<html>down</html>") }
        let response = try CurlHTTPClient().send(request(server.baseURL + "/v1/payments/x", method: "GET", body: nil))
        XCTAssertEqual(response.status, 503)
    }

    func testGetAndDeleteSendNoBody() throws {
        let server = try server { _ in .respond(status: 200, body: "") }
        let client = CurlHTTPClient()
        _ = try client.send(request(server.baseURL + "/v1/payments/a%2Fb", method: "GET", body: nil))
        let deleted = try client.send(request(server.baseURL + "/v1/billing/k%3D", method: "DELETE", body: nil))
        XCTAssertEqual(deleted.status, 200)
        XCTAssertEqual(deleted.body, [])
        XCTAssertEqual(server.requests.map(\.method), ["GET", "DELETE"])
        XCTAssertEqual(server.requests.map(\.target), ["/v1/payments/a%2Fb", "/v1/billing/k%3D"])
        XCTAssertEqual(server.requests.map(\.body), [[], []])
    }

    func testHeldAnswerTimesOutAfterSending() throws {
        let server = try server { _ in .respondAfter(seconds: 2, status: 200, body: "{}") }
        let started = Date()
        XCTAssertThrowsError(try CurlHTTPClient().send(request(server.baseURL + "/v1/billing/k", timeout: 0.3))) { error in
            XCTAssertEqual(error as? HTTPClientError, .timedOut(afterSending: true))
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 1.5)
        XCTAssertEqual(server.requests.count, 1, "the server did receive the request")
    }

    func testConnectionClosedAfterTheRequestIsLostAfterSending() throws {
        let server = try server { _ in .closeWithoutAnswer }
        XCTAssertThrowsError(try CurlHTTPClient().send(request(server.baseURL + "/v1/payments/confirm"))) { error in
            XCTAssertEqual(error as? HTTPClientError, .connectionLost(afterSending: true))
        }
    }

    func testClosedPortCouldNotConnect() throws {
        let port = try LoopbackServer.closedPort()
        XCTAssertThrowsError(try CurlHTTPClient().send(request("http://127.0.0.1:\(port)/v1/payments/confirm"))) { error in
            guard case .couldNotConnect(let detail) = error as? HTTPClientError else {
                return XCTFail("expected couldNotConnect, got \(error)")
            }
            XCTAssertFalse(detail.contains("/v1/"), "the detail names no path: \(detail)")
        }
    }

    func testConnectTimeoutIsCouldNotConnect() throws {
        let listener = try StalledListener()
        defer { listener.close() }
        let started = Date()
        XCTAssertThrowsError(try CurlHTTPClient().send(request("http://127.0.0.1:\(listener.port)/v1/payments/confirm",
                                                               timeout: 5, connectTimeout: 0.3))) { error in
            guard case .couldNotConnect(let detail) = error as? HTTPClientError else {
                return XCTFail("expected couldNotConnect, got \(error)")
            }
            XCTAssertTrue(detail.hasPrefix("connect timed out"), detail)
        }
        XCTAssertGreaterThan(Date().timeIntervalSince(started), 0.25)
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
    }

    func testHeaderWithLineBreakIsRefusedBeforeSending() throws {
        let server = try server { _ in .respond(status: 200, body: "{}") }
        var smuggling = request(server.baseURL + "/v1/payments/confirm")
        smuggling.headers.append(("Idempotency-Key", "k\r\nX-Evil: 1"))
        XCTAssertThrowsError(try CurlHTTPClient().send(smuggling)) { error in
            guard case .other = error as? HTTPClientError else { return XCTFail("expected other, got \(error)") }
        }
        XCTAssertEqual(server.requests.count, 0)
    }

    func testTwoCallsFromOneThreadShareOneConnection() throws {
        let okBody = okBody
        let server = try server { _ in .respond(status: 200, body: okBody) }
        let client = CurlHTTPClient()
        _ = try client.send(request(server.baseURL + "/v1/payments/confirm"))
        _ = try client.send(request(server.baseURL + "/v1/payments/p", method: "GET", body: nil))
        XCTAssertEqual(server.requests.count, 2)
        XCTAssertEqual(server.connectionCount, 1)
    }

    /// libcurl resends once on a fresh connection when a reused one dies without a byte of answer
    /// (the server may have closed an idle connection); the result still says "sent".
    func testReusedConnectionDyingAfterTheRequestIsLostAfterSending() throws {
        let okBody = okBody
        let server = try server { request in
            request.target == "/first" ? .respond(status: 200, body: okBody) : .closeWithoutAnswer
        }
        let client = CurlHTTPClient()
        _ = try client.send(request(server.baseURL + "/first"))
        XCTAssertThrowsError(try client.send(request(server.baseURL + "/second"))) { error in
            XCTAssertEqual(error as? HTTPClientError, .connectionLost(afterSending: true))
        }
        XCTAssertEqual(server.requests.map(\.target), ["/first", "/second", "/second"])
        XCTAssertEqual(server.connectionCount, 2)
    }

    func testManyThreadsAtOnce() throws {
        let okBody = okBody
        let server = try server { request in .respond(status: 200, body: request.target.hasSuffix("/7") ? "{}" : okBody) }
        let client = CurlHTTPClient()
        let failures = LockedCounter()
        let threads = 8
        let callsPerThread = 5
        let base = server.baseURL
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for call in 0..<callsPerThread {
                let url = base + "/v1/payments/\(thread * callsPerThread + call)"
                do {
                    let response = try client.send(OutboundRequest(method: "GET", url: url, timeout: 5, connectTimeout: 2))
                    if response.status != 200 { failures.increment() }
                } catch {
                    failures.increment()
                }
            }
        }
        XCTAssertEqual(failures.value, 0)
        XCTAssertEqual(server.requests.count, threads * callsPerThread)
        XCTAssertLessThanOrEqual(server.connectionCount, threads, "handles (and their connections) are reused")
    }

    /// End to end through `TossClient`: a billing charge whose answer never comes is ambiguous.
    func testTossClientChargeTimeoutIsAmbiguous() throws {
        let server = try server { _ in .respondAfter(seconds: 2, status: 200, body: Fixtures.billingChargeDone) }
        let toss = TossClient(configuration: TossConfiguration(
            baseURL: server.baseURL + "/v1", secretKey: "test_sk_secret",
            timeouts: TossTimeouts(connect: 1, billingCharge: 0.3)))
        XCTAssertThrowsError(try toss.chargeBillingKey(
            Fixtures.billingKey, customerKey: "cus_1", amount: 4900, orderId: "sub-1-p1-a1", orderName: "플랜",
            customerEmail: nil, customerName: nil, idempotencyKey: "sub-1-p1-a1")) { error in
            let toss = error as? TossError
            XCTAssertEqual(toss?.kind, .ambiguous)
            XCTAssertEqual(toss?.code, "PG_TIMEOUT")
            XCTAssertFalse("\(error)".contains("Z_t5v"), "\(error)")
        }
        let seen = try XCTUnwrap(server.requests.first)
        XCTAssertEqual(seen.target, "/v1/billing/Z_t5vOvQxrj4499PeiJcjen28-V2RyqgYTwN44Rdzk0%3D")
        XCTAssertEqual(seen.headers["authorization"], "Basic dGVzdF9za19zZWNyZXQ6")
        XCTAssertEqual(seen.headers["idempotency-key"], "sub-1-p1-a1")
    }

    func testTossClientOverCurlReadsPaymentsAndEmptyDeletes() throws {
        let server = try server { request in
            request.method == "DELETE" ? .respond(status: 200, body: "") : .respond(status: 200, body: Fixtures.billingChargeDone)
        }
        let toss = TossClient(configuration: TossConfiguration(baseURL: server.baseURL + "/v1", secretKey: "test_sk_x"))
        let payment = try toss.payment(orderId: "MC4wODU4ODQwMzg4NDk0")
        XCTAssertEqual(payment.card?.company, "현대")
        try toss.deleteBillingKey(Fixtures.billingKey)
        XCTAssertEqual(server.requests.map(\.target), ["/v1/payments/orders/MC4wODU4ODQwMzg4NDk0",
                                                       "/v1/billing/Z_t5vOvQxrj4499PeiJcjen28-V2RyqgYTwN44Rdzk0%3D"])
    }
}

final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
