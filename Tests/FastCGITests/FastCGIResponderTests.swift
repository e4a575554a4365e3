import Crypto
import Foundation
import XCTest
@testable import FastCGI
import Web
#if canImport(Glibc)
import Glibc
#endif

/// The FastCGI layer alone: a real `FastCGIServer` on a socket, driven by the test's FastCGI client, with an echoing
/// responder instead of the app.
final class FastCGIResponderTests: XCTestCase {
    private var server: InProcessServer!

    override func setUpWithError() throws { server = try InProcessServer(responder: echoResponder) }

    override func tearDown() {
        if let server { XCTAssertTrue(server.stop(), "the server did not stop within 40 s") }
        server = nil
    }

    private func echo(_ response: FastCGIResponse, file: StaticString = #filePath, line: UInt = #line) -> JSON {
        XCTAssertEqual(response.status, 200, response.text, file: file, line: line)
        guard let json = response.json else {
            XCTFail("not JSON: \(response.text)", file: file, line: line)
            return .null
        }
        return json
    }

    func testPlainGetIsAnswered() throws {
        let response = try FastCGIClient.get(server.address, "/hello")
        let json = echo(response)
        XCTAssertEqual(json["method"], "GET")
        XCTAssertEqual(json["path"], "/hello")
        XCTAssertEqual(response.header("Content-Type"), "application/json; charset=utf-8")
        XCTAssertEqual(response.header("X-Echo"), "1")
        XCTAssertEqual(response.header("Content-Length"), String(response.body.count))
        XCTAssertEqual(response.protocolStatus, 0, "FCGI_REQUEST_COMPLETE")
        XCTAssertEqual(response.appStatus, 0)
        XCTAssertTrue(response.stderr.isEmpty, String(decoding: response.stderr, as: UTF8.self))
    }

    func testRequestURIAndQueryStringAreSplitAndDecoded() throws {
        let json = echo(try FastCGIClient.get(server.address, "/api/%EA%B5%AC%EB%8F%85/a%20b+c?next=%2Faccount%3Ftab%3D1&q=a+b&q=%ED%95%9C&empty="))
        XCTAssertEqual(json["path"], "/api/구독/a b+c", "the path is percent-decoded; + stays + in a path")
        XCTAssertEqual(json["query"], [["next", "/account?tab=1"], ["q", "a b"], ["q", "한"], ["empty", ""]])
    }

    func testQueryIsTakenFromRequestURIWhenQueryStringIsAbsent() throws {
        let params = FastCGIWire.nginxParams(uri: "/p?x=1&y=2").filter { $0.0 != "QUERY_STRING" }
        let json = echo(try FastCGIClient.send(server.address, params: params))
        XCTAssertEqual(json["path"], "/p")
        XCTAssertEqual(json["query"], [["x", "1"], ["y", "2"]])
    }

    func testDocumentURIIsUsedWhenRequestURIIsAbsent() throws {
        let params = FastCGIWire.nginxParams(uri: "/doc?z=9").filter { $0.0 != "REQUEST_URI" }
        let json = echo(try FastCGIClient.send(server.address, params: params))
        XCTAssertEqual(json["path"], "/doc")
        XCTAssertEqual(json["query"], [["z", "9"]])
    }

    func testHTTPSOnMarksTheRequestSecure() throws {
        let json = echo(try FastCGIClient.send(server.address, params: FastCGIWire.nginxParams(uri: "/", headers: [("Host", "localhost:8443")], https: true)))
        XCTAssertEqual(json["https"], true)
        XCTAssertEqual(json["origin"], "https://localhost:8443")
    }

    func testRequestSchemeHTTPSAloneMarksTheRequestSecure() throws {
        var params = FastCGIWire.nginxParams(uri: "/", https: true).filter { $0.0 != "HTTPS" }
        params.append(("HTTP_HOST", "billing.example.com"))
        XCTAssertEqual(echo(try FastCGIClient.send(server.address, params: params))["https"], true)
    }

    func testPlainHTTPIsNotSecure() throws {
        let json = echo(try FastCGIClient.get(server.address, "/", headers: [("Host", "localhost:8080")]))
        XCTAssertEqual(json["https"], false)
        XCTAssertEqual(json["origin"], "http://localhost:8080")
    }

