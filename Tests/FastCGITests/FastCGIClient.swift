import Foundation
import Web
#if canImport(Glibc)
import Glibc
#endif

/// The FastCGI wire format (FastCGI 1.0 specification), enough to play nginx against the responder.
enum FastCGIWire {
    enum RecordType: UInt8 {
        case beginRequest = 1, abortRequest, endRequest, params, stdin, stdout, stderr, data, getValues, getValuesResult, unknownType
    }

    static let responderRole: UInt16 = 1
    static let maxContent = 65_535

    /// One record: 8-byte header, content, padding. `version` and a lying `contentLength` are for malformed-input tests.
    static func record(_ type: UInt8, requestID: UInt16 = 1, content: [UInt8] = [], padding: Int = 0, version: UInt8 = 1,
                       contentLength: Int? = nil) -> [UInt8] {
        let length = contentLength ?? content.count
        precondition(length <= maxContent && padding <= 255)
        var bytes: [UInt8] = [version, type, UInt8(requestID >> 8), UInt8(requestID & 0xFF), UInt8(length >> 8), UInt8(length & 0xFF),
                              UInt8(padding), 0]
        bytes += content
        bytes += [UInt8](repeating: 0, count: padding)
        return bytes
    }

    static func record(_ type: RecordType, requestID: UInt16 = 1, content: [UInt8] = [], padding: Int = 0) -> [UInt8] {
        record(type.rawValue, requestID: requestID, content: content, padding: padding)
    }

    static func beginRequest(requestID: UInt16 = 1, keepConnection: Bool = false, role: UInt16 = responderRole) -> [UInt8] {
        record(.beginRequest, requestID: requestID, content: [UInt8(role >> 8), UInt8(role & 0xFF), keepConnection ? 1 : 0, 0, 0, 0, 0, 0])
    }

    /// A length as the spec encodes it: one byte below 128, otherwise four bytes with the top bit set.
    static func encodedLength(_ length: Int) -> [UInt8] {
        if length < 128 { return [UInt8(length)] }
        return [UInt8((length >> 24) & 0x7F) | 0x80, UInt8((length >> 16) & 0xFF), UInt8((length >> 8) & 0xFF), UInt8(length & 0xFF)]
    }

    static func nameValuePair(_ name: String, _ value: String) -> [UInt8] {
        let name = Array(name.utf8), value = Array(value.utf8)
        return encodedLength(name.count) + encodedLength(value.count) + name + value
    }

    /// A stream (PARAMS, STDIN): the bytes cut into records of at most `chunkSize`, then the empty record that ends it.
    static func stream(_ type: RecordType, requestID: UInt16 = 1, _ bytes: [UInt8], chunkSize: Int = maxContent) -> [UInt8] {
        var out: [UInt8] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + min(chunkSize, maxContent), bytes.count)
            // Pad to a multiple of 8 like real web servers do, so padding handling is exercised too.
            let content = Array(bytes[offset..<end])
            out += record(type, requestID: requestID, content: content, padding: (8 - content.count % 8) % 8)
            offset = end
        }
        return out + record(type, requestID: requestID)
    }

    static func params(requestID: UInt16 = 1, _ pairs: [(String, String)], chunkSize: Int = maxContent) -> [UInt8] {
        stream(.params, requestID: requestID, pairs.flatMap { nameValuePair($0.0, $0.1) }, chunkSize: chunkSize)
    }

    /// What nginx sends with Debian's stock `fastcgi_params` for one request.
    static func nginxParams(method: String = "GET", uri: String, headers: [(String, String)] = [], https: Bool = false,
                            remoteAddress: String = "127.0.0.1", bodyLength: Int? = nil, contentType: String? = nil) -> [(String, String)] {
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
        let query = uri.contains("?") ? String(uri[uri.index(after: uri.firstIndex(of: "?")!)...]) : ""
        var pairs: [(String, String)] = [
            ("QUERY_STRING", query), ("REQUEST_METHOD", method), ("CONTENT_TYPE", contentType ?? ""),
            ("CONTENT_LENGTH", bodyLength.map(String.init) ?? ""), ("SCRIPT_NAME", path), ("REQUEST_URI", uri), ("DOCUMENT_URI", path),
            ("DOCUMENT_ROOT", "/srv/gudok/public"), ("SERVER_PROTOCOL", "HTTP/1.1"), ("REQUEST_SCHEME", https ? "https" : "http"),
            ("GATEWAY_INTERFACE", "CGI/1.1"), ("SERVER_SOFTWARE", "nginx/1.22.1"), ("REMOTE_ADDR", remoteAddress), ("REMOTE_PORT", "53124"),
            ("SERVER_ADDR", "127.0.0.1"), ("SERVER_PORT", https ? "8443" : "8080"), ("SERVER_NAME", "localhost"),
            ("REDIRECT_STATUS", "200"),
        ]
        if https { pairs.append(("HTTPS", "on")) }
        for (name, value) in headers {
            pairs.append(("HTTP_" + name.uppercased().replacingOccurrences(of: "-", with: "_"), value))
        }
        return pairs
    }
}

