import Foundation
import Glibc
import Web

public enum LogLevel: String, Sendable, Comparable {
    case debug, info, warning, error

    var rank: Int { switch self { case .debug: 0; case .info: 1; case .warning: 2; case .error: 3 } }
    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rank < rhs.rank }
}

/// One JSON object per line on stderr. Callers pass only values that are safe to log: never keys, tokens or passwords.
public struct Logger: Sendable {
    public var minimum: LogLevel
    private let sink: LogSink

    public init(minimum: LogLevel = .info, sink: LogSink = .standardError) {
        self.minimum = minimum
        self.sink = sink
    }

    public func log(_ level: LogLevel, _ event: String, _ fields: JSONObject = [:]) {
        guard level >= minimum else { return }
        var object: JSONObject = ["time": .string(RFC3339.format(Date(), in: TimeZone(identifier: "UTC")!)), "level": .string(level.rawValue),
                                  "event": .string(event)]
        for entry in fields.entries { object[entry.key] = entry.value }
        sink.write(JSON.object(object).serializedBytes() + [0x0A])
    }

    public func debug(_ event: String, _ fields: JSONObject = [:]) { log(.debug, event, fields) }
    public func info(_ event: String, _ fields: JSONObject = [:]) { log(.info, event, fields) }
    public func warning(_ event: String, _ fields: JSONObject = [:]) { log(.warning, event, fields) }
    public func error(_ event: String, _ fields: JSONObject = [:]) { log(.error, event, fields) }
}

/// Where log lines go: a file descriptor written with one `write(2)` per line, so lines from threads never interleave.
public final class LogSink: Sendable {
    public static let standardError = LogSink(descriptor: 2)
    private let descriptor: Int32

    public init(descriptor: Int32) { self.descriptor = descriptor }

    func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }
}