    func testHostFallsBackToServerNameAndPort() throws {
        XCTAssertEqual(echo(try FastCGIClient.get(server.address, "/"))["host"], "localhost:8080")
    }

    func testRemoteAddressIsCopied() throws {
        let params = FastCGIWire.nginxParams(uri: "/", remoteAddress: "203.0.113.77")
        XCTAssertEqual(echo(try FastCGIClient.send(server.address, params: params))["remote_address"], "203.0.113.77")
    }

    func testHeadersBecomeLowerCaseDashedNames() throws {
        let json = echo(try FastCGIClient.get(server.address, "/", headers: [("X-CSRFToken", "tok.sig"), ("Cookie", "a=1; b=2"),
                                                                            ("Accept", "text/html"), ("X-Request-Id", "req-123")]))
        XCTAssertEqual(json["headers"]?["x-csrftoken"], "tok.sig")
        XCTAssertEqual(json["headers"]?["cookie"], "a=1; b=2")
        XCTAssertEqual(json["headers"]?["accept"], "text/html")
        XCTAssertNil(json["headers"]?["remote-addr"], "only HTTP_* params are headers")
    }

    func testContentTypeAndLengthBecomeHeaders() throws {
        let body = Array(#"{"a":1}"#.utf8)
        let params = FastCGIWire.nginxParams(method: "POST", uri: "/", bodyLength: body.count, contentType: "application/json")
        let json = echo(try FastCGIClient.send(server.address, params: params, body: body))
        XCTAssertEqual(json["headers"]?["content-type"], "application/json")
        XCTAssertEqual(json["headers"]?["content-length"], "7")
        XCTAssertEqual(json["body_length"], 7)
    }

    func testRequestIDFromTheWebServerIsKeptOtherwiseOneIsMade() throws {
        var params = FastCGIWire.nginxParams(uri: "/")
        params.append(("REQUEST_ID", "0123456789abcdef0123456789abcdef"))
        XCTAssertEqual(echo(try FastCGIClient.send(server.address, params: params))["request_id"], "0123456789abcdef0123456789abcdef")
        let made = echo(try FastCGIClient.get(server.address, "/"))["request_id"]?.stringValue ?? ""
        XCTAssertEqual(made.count, 16, "a generated request id: \(made)")
    }

    func testLongNamesAndValuesUseFourByteLengths() throws {
        let longValue = String(repeating: "v", count: 300) + "끝"
        let longName = "X-" + String(repeating: "N", count: 200)
        let json = echo(try FastCGIClient.get(server.address, "/", headers: [(longName, longValue), ("X-Short", "s")]))
        XCTAssertEqual(json["headers"]?[longName.lowercased()], .string(longValue))
        XCTAssertEqual(json["headers"]?["x-short"], "s")
    }

    func testLengthsAtTheOneToFourByteBoundary() throws {
        for count in [126, 127, 128, 129] {
            let value = String(repeating: "b", count: count)
            let json = echo(try FastCGIClient.get(server.address, "/", headers: [("X-Boundary", value)]))
            XCTAssertEqual(json["headers"]?["x-boundary"]?.stringValue?.count, count)
        }
    }

    func testParamsSplitAcrossManySmallRecordsAreJoined() throws {
        let connection = try FastCGIConnection(address: server.address)
        let params = FastCGIWire.nginxParams(uri: "/split?k=v", headers: [("X-Long", String(repeating: "L", count: 1000))])
        try connection.send(FastCGIWire.beginRequest() + FastCGIWire.params(params, chunkSize: 7) + FastCGIWire.stream(.stdin, []))
        let json = echo(try connection.readResponse())
        XCTAssertEqual(json["path"], "/split")
        XCTAssertEqual(json["headers"]?["x-long"]?.stringValue?.count, 1000)
    }

    func testBodyIsAssembledFromSeveralStdinRecords() throws {
        let body = (0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        let params = FastCGIWire.nginxParams(method: "POST", uri: "/upload", bodyLength: body.count, contentType: "application/octet-stream")
        for chunkSize in [1000, 4096, 65_535] {
            let json = echo(try FastCGIClient.send(server.address, params: params, body: body, chunkSize: chunkSize))
            XCTAssertEqual(json["body_length"], .int(body.count), "chunk size \(chunkSize)")
            XCTAssertEqual(json["body_sha256"], .string(Crypto.hex(Crypto.sha256(body))), "chunk size \(chunkSize)")
        }
    }

    func testBodyArrivingSlowlyInPiecesIsWaitedFor() throws {
        let body = Array("username=kim&password=secret123".utf8)
        let connection = try FastCGIConnection(address: server.address)
        try connection.send(FastCGIWire.beginRequest()
            + FastCGIWire.params(FastCGIWire.nginxParams(method: "POST", uri: "/", bodyLength: body.count)))
        for piece in stride(from: 0, to: body.count, by: 10) {
            try connection.send(FastCGIWire.record(.stdin, content: Array(body[piece..<min(piece + 10, body.count)])))
            usleep(30_000)
        }
        try connection.send(FastCGIWire.record(.stdin))
        XCTAssertEqual(echo(try connection.readResponse())["body_sha256"], .string(Crypto.hex(Crypto.sha256(body))))
    }

    func testBodyWithoutContentLengthIsReadToTheEndOfStdin() throws {
        let body = Array(repeating: UInt8(ascii: "x"), count: 20_000)
        let json = echo(try FastCGIClient.send(server.address, params: FastCGIWire.nginxParams(method: "POST", uri: "/"), body: body))
        XCTAssertEqual(json["body_length"], 20_000)
    }

    func testBodyOfExactlySixtyFourKiBIsAccepted() throws {
        let body = [UInt8](repeating: 0x41, count: 64 * 1024)
        let params = FastCGIWire.nginxParams(method: "POST", uri: "/", bodyLength: body.count)
        XCTAssertEqual(echo(try FastCGIClient.send(server.address, params: params, body: body))["body_length"], .int(64 * 1024))
    }

    func testDeclaredBodyOverSixtyFourKiBIsRefusedWith413JSON() throws {
        let body = [UInt8](repeating: 0x41, count: 64 * 1024 + 1)
        let params = FastCGIWire.nginxParams(method: "POST", uri: "/", bodyLength: body.count, contentType: "application/json")
        let response = try FastCGIClient.send(server.address, params: params, body: body)
        XCTAssertEqual(response.status, 413, response.text)
        XCTAssertEqual(response.header("Content-Type"), "application/json; charset=utf-8")
        XCTAssertEqual(response.json?["code"], "PAYLOAD_TOO_LARGE", response.text)
        XCTAssertNotNil(response.json?["message"]?.stringValue, response.text)
    }

    func testUndeclaredBodyOverSixtyFourKiBIsRefusedWith413JSON() throws {
        let body = [UInt8](repeating: 0x41, count: 200 * 1024)
        let response = try FastCGIClient.send(server.address, params: FastCGIWire.nginxParams(method: "POST", uri: "/"), body: body)
        XCTAssertEqual(response.status, 413, response.text)
        XCTAssertEqual(response.json?["code"], "PAYLOAD_TOO_LARGE", response.text)
    }

    func testBodyLongerThanItsContentLengthIsCutAtTheDeclaredLength() throws {
        let body = Array("0123456789abcdef".utf8)
        let params = FastCGIWire.nginxParams(method: "POST", uri: "/", bodyLength: 10)
        let json = echo(try FastCGIClient.send(server.address, params: params, body: body))
        XCTAssertEqual(json["body_sha256"], .string(Crypto.hex(Crypto.sha256(Array(body.prefix(10))))))
    }

    func testServerStillAnswersAfterRefusingABody() throws {
        _ = try FastCGIClient.send(server.address, params: FastCGIWire.nginxParams(method: "POST", uri: "/", bodyLength: 1 << 20),
                                   body: [UInt8](repeating: 1, count: 1 << 20))
        XCTAssertEqual(try FastCGIClient.get(server.address, "/after").status, 200)
    }

    func testHeadAnswersHeadersWithoutBody() throws {
        let response = try FastCGIClient.send(server.address, params: FastCGIWire.nginxParams(method: "HEAD", uri: "/big?bytes=5000"))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body.count, 0, "HEAD must not carry a body")
        XCTAssertEqual(response.header("Content-Length"), "5000")
    }

    func testLargeResponseArrivesWhole() throws {
        let response = try FastCGIClient.get(server.address, "/big?bytes=1000000")
        XCTAssertEqual(response.body.count, 1_000_000)
        XCTAssertEqual(response.body, (0..<1_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
    }

    func testSixtyFourConcurrentRequestsOnSeparateConnectionsAreAllAnsweredCorrectly() throws {
        let results = Locked<[Int: String]>([:])
        let failures = Locked<[String]>([])
        runConcurrently(64) { [address = server.address] index in
            do {
                let response = try FastCGIClient.get(address, "/slow?ms=50&n=\(index)", headers: [("X-Marker", "marker-\(index)")])
                let marker = response.json?["headers"]?["x-marker"]?.stringValue ?? "none: \(response.status) \(response.text)"
                let n = response.json?["query"]?.arrayValue?.last?.arrayValue?.last?.stringValue ?? "?"
                results.withValue { $0[index] = marker + "/" + n }
            } catch {
                failures.withValue { $0.append("request \(index): \(error)") }
            }
        }
        XCTAssertEqual(failures.current, [])
        let answers = results.current
        XCTAssertEqual(answers.count, 64)
        for index in 0..<64 {
            XCTAssertEqual(answers[index], "marker-\(index)/\(index)", "request \(index) got another request's answer")
        }
    }

    func testKeepConnectionServesSeveralRequestsOnOneConnection() throws {
        let connection = try FastCGIConnection(address: server.address)
        for id in UInt16(1)...3 {
            try connection.send(FastCGIWire.beginRequest(requestID: id, keepConnection: true)
                + FastCGIWire.params(requestID: id, FastCGIWire.nginxParams(uri: "/keep/\(id)")) + FastCGIWire.stream(.stdin, requestID: id, []))
            XCTAssertEqual(echo(try connection.readResponse(requestID: id))["path"], .string("/keep/\(id)"))
        }
    }

    func testStopWaitsForARequestInFlight() throws {
        let connection = try FastCGIConnection(address: server.address)
        try connection.send(FastCGIWire.beginRequest() + FastCGIWire.params(FastCGIWire.nginxParams(uri: "/slow?ms=700"))
            + FastCGIWire.stream(.stdin, []))
        usleep(200_000)
        let stopped = DispatchSemaphore(value: 0)
        let stopResult = Locked<(Bool, Date)?>(nil)
        let stopper = Thread { [server] in
            let ok = server!.stop()
            stopResult.withValue { $0 = (ok, Date()) }
            stopped.signal()
        }
        stopper.start()
        let response = try connection.readResponse()
        let answeredAt = Date()
        connection.shutdownWrite()
        XCTAssertEqual(response.status, 200, "the request in flight must complete: \(response.text)")
        XCTAssertEqual(stopped.wait(timeout: .now() + 10), .success, "run() must return once idle")
        XCTAssertEqual(stopResult.current?.0, true)
        if let returnedAt = stopResult.current?.1 {
            XCTAssertGreaterThanOrEqual(returnedAt.timeIntervalSince(answeredAt), -0.05, "run() returned before the request in flight was answered")
        }
        server = nil
    }
}

final class FastCGITCPTests: XCTestCase {
    func testServesOverTCPLoopback() throws {
        let server = try InProcessServer(unixSocket: false, threads: 4, responder: echoResponder)
        defer { XCTAssertTrue(server.stop()) }
        let response = try FastCGIClient.get(server.address, "/tcp?x=1")
        XCTAssertEqual(response.status, 200, response.text)
        XCTAssertEqual(response.json?["path"], "/tcp")
    }

    func testUnixSocketIsRemovedAfterStop() throws {
        let server = try InProcessServer(threads: 2, responder: echoResponder)
        guard case .unix(let path) = server.address else { return XCTFail("expected a unix socket") }
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))
        XCTAssertTrue(server.stop())
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "the socket file must be unlinked on stop")
    }
}
