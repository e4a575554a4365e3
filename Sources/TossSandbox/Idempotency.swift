// `Idempotency-Key` on POST: the first answer (status + body, errors too) is
// replayed for 15 days for the same (key, secret key, method, path); the
// body of a replay is ignored; a replay while the first is running gets 409.

import Foundation

final class IdempotencyStore: @unchecked Sendable {
    static let lifetimeSeconds: Double = 15 * 24 * 3600
    static let maxKeyLength = 300

    enum Begin {
        case started
        case replay(status: Int, body: [UInt8])
        case inProgress
    }

    private struct Entry {
        var createdAt: Double
        var answer: (status: Int, body: [UInt8])?
    }

    private let lock = NSLock()
    private var entries: [String: Entry] = [:]

    static func storeKey(key: String, secretKey: String, method: String, path: String) -> String {
        secretKey + "\u{1}" + method + "\u{1}" + path + "\u{1}" + key
    }

    func begin(_ storeKey: String, now: Double) -> Begin {
        lock.lock(); defer { lock.unlock() }
        if let e = entries[storeKey], now - e.createdAt < IdempotencyStore.lifetimeSeconds {
            if let a = e.answer { return .replay(status: a.status, body: a.body) }
            return .inProgress
        }
        entries[storeKey] = Entry(createdAt: now, answer: nil)
        return .started
    }

    func complete(_ storeKey: String, status: Int, body: [UInt8]) {
        lock.lock(); defer { lock.unlock() }
        entries[storeKey]?.answer = (status, body)
    }

    var count: Int {
        lock.lock(); defer { lock.unlock() }
        return entries.count
    }

    func reset() {
        lock.lock(); defer { lock.unlock() }
        entries = [:]
    }
}
