import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway HTTP/1.1 server on 127.0.0.1 with an ephemeral port, one thread per connection,
/// keep-alive, and scripted misbehaviour. Just enough HTTP for the transport tests.
final class LoopbackServer: @unchecked Sendable {
    struct Request: Sendable {
        var method: String
        var target: String
        var headers: [String: String]
        var body: [UInt8]
    }

    enum Action: Sendable {
        case respond(status: Int, body: String)
        /// Reads the request, waits, then answers (if the client is still there).
        case respondAfter(seconds: Double, status: Int, body: String)
        /// Reads the request, then closes the connection without a byte of answer.
        case closeWithoutAnswer
    }

    let port: UInt16
    private let listener: Int32
    private let script: @Sendable (Request) -> Action
    private let lock = NSLock()
    private var acceptedConnections = 0
    private var receivedRequests: [Request] = []
    private var stopped = false

    init(backlog: Int32 = 16, script: @escaping @Sendable (Request) -> Action) throws {
        self.script = script
        (listener, port) = try Self.listen(backlog: backlog)
        Thread { [self] in acceptLoop() }.start()
    }

    var connectionCount: Int { lock.withLock { acceptedConnections } }
    var requests: [Request] { lock.withLock { receivedRequests } }
    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Stops accepting; connections already open finish their script.
    func stop() {
        // Shutting down wakes the blocked accept(); the accept thread then closes the socket.
        lock.withLock {
            if !stopped { shutdown(listener, Int32(SHUT_RDWR)) }
            stopped = true
        }
    }

    /// A port nothing listens on: bound once to learn a free number, then closed.
    static func closedPort() throws -> UInt16 {
        let (fd, port) = try listen(backlog: 1)
        close(fd)
        return port
    }

    private static func listen(backlog: Int32) throws -> (Int32, UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ServerError("socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Glibc.listen(fd, backlog) == 0 else {
            close(fd)
            throw ServerError("bind/listen failed: errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    private func acceptLoop() {
        defer {
            lock.withLock {
                stopped = true
                close(listener)
            }
        }
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if errno == EINTR { continue }
                return
            }
            lock.withLock { acceptedConnections += 1 }
            Thread { [self] in serve(connection) }.start()
        }
    }

    private func serve(_ connection: Int32) {
        defer { close(connection) }
        var buffer: [UInt8] = []
        while let request = readRequest(connection, &buffer) {
            lock.withLock { receivedRequests.append(request) }
            switch script(request) {
            case .respond(let status, let body):
                guard write(connection, response(status: status, body: body)) else { return }
            case .respondAfter(let seconds, let status, let body):
                Thread.sleep(forTimeInterval: seconds)
                guard write(connection, response(status: status, body: body)) else { return }
            case .closeWithoutAnswer:
                return
            }
        }
    }

    private func readRequest(_ connection: Int32, _ buffer: inout [UInt8]) -> Request? {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var headerEnd: Int?
        while true {
            if let end = buffer.firstRange(of: separator)?.upperBound { headerEnd = end; break }
            guard receive(connection, into: &buffer) else { return nil }
        }
        guard let headerEnd else { return nil }
        let head = String(decoding: buffer[..<headerEnd], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        let requestLine = lines.removeFirst().split(separator: " ")
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        while buffer.count < headerEnd + length {
            guard receive(connection, into: &buffer) else { return nil }
        }
        let body = Array(buffer[headerEnd..<headerEnd + length])
        buffer.removeFirst(headerEnd + length)
        return Request(method: String(requestLine.first ?? ""), target: String(requestLine.dropFirst().first ?? ""),
                       headers: headers, body: body)
    }

    private func receive(_ connection: Int32, into buffer: inout [UInt8]) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let count = chunk.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return false }
        buffer.append(contentsOf: chunk[..<count])
        return true
    }

    private func response(status: Int, body: String) -> [UInt8] {
        let bytes = Array(body.utf8)
        let head = "HTTP/1.1 \(status) Scripted\r\nContent-Type: application/json\r\nX-Test: one\r\nX-Test: two\r\n"
            + "Content-Length: \(bytes.count)\r\n\r\n"
        return Array(head.utf8) + bytes
    }

    private func write(_ connection: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }
}

struct ServerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A listening socket that never accepts, with its queue filled, so a new connect hangs in SYN_SENT:
/// the kernel drops SYNs to a listener whose accept queue is full.
final class StalledListener {
    let port: UInt16
    private var sockets: [Int32] = []

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard fd >= 0, bound == 0, listen(fd, 0) == 0 else { throw ServerError("stalled listener setup failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        sockets.append(fd)
        for _ in 0..<3 {
            let filler = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            _ = fcntl(filler, F_SETFL, O_NONBLOCK)
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(filler, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            sockets.append(filler)
        }
        Thread.sleep(forTimeInterval: 0.05)
    }

    func close() {
        for fd in sockets { Glibc.close(fd) }
        sockets = []
    }
}
