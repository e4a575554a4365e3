import Foundation
import XCTest
import Web
#if canImport(Glibc)
import Glibc
#endif

/// Broken FastCGI input against the real `gudok serve` (a separate process, so a crash shows as a failed test rather than
/// a dead test run). After each, the responder must still be running and answering.
final class FastCGIMalformedInputTests: XCTestCase {
    private var sandbox: GudokSandbox!
    private var server: GudokProcess!

    override func setUpWithError() throws {
        sandbox = try GudokSandbox()
        try sandbox.migrate()
        // Few threads, so a connection that pinned a thread for good would soon starve the responder.
        server = try sandbox.serve(threads: 3)
    }

    override func tearDown() {
        server?.reap()
        server = nil
        sandbox = nil
    }

    private func assertStillServing(after label: String, file: StaticString = #filePath, line: UInt = #line) {
        for _ in 0..<4 {
            do {
                let response = try FastCGIClient.get(sandbox.address, "/healthz")
                XCTAssertEqual(response.status, 200, "after \(label): \(response.text)", file: file, line: line)
            } catch {
                XCTFail("after \(label) the responder no longer answers: \(error); running=\(server.isRunning); stderr: \(server.stderr)",
                        file: file, line: line)
                return
            }
        }
        XCTAssertTrue(server.isRunning, "after \(label) gudok serve died: \(server.stderr)", file: file, line: line)
    }

    /// Sends `bytes`, then either closes at once or waits for the responder to drop the connection.
    private func sendRaw(_ bytes: [UInt8], expectClose: Bool = true, file: StaticString = #filePath, line: UInt = #line) throws {
        let connection = try FastCGIConnection(address: sandbox.address, receiveTimeout: 5)
        try? connection.send(bytes)
        if expectClose {
            connection.shutdownWrite()
            // Whatever comes back (an END_REQUEST or nothing), the connection must end rather than hang.
            var records = 0
            while records < 1000, (try? connection.readRecord()).flatMap({ $0 }) != nil { records += 1 }
        }
    }

    func testConnectAndCloseAtOnce() throws {
        for _ in 0..<10 { _ = try FastCGIConnection(address: sandbox.address) }
        assertStillServing(after: "empty connections")
    }

    func testBadVersion() throws {
        try sendRaw(FastCGIWire.record(FastCGIWire.RecordType.beginRequest.rawValue, content: [0, 1, 0, 0, 0, 0, 0, 0], version: 2)
            + FastCGIWire.params(FastCGIWire.nginxParams(uri: "/healthz")) + FastCGIWire.stream(.stdin, []))
        try sendRaw(FastCGIWire.beginRequest() + FastCGIWire.record(FastCGIWire.RecordType.params.rawValue, content: [1, 1, 65, 66], version: 0))
        assertStillServing(after: "bad version")
    }

    func testTruncatedHeader() throws {
        try sendRaw([1, 1, 0])
        try sendRaw(FastCGIWire.beginRequest() + [1, 4, 0, 1, 0])
        try sendRaw(Array(FastCGIWire.beginRequest().prefix(11)))
        assertStillServing(after: "truncated header")
    }

    func testRecordShorterThanItsDeclaredLength() throws {
        try sendRaw(FastCGIWire.beginRequest() + FastCGIWire.record(FastCGIWire.RecordType.params.rawValue, content: [3, 1, 65], contentLength: 5000))
        assertStillServing(after: "short record")
    }