struct FastCGIClientError: Error, CustomStringConvertible {
    let description: String
}

/// One connection to the responder.
final class FastCGIConnection {
    let fd: Int32

    init(address: ListenAddressForTests, receiveTimeout: TimeInterval = 20) throws {
        switch address {
        case .unix(let path):
            fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw FastCGIClientError(description: "socket: \(String(cString: strerror(errno)))") }
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &addr.sun_path) { buffer in
                let bytes = Array(path.utf8.prefix(buffer.count - 1))
                buffer.copyBytes(from: bytes)
                buffer[bytes.count] = 0
            }
            let result = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard result == 0 else {
                let message = String(cString: strerror(errno))
                Glibc.close(fd)
                throw FastCGIClientError(description: "connect(\(path)): \(message)")
            }
        case .tcp(let port):
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw FastCGIClientError(description: "socket: \(String(cString: strerror(errno)))") }
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = port.bigEndian
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            let result = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard result == 0 else {
                let message = String(cString: strerror(errno))
                Glibc.close(fd)
                throw FastCGIClientError(description: "connect(127.0.0.1:\(port)): \(message)")
            }
        }
        var timeout = timeval(tv_sec: Int(receiveTimeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { Glibc.close(fd) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBufferPointer { buffer in
                Glibc.send(fd, buffer.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 {
                if errno == EINTR { continue }
                throw FastCGIClientError(description: "send: \(String(cString: strerror(errno)))")
            }
            offset += sent
        }
    }

    /// Half-closes the writing side, as a client that has nothing more to say.
    func shutdownWrite() { Glibc.shutdown(fd, Int32(SHUT_WR)) }

    /// Exactly `count` bytes, or nil at a clean end of stream before the first byte.
    private func read(_ count: Int) throws -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = buffer.withUnsafeMutableBufferPointer { Glibc.recv(fd, $0.baseAddress! + got, count - got, 0) }
            if n == 0 {
                if got == 0 { return nil }
                throw FastCGIClientError(description: "connection closed inside a record (\(got) of \(count) bytes)")
            }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { throw FastCGIClientError(description: "timed out waiting for the responder") }
                throw FastCGIClientError(description: "recv: \(String(cString: strerror(errno)))")
            }
            got += n
        }
        return buffer
    }

    struct Record {
        let version: UInt8
        let type: UInt8
        let requestID: UInt16
        let content: [UInt8]
    }

    func readRecord() throws -> Record? {
        guard let header = try read(8) else { return nil }
        let length = Int(header[4]) << 8 | Int(header[5])
        let padding = Int(header[6])
        let body = length + padding == 0 ? [] : (try read(length + padding) ?? [])
        return Record(version: header[0], type: header[1], requestID: UInt16(header[2]) << 8 | UInt16(header[3]),
                      content: Array(body.prefix(length)))
    }

    /// Reads STDOUT and STDERR of `requestID` until its END_REQUEST.
    func readResponse(requestID: UInt16 = 1) throws -> FastCGIResponse {
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        while let record = try readRecord() {
            guard record.version == 1 else { throw FastCGIClientError(description: "responder sent version \(record.version)") }
            guard record.requestID == requestID else {
                throw FastCGIClientError(description: "record for request \(record.requestID), expected \(requestID)")
            }
            switch FastCGIWire.RecordType(rawValue: record.type) {
            case .stdout: stdout += record.content
            case .stderr: stderr += record.content
            case .endRequest:
                let c = record.content
                guard c.count >= 8 else { throw FastCGIClientError(description: "short END_REQUEST") }
                let appStatus = UInt32(c[0]) << 24 | UInt32(c[1]) << 16 | UInt32(c[2]) << 8 | UInt32(c[3])
                return try FastCGIResponse(stdout: stdout, stderr: stderr, appStatus: appStatus, protocolStatus: c[4])
            default:
                throw FastCGIClientError(description: "unexpected record type \(record.type)")
            }
        }
        throw FastCGIClientError(description: "connection closed before END_REQUEST (\(stdout.count) stdout bytes)")
    }

    /// True when the responder closed the connection (no more records) within the timeout.
    func isClosedByPeer() -> Bool {
        do { return try readRecord() == nil } catch { return true }
    }
}

