import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The sandbox's HTTP/1.1 server on a raw socket: keep-alive, pipelining, HTTP/1.0, HEAD,
/// `Expect: 100-continue` and the refusals (chunked bodies, bad lengths, oversized requests).
final class SandboxHTTPServerTests: XCTestCase {
    private var port = 0

    override func setUpWithError() throws {
        let sandbox = try InProcessSandbox.shared()
        port = sandbox.port
        try SandboxHTTP(baseURL: sandbox.baseURL).reset()
    }

    private func request(_ method: String, _ target: String, version: String = "HTTP/1.1",
                         headers: [String] = [], body: String = "") -> String {
        var lines = ["\(method) \(target) \(version)", "Host: 127.0.0.1:\(port)"] + headers
        if !body.isEmpty || method == "POST" { lines.append("Content-Length: \(body.utf8.count)") }
        return lines.joined(separator: "\r\n") + "\r\n\r\n" + body
    }

    private static let auth = "Authorization: " + SandboxHTTP.basic(SandboxHTTP.secretKey)

    func testKeepAliveAndPipelining() throws {
        let socket = try RawSocket(port: port)
        defer { socket.close() }
        // Two requests in one write, then a third after the answers: all on one connection.
        try socket.send(request("GET", "/sandbox/health") + request("GET", "/v1/payments/orders/pipe-1", headers: [Self.auth]))
        let firstTwo = try socket.readResponses(2)
        XCTAssertEqual(firstTwo.map(\.status), [200, 404])
        XCTAssertTrue(firstTwo[1].body.contains("NOT_FOUND_PAYMENT"))
        XCTAssertNil(firstTwo[0].headers["connection"])
        try socket.send(request("GET", "/sandbox/health", headers: ["Connection: close"]))
        let last = try socket.readResponses(1)
        XCTAssertEqual(last.first?.status, 200)
        XCTAssertEqual(last.first?.headers["connection"], "close")
        XCTAssertTrue(socket.isClosedByPeer(within: 2), "closed after Connection: close")
    }

    func testHTTP10ClosesUnlessKeepAliveIsAsked() throws {
        let plain = try RawSocket(port: port)
        defer { plain.close() }
        try plain.send(request("GET", "/sandbox/health", version: "HTTP/1.0"))
        XCTAssertEqual(try plain.readResponses(1).first?.headers["connection"], "close")
        XCTAssertTrue(plain.isClosedByPeer(within: 2))

        let kept = try RawSocket(port: port)
        defer { kept.close() }
        try kept.send(request("GET", "/sandbox/health", version: "HTTP/1.0", headers: ["Connection: keep-alive"]))
        XCTAssertEqual(try kept.readResponses(1).first?.status, 200)
        try kept.send(request("GET", "/sandbox/health", version: "HTTP/1.0", headers: ["Connection: keep-alive"]))
        XCTAssertEqual(try kept.readResponses(1).first?.status, 200, "still open for a second request")
    }

    func testHeadAnswersHeadersOnly() throws {
        let socket = try RawSocket(port: port)
        defer { socket.close() }
        try socket.send(request("HEAD", "/v2/standard") + request("GET", "/sandbox/health"))
        let head = try socket.readResponses(1, headOnly: true)
        XCTAssertEqual(head.first?.status, 200)
        XCTAssertGreaterThan(Int(head.first?.headers["content-length"] ?? "") ?? 0, 1000)
        XCTAssertEqual(head.first?.body, "")
        // The next answer starts right after HEAD's headers: no body bytes in between.
        XCTAssertEqual(try socket.readResponses(1).first?.status, 200)
    }

    func testExpectContinue() throws {
        let socket = try RawSocket(port: port)
        defer { socket.close() }
        let body = #"{"paymentKey":"x","orderId":"expect-1","amount":1000}"#
        let head = request("POST", "/v1/payments/confirm", headers: [Self.auth, "Content-Type: application/json",
                                                                    "Expect: 100-continue"], body: body)
        try socket.send(String(head.dropLast(body.utf8.count)))
        let interim = try socket.readResponses(1)
        XCTAssertEqual(interim.first?.status, 100)
        try socket.send(body)
        let final = try socket.readResponses(1)
        XCTAssertEqual(final.first?.status, 404)
        XCTAssertTrue(final.first?.body.contains("NOT_FOUND_PAYMENT_SESSION") ?? false)
    }