    func testHugeParamLengths() throws {
        let huge: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF]
        // Name and value lengths whose sum overflows a 32-bit int (CVE-2025-23016 in libfcgi < 2.4.5).
        try sendRaw(FastCGIWire.beginRequest() + FastCGIWire.stream(.params, huge + huge + Array(repeating: 0x41, count: 4000)))
        // One enormous name with almost nothing behind it.
        try sendRaw(FastCGIWire.beginRequest() + FastCGIWire.stream(.params, [0xFF, 0xFF, 0xFF, 0xF0, 0x01] + Array("abc".utf8)))
        // A four-byte length cut short.
        try sendRaw(FastCGIWire.beginRequest() + FastCGIWire.stream(.params, [0x80, 0x00]))
        assertStillServing(after: "huge param lengths")
    }

    /// libfcgi answers FCGI_UNKNOWN_TYPE and then drops the connection (it expects BEGIN_REQUEST next); nginx never sends these.
    func testUnknownManagementRecordIsAnsweredWithUnknownType() throws {
        let connection = try FastCGIConnection(address: sandbox.address, receiveTimeout: 5)
        try connection.send(FastCGIWire.record(99, requestID: 0, content: [1, 2, 3]))
        let answer = try connection.readRecord()
        XCTAssertEqual(answer?.type, FastCGIWire.RecordType.unknownType.rawValue, "expected FCGI_UNKNOWN_TYPE, got \(String(describing: answer))")
        XCTAssertEqual(answer?.content.first, 99)
        assertStillServing(after: "unknown management record")
    }

    func testUnknownRecordTypeInsideARequest() throws {
        try sendRaw(FastCGIWire.beginRequest() + FastCGIWire.record(99, requestID: 1, content: Array("junk".utf8))
            + FastCGIWire.params(FastCGIWire.nginxParams(uri: "/healthz")) + FastCGIWire.stream(.stdin, []))
        try sendRaw(FastCGIWire.beginRequest() + FastCGIWire.params(FastCGIWire.nginxParams(uri: "/healthz", bodyLength: 4))
            + FastCGIWire.record(99, requestID: 1, content: Array("junk".utf8)) + FastCGIWire.stream(.stdin, Array("body".utf8)))
        assertStillServing(after: "unknown record type")
    }

    func testStdinBeforeBeginRequestAndWrongRequestIDs() throws {
        try sendRaw(FastCGIWire.stream(.stdin, Array("no begin".utf8)))
        try sendRaw(FastCGIWire.beginRequest(requestID: 1) + FastCGIWire.params(requestID: 2, FastCGIWire.nginxParams(uri: "/healthz"))
            + FastCGIWire.stream(.stdin, requestID: 2, []))
        assertStillServing(after: "records out of order")
    }

    func testAbortRequestInTheMiddleOfTheBody() throws {
        try sendRaw(FastCGIWire.beginRequest() + FastCGIWire.params(FastCGIWire.nginxParams(method: "POST", uri: "/api/auth/login", bodyLength: 100))
            + FastCGIWire.record(.stdin, content: Array("{\"user".utf8)) + FastCGIWire.record(.abortRequest))
        assertStillServing(after: "ABORT_REQUEST")
    }

    func testClientVanishingMidBody() throws {
        for _ in 0..<5 {
            let connection = try FastCGIConnection(address: sandbox.address)
            try connection.send(FastCGIWire.beginRequest()
                + FastCGIWire.params(FastCGIWire.nginxParams(method: "POST", uri: "/api/auth/signup", bodyLength: 1000))
                + FastCGIWire.record(.stdin, content: Array("{\"username\":".utf8)))
        }
        assertStillServing(after: "clients gone mid-body")
    }

    func testNonResponderRoles() throws {
        for role: UInt16 in [0, 2, 3, 0xFFFF] {
            try sendRaw(FastCGIWire.beginRequest(role: role) + FastCGIWire.params(FastCGIWire.nginxParams(uri: "/healthz"))
                + FastCGIWire.stream(.stdin, []))
        }
        assertStillServing(after: "other roles")
    }

    func testMalformedRequestLinesAndHeaderValues() throws {
        let weird: [[(String, String)]] = [
            [("REQUEST_METHOD", ""), ("REQUEST_URI", "")],
            [("REQUEST_METHOD", "GET"), ("REQUEST_URI", "no-leading-slash?%zz=%")],
            [("REQUEST_METHOD", "GET"), ("REQUEST_URI", "/%ff%fe/../..//?a=%00"), ("QUERY_STRING", "a=%00")],
            [("REQUEST_METHOD", "BREW"), ("REQUEST_URI", "/api/auth/login"), ("CONTENT_LENGTH", "-5")],
            [("REQUEST_METHOD", "POST"), ("REQUEST_URI", "/api/auth/login"), ("CONTENT_LENGTH", "99999999999999999999999")],
            [("REQUEST_METHOD", "GET"), ("REQUEST_URI", "/"), ("HTTP_COOKIE", String(repeating: "a=b; ", count: 5000))],
            [("", ""), ("=", "="), ("REQUEST_URI", "/healthz")],
        ]
        for params in weird {
            let connection = try FastCGIConnection(address: sandbox.address, receiveTimeout: 10)
            try connection.send(FastCGIWire.beginRequest() + FastCGIWire.params(params) + FastCGIWire.stream(.stdin, []))
            let response = try connection.readResponse()
            XCTAssertTrue((200..<600).contains(response.status), "params \(params.prefix(3)): status \(response.status)")
            XCTAssertFalse(response.text.contains("Fatal error"), response.text)
        }
        assertStillServing(after: "odd request lines")
    }

    /// kcgi-style fuzzing, seeded so a failure reproduces: random mutations of a valid request, then a real request.
    func testSeededRandomGarbageDoesNotKillTheResponder() throws {
        var generator = SplitMix64(seed: 0x6775_646F_6B)
        let valid = FastCGIWire.beginRequest() + FastCGIWire.params(FastCGIWire.nginxParams(method: "POST", uri: "/api/auth/login", bodyLength: 20))
            + FastCGIWire.stream(.stdin, Array(#"{"username":"a","p":1}"#.utf8.prefix(20)))
        for round in 0..<60 {
            var bytes = valid
            let mutations = Int.random(in: 1...8, using: &generator)
            for _ in 0..<mutations {
                let position = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[position] = UInt8.random(in: 0...255, using: &generator)
                case 1: bytes.removeSubrange(position..<min(bytes.count, position + Int.random(in: 1...16, using: &generator)))
                default: bytes.insert(contentsOf: (0..<Int.random(in: 1...16, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) },
                                      at: position)
                }
                if bytes.isEmpty { bytes = [0] }
            }
            try sendRaw(bytes)
            if round % 20 == 19 { assertStillServing(after: "fuzz round \(round)") }
        }
        assertStillServing(after: "random garbage")
    }
}

struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