/// Where a test server listens (the client side of `ListenAddress`).
enum ListenAddressForTests: CustomStringConvertible {
    case unix(String)
    case tcp(UInt16)

    var description: String {
        switch self {
        case .unix(let path): "unix:\(path)"
        case .tcp(let port): "127.0.0.1:\(port)"
        }
    }
}

/// The responder's answer: CGI-style headers (`Status: 200 OK`) then the body.
struct FastCGIResponse {
    let status: Int
    let headers: [(String, String)]
    let body: [UInt8]
    let stderr: [UInt8]
    let appStatus: UInt32
    let protocolStatus: UInt8

    init(stdout: [UInt8], stderr: [UInt8], appStatus: UInt32, protocolStatus: UInt8) throws {
        self.stderr = stderr
        self.appStatus = appStatus
        self.protocolStatus = protocolStatus
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = (0..<max(0, stdout.count - 3)).first(where: { Array(stdout[$0..<$0 + 4]) == separator }) else {
            throw FastCGIClientError(description: "no header/body separator in \(String(decoding: stdout.prefix(200), as: UTF8.self).debugDescription)")
        }
        var headers: [(String, String)] = []
        for line in String(decoding: stdout[..<end], as: UTF8.self).components(separatedBy: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { throw FastCGIClientError(description: "bad header line \(line.debugDescription)") }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        self.headers = headers
        body = Array(stdout[(end + 4)...])
        let statusLine = headers.first { $0.0.lowercased() == "status" }?.1 ?? "200"
        status = Int(statusLine.prefix(3)) ?? -1
    }

    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }

    var text: String { String(decoding: body, as: UTF8.self) }

    var json: JSON? { try? JSON.parse(body) }
}

enum FastCGIClient {
    /// One request on a new connection: BEGIN_REQUEST, PARAMS, STDIN in `chunkSize` records, then the answer.
    static func send(_ address: ListenAddressForTests, params: [(String, String)], body: [UInt8] = [], chunkSize: Int = 8192,
                     requestID: UInt16 = 1) throws -> FastCGIResponse {
        let connection = try FastCGIConnection(address: address)
        try connection.send(FastCGIWire.beginRequest(requestID: requestID) + FastCGIWire.params(requestID: requestID, params)
            + FastCGIWire.stream(.stdin, requestID: requestID, body, chunkSize: chunkSize))
        return try connection.readResponse(requestID: requestID)
    }

    static func get(_ address: ListenAddressForTests, _ uri: String, headers: [(String, String)] = []) throws -> FastCGIResponse {
        try send(address, params: FastCGIWire.nginxParams(uri: uri, headers: headers))
    }
}

/// A unix socket path short enough for sockaddr_un, in a fresh private directory.
func makeShortTemporaryDirectory() throws -> URL {
    let url = URL(fileURLWithPath: "/tmp/gdk-\(UUID().uuidString.prefix(8).lowercased())")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A loopback port nobody listens on right now.
func freeLoopbackPort() throws -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    guard bound == 0 else { throw FastCGIClientError(description: "bind: \(String(cString: strerror(errno)))") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return UInt16(bigEndian: addr.sin_port)
}
