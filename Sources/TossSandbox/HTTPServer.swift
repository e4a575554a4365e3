// A small HTTP/1.1 server on POSIX sockets: one thread per connection,
// keep-alive, Content-Length bodies (chunked bodies get 411), `Expect:
// 100-continue`, and two ways to misbehave on purpose (hold the connection
// silently, or reset it) for fault injection.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

public enum HTTPOutcome: Sendable {
    case respond(HTTPResponse)
    /// Say nothing for this long (or until the client hangs up), then close.
    case hold(milliseconds: Int)
    /// Close at once with a TCP reset, without answering.
    case reset
}

public struct HTTPServerError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

public final class HTTPServer: @unchecked Sendable {
    public typealias Handler = @Sendable (HTTPRequest) -> HTTPOutcome

    private let handler: Handler
    private var listenFD: Int32 = -1
    public private(set) var port: Int = 0
    public var maxBodyBytes = 1 << 20
    public var maxHeaderBytes = 64 * 1024
    public var idleTimeoutSeconds = 300

    public init(handler: @escaping Handler) {
        self.handler = handler
    }

    /// Binds and listens. `port` 0 picks a free port (see `self.port`).
    public func bind(host: String, port: Int) throws {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var res: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host.isEmpty ? nil : host, String(port), &hints, &res)
        guard rc == 0, let first = res else {
            throw HTTPServerError(description: "cannot resolve listen address \(host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(res) }
        var lastError = "no usable address"
        var ai: UnsafeMutablePointer<addrinfo>? = first
        while let a = ai {
            ai = a.pointee.ai_next
            let fd = socket(a.pointee.ai_family, a.pointee.ai_socktype, a.pointee.ai_protocol)
            if fd < 0 { lastError = String(cString: strerror(errno)); continue }
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            if Glibc.bind(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) != 0 {
                lastError = String(cString: strerror(errno)); close(fd); continue
            }
            if listen(fd, 1024) != 0 {
                lastError = String(cString: strerror(errno)); close(fd); continue
            }
            listenFD = fd
            self.port = HTTPServer.localPort(fd) ?? port
            return
        }
        throw HTTPServerError(description: "cannot listen on \(host):\(port): \(lastError)")
    }

    private static func localPort(_ fd: Int32) -> Int? {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { return nil }
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            }
        case AF_INET6:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            }
        default: return nil
        }
    }

    /// Accepts connections forever on the calling thread.
    public func serveForever() -> Never {
        while true {
            let fd = accept(listenFD, nil, nil)
            if fd < 0 {
                if errno == EMFILE || errno == ENFILE || errno == ENOMEM { usleep(10_000) }
                continue
            }
            Thread.detachNewThread { [self] in
                self.serveConnection(fd)
            }
        }
    }

    // MARK: - One connection

    private enum ReadResult {
        case request(HTTPRequest, keepAlive: Bool)
        case closed
        case fail(Int, String)
    }

    private struct Connection {
        let fd: Int32
        var buffer: [UInt8] = []
        var start = 0
        var chunk = [UInt8](repeating: 0, count: 65536)

        init(fd: Int32) { self.fd = fd }

        /// Reads more bytes; false on EOF or error.
        mutating func fill() -> Bool {
            if start > 0 && start == buffer.count { buffer.removeAll(keepingCapacity: true); start = 0 }
            else if start > 65536 { buffer.removeSubrange(0..<start); start = 0 }
            while true {
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n > 0 { buffer.append(contentsOf: chunk[0..<n]); return true }
                if n < 0 && errno == EINTR { continue }
                return false
            }
        }
    }

    private func serveConnection(_ fd: Int32) {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var tv = timeval(tv_sec: idleTimeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var conn = Connection(fd: fd)
        while true {
            switch readRequest(&conn) {
            case .closed:
                close(fd); return
            case let .fail(status, message):
                var r = HTTPResponse.text(status, message + "\n")
                r.headers.append(("Connection", "close"))
                _ = write(r, to: fd, keepAlive: false, head: false)
                close(fd); return
            case let .request(request, keepAlive):
                switch handler(request) {
                case let .respond(response):
                    if !write(response, to: fd, keepAlive: keepAlive, head: request.method == "HEAD") || !keepAlive {
                        close(fd); return
                    }
                case let .hold(ms):
                    hold(fd, milliseconds: ms)
                    close(fd); return
                case .reset:
                    var lg = linger(l_onoff: 1, l_linger: 0)
                    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, socklen_t(MemoryLayout<linger>.size))
                    close(fd); return
                }
            }
        }
    }

    private func hold(_ fd: Int32, milliseconds: Int) {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, milliseconds)) * 1_000_000
        var peek: UInt8 = 0
        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            if now >= deadline { return }
            let wait = Int32(min(250, (deadline - now) / 1_000_000 + 1))
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let r = poll(&p, 1, wait)
            if r > 0 {
                let n = recv(fd, &peek, 1, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT))
                if n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) { return } // client hung up
                usleep(UInt32(wait) * 1000) // client sent more; keep ignoring it
            }
        }
    }

    private func readRequest(_ conn: inout Connection) -> ReadResult {
        // Find the end of the header block.
        var scanFrom = conn.start
        var headerEnd = -1
        while true {
            let from = max(scanFrom, conn.start)
            headerEnd = conn.buffer.withUnsafeBufferPointer { buf -> Int in
                var i = from
                while i + 3 < buf.count {
                    if buf[i + 3] == 10 && buf[i] == 13 && buf[i + 1] == 10 && buf[i + 2] == 13 { return i }
                    i += 1
                }
                return -1
            }
            if headerEnd >= 0 { break }
            if conn.buffer.count - conn.start > maxHeaderBytes { return .fail(431, "request headers too large") }
            scanFrom = max(conn.start, conn.buffer.count - 3)
            let before = conn.start
            if !conn.fill() { return .closed }
            if conn.start != before { scanFrom = conn.start } // buffer was compacted
            // Skip stray CRLFs between pipelined requests.
            while conn.start + 1 < conn.buffer.count, conn.buffer[conn.start] == 13, conn.buffer[conn.start + 1] == 10 {
                conn.start += 2
            }
        }
        // However the bytes arrived (one read or many), headers over the limit are refused.
        if headerEnd - conn.start > maxHeaderBytes { return .fail(431, "request headers too large") }
        let head = String(decoding: conn.buffer[conn.start..<headerEnd], as: UTF8.self)
        let bodyStart = headerEnd + 4
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        guard !lines.isEmpty else { return .fail(400, "bad request") }
        let requestLine = lines.removeFirst()
        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3 else { return .fail(400, "bad request line") }
        let method = String(parts[0])
        let target = String(parts[1])
        let version = String(parts[2])
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else { return .fail(505, "HTTP version not supported") }
        var headers: [(String, String)] = []
        headers.reserveCapacity(lines.count)
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { return .fail(400, "bad header line") }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers.append((name, value))
        }
        func header(_ n: String) -> String? {
            for (k, v) in headers where k == n { return v }
            return nil
        }
        if let te = header("transfer-encoding"), te.lowercased() != "identity" {
            return .fail(411, "chunked request bodies are not supported; send Content-Length")
        }
        var length = 0
        if let cl = header("content-length") {
            guard let n = Int(cl), n >= 0 else { return .fail(400, "bad Content-Length") }
            guard n <= maxBodyBytes else { return .fail(413, "request body too large") }
            length = n
        }
        let connectionHeader = header("connection")?.lowercased() ?? ""
        let keepAlive = version == "HTTP/1.1" ? !connectionHeader.contains("close") : connectionHeader.contains("keep-alive")

        if length > 0 && conn.buffer.count - bodyStart < length,
           header("expect")?.lowercased() == "100-continue" {
            let cont = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
            _ = sendAll(conn.fd, cont)
        }
        // Read the body (indices are relative to conn.start, which fill() may move).
        let relBody = bodyStart - conn.start
        while conn.buffer.count - (conn.start + relBody) < length {
            if !conn.fill() { return .closed }
        }
        let absBody = conn.start + relBody
        let body = Array(conn.buffer[absBody..<(absBody + length)])
        conn.start = absBody + length

        var rawPath = target
        var rawQuery = ""
        if let q = target.firstIndex(of: "?") {
            rawPath = String(target[..<q])
            rawQuery = String(target[target.index(after: q)...])
        }
        if rawPath.hasPrefix("http://") || rawPath.hasPrefix("https://") {
            // absolute-form: strip scheme and authority
            let afterScheme = rawPath[rawPath.range(of: "://")!.upperBound...]
            rawPath = afterScheme.firstIndex(of: "/").map { String(afterScheme[$0...]) } ?? "/"
        }
        let request = HTTPRequest(method: method, target: target, rawPath: rawPath,
                                  path: URLCoding.decode(rawPath, plusIsSpace: false),
                                  rawQuery: rawQuery, query: URLCoding.parseQuery(rawQuery),
                                  headers: headers, body: body, version: version)
        return .request(request, keepAlive: keepAlive)
    }

    private func write(_ r: HTTPResponse, to fd: Int32, keepAlive: Bool, head: Bool) -> Bool {
        var out = "HTTP/1.1 \(r.status) \(HTTPResponse.reasonPhrase(r.status))\r\n"
        var hasConnection = false
        for (k, v) in r.headers {
            if k.lowercased() == "connection" { hasConnection = true }
            out += k + ": " + v + "\r\n"
        }
        out += "Content-Length: \(r.body.count)\r\n"
        if !hasConnection && !keepAlive { out += "Connection: close\r\n" }
        out += "\r\n"
        var bytes = Array(out.utf8)
        if !head { bytes.append(contentsOf: r.body) }
        return sendAll(fd, bytes)
    }

    private func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 { if errno == EINTR { continue }; return false }
            sent += n
        }
        return true
    }
}
