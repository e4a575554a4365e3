import Crypto
import Foundation
import Web

enum Identifier {
    private static let clock = MonotonicMilliseconds()

    /// A time-ordered UUID (version 7, RFC 9562): rows made within the same second still list newest first by id,
    /// and ids made by one process never go backwards (a counter in `rand_a` within one millisecond).
    static func make() -> String {
        let (milliseconds, sequence) = clock.next()
        var bytes = Crypto.randomBytes(16)
        for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - UInt64(index)))) }
        bytes[6] = 0x70 | UInt8(truncatingIfNeeded: sequence >> 8)
        bytes[7] = UInt8(truncatingIfNeeded: sequence)
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = Crypto.hex(bytes)
        return [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
            .joined(separator: "-")
    }

    /// Accepts a UUID in any case; answers its canonical lower-case form.
    static func canonical(_ text: String) -> String? { UUID(uuidString: text).map { $0.uuidString.lowercased() } }
}

extension Date {
    var unixSeconds: Int64 { Int64(timeIntervalSince1970.rounded(.down)) }
    init(unixSeconds: Int) { self.init(timeIntervalSince1970: TimeInterval(unixSeconds)) }
}

/// Milliseconds since 1970 that never repeat a (millisecond, sequence) pair within the process.
private final class MonotonicMilliseconds: @unchecked Sendable {
    private let lock = NSLock()
    private var last: UInt64 = 0
    private var sequence: UInt16 = 0

    func next() -> (UInt64, UInt16) {
        lock.lock()
        defer { lock.unlock() }
        let now = UInt64(max(0, Date().timeIntervalSince1970 * 1000))
        if now > last {
            last = now
            sequence = 0
        } else if sequence < 0x0FFF {
            sequence += 1
        } else {
            last += 1  // 4,096 ids in one millisecond: borrow the next one
            sequence = 0
        }
        return (last, sequence)
    }
}
