import Foundation
#if canImport(Glibc)
import Glibc
#endif

public struct SocketError: Error, Sendable, CustomStringConvertible {
    public let description: String
}

/// Opens the listening socket ourselves: libfcgi's `FCGX_OpenSocket` unlinks a live socket and calls `exit()` when bind fails.
enum ListeningSocket {
    static func open(_ address: ListenAddress, backlog: Int32 = 1024, unixSocketMode: mode_t) throws -> Int32 {
        switch address {
        case .unix(let path): return try openUnix(path: path, backlog: backlog, mode: unixSocketMode)
        case .tcp(let host, let port): return try openTCP(host: host, port: port, backlog: backlog)
        }
    }

    private static func openUnix(path: String, backlog: Int32, mode: mode_t) throws -> Int32 {
        if FileManager.default.fileExists(atPath: path) {
            if isLive(unixPath: path) {
                throw SocketError(description: "socket \(path) is in use by a running process; stop it first or choose another --fastcgi address")
            }
            unlink(path)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketError(description: "socket(AF_UNIX) failed: \(String(cString: strerror(errno)))") }
        var address = unixAddress(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw SocketError(description: "cannot bind \(path): \(message)")
        }
        chmod(path, mode)
        guard listen(fd, backlog) == 0 else {
            close(fd)
            throw SocketError(description: "listen on \(path) failed: \(String(cString: strerror(errno)))")
        }
        return fd
    }

    private static func openTCP(host: String, port: UInt16, backlog: Int32) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else {
            throw SocketError(description: "cannot resolve listen host \(host)")
        }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
        guard fd >= 0 else { throw SocketError(description: "socket() failed: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw SocketError(description: "cannot bind \(host):\(port): \(message)")
        }
        guard listen(fd, backlog) == 0 else {
            close(fd)
            throw SocketError(description: "listen on \(host):\(port) failed: \(String(cString: strerror(errno)))")
        }
        return fd
    }

    private static func isLive(unixPath path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = unixAddress(path)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        return result == 0
    }

    private static func unixAddress(_ path: String) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            let bytes = Array(path.utf8.prefix(buffer.count - 1))
            buffer.copyBytes(from: bytes)
            buffer[bytes.count] = 0
        }
        return address
    }
}