    func testChunkedRequestBodyIsRefusedWith411() throws {
        let socket = try RawSocket(port: port)
        defer { socket.close() }
        try socket.send("POST /v1/payments/confirm HTTP/1.1\r\nHost: x\r\n\(Self.auth)\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "5\r\nhello\r\n0\r\n\r\n")
        let answer = try socket.readResponses(1)
        XCTAssertEqual(answer.first?.status, 411)
        XCTAssertEqual(answer.first?.headers["connection"], "close")
        XCTAssertTrue(socket.isClosedByPeer(within: 2))
    }

    func testMalformedRequestsAreRefused() throws {
        let cases: [(String, Int)] = [
            ("GET /sandbox/health HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
            ("GET /sandbox/health HTTP/1.1\r\nContent-Length: ten\r\n\r\n", 400),
            ("GET /sandbox/health\r\n\r\n", 400),
            ("GET /sandbox/health HTTP/2.0\r\n\r\n", 505),
            ("GET /sandbox/health HTTP/1.1\r\nno colon here\r\n\r\n", 400),
            ("POST /v1/payments/confirm HTTP/1.1\r\nContent-Length: \(2 << 20)\r\n\r\n", 413),
        ]
        for (raw, status) in cases {
            let socket = try RawSocket(port: port)
            defer { socket.close() }
            try socket.send(raw)
            XCTAssertEqual(try socket.readResponses(1).first?.status, status, String(raw.prefix(60)))
            XCTAssertTrue(socket.isClosedByPeer(within: 2), String(raw.prefix(60)))
        }
    }

    /// Header blocks over `maxHeaderBytes` (64 KiB) that trickle in are refused with 431.
    func testOversizedHeadersArrivingSlowlyAreRefused() throws {
        let socket = try RawSocket(port: port)
        defer { socket.close() }
        try socket.send("GET /sandbox/health HTTP/1.1\r\nX-Big: " + String(repeating: "a", count: 65_600))
        Thread.sleep(forTimeInterval: 0.3)
        try socket.send("\r\n\r\n")
        XCTAssertEqual(try socket.readResponses(1).first?.status, 431)
        XCTAssertTrue(socket.isClosedByPeer(within: 2))
    }

    /// 431 whenever the header block exceeds `maxHeaderBytes`, however the bytes are segmented.
    func testOversizedHeadersArrivingAtOnceAreAlsoRefused() throws {
        let socket = try RawSocket(port: port)
        defer { socket.close() }
        try socket.send("GET /sandbox/health HTTP/1.1\r\nX-Big: \(String(repeating: "a", count: 70_000))\r\n\r\n")
        XCTAssertEqual(try socket.readResponses(1).first?.status, 431, "a 70 KB header block must be refused")
    }

    func testAbsoluteFormTargetAndUnknownPaths() throws {
        let socket = try RawSocket(port: port)
        defer { socket.close() }
        try socket.send(request("GET", "http://127.0.0.1:\(port)/sandbox/health")
                        + request("GET", "/no/such/page") + request("GET", "/sandbox/nothing"))
        let answers = try socket.readResponses(3)
        XCTAssertEqual(answers.map(\.status), [200, 404, 404])
        XCTAssertTrue(answers[1].body.contains("NOT_FOUND"))
    }
}

/// A blocking TCP client socket with a read timeout, for speaking HTTP by hand.
final class RawSocket {
    struct Response {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    private let fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int, timeout: Int = 5) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ControlFailure("socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { Glibc.close(fd); throw ControlFailure("connect: errno \(errno)") }
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    func close() { Glibc.close(fd) }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw ControlFailure("send: errno \(errno)") }
            offset += sent
        }
    }

    /// False on EOF, error or timeout.
    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return false }
        buffer.append(contentsOf: chunk[..<count])
        return true
    }

    /// Reads `count` whole responses (Content-Length framing; `headOnly` for answers to HEAD).
    func readResponses(_ count: Int, headOnly: Bool = false) throws -> [Response] {
        var responses: [Response] = []
        let separator = Array("\r\n\r\n".utf8)
        while responses.count < count {
            var headerEnd: Int?
            while headerEnd == nil {
                headerEnd = buffer.firstRange(of: separator)?.upperBound
                if headerEnd == nil, !fill() { throw ControlFailure("connection ended before a full response") }
            }
            let head = String(decoding: buffer[..<headerEnd!], as: UTF8.self)
            var lines = head.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            let statusLine = lines.removeFirst().split(separator: " ")
            var headers: [String: String] = [:]
            for line in lines {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let status = statusLine.count > 1 ? Int(statusLine[1]) ?? 0 : 0
            let length = (headOnly || status == 100) ? 0 : Int(headers["content-length"] ?? "0") ?? 0
            while buffer.count < headerEnd! + length {
                guard fill() else { throw ControlFailure("connection ended inside a body") }
            }
            let body = String(decoding: buffer[headerEnd!..<(headerEnd! + length)], as: UTF8.self)
            buffer.removeFirst(headerEnd! + length)
            responses.append(Response(status: status, headers: headers, body: body))
        }
        return responses
    }

    /// Whether the peer closes (EOF or reset) within `seconds`, with nothing more to read.
    func isClosedByPeer(within seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { continue }
            var byte: UInt8 = 0
            let count = recv(fd, &byte, 1, Int32(MSG_DONTWAIT))
            if count == 0 { return true }
            if count < 0 { return errno == ECONNRESET }
            return false // more data: not closed
        }
        return false
    }
}
