// Log of every /v1 call received, for tests (`GET /sandbox/calls`).
// Keeps the most recent 100,000 calls.

import JSON
import Foundation

struct CallEntry {
    var seq: Int
    var at: Double
    var method: String
    var path: String
    var query: String
    var headers: [(String, String)]
    var body: [UInt8]
    var idempotencyKey: String?
    var orderId: String?
    var status: Int?
    var replayed = false
    var fault: String?
    var outcome: String?
    var durationMs: Double?
}

final class CallLog: @unchecked Sendable {
    static let capacity = 100_000

    private let lock = NSLock()
    private var entries: [CallEntry] = []
    private var firstSeq = 1
    private var nextSeq = 1

    func begin(_ req: HTTPRequest, at: Double, orderId: String?, idempotencyKey: String?) -> Int {
        let headers = req.headers.filter { $0.0 != "authorization" }
        lock.lock(); defer { lock.unlock() }
        let seq = nextSeq
        nextSeq += 1
        if entries.isEmpty { firstSeq = seq }
        entries.append(CallEntry(seq: seq, at: at, method: req.method, path: req.path, query: req.rawQuery,
                                 headers: headers, body: req.body, idempotencyKey: idempotencyKey, orderId: orderId))
        if entries.count > CallLog.capacity {
            let drop = CallLog.capacity / 10
            entries.removeFirst(drop)
            firstSeq += drop
        }
        return seq
    }

    func finish(_ seq: Int, status: Int?, outcome: String?, replayed: Bool, fault: String?, orderId: String?, durationMs: Double) {
        lock.lock(); defer { lock.unlock() }
        let i = seq - firstSeq
        guard i >= 0, i < entries.count, entries[i].seq == seq else { return }
        entries[i].status = status
        entries[i].outcome = outcome
        entries[i].replayed = replayed
        entries[i].fault = fault
        if entries[i].orderId == nil { entries[i].orderId = orderId }
        entries[i].durationMs = durationMs
    }

    struct Filter {
        var orderId: String?
        var path: String?
        var method: String?
        var idempotencyKey: String?
        var since: Int?
        var limit: Int?
    }

    func list(_ f: Filter) -> JSON {
        lock.lock()
        var selected: [CallEntry] = []
        for e in entries {
            if let s = f.since, e.seq <= s { continue }
            if let o = f.orderId, e.orderId != o { continue }
            if let m = f.method, e.method != m.uppercased() { continue }
            if let k = f.idempotencyKey, e.idempotencyKey != k { continue }
            if let p = f.path {
                if p.hasSuffix("*") { if !e.path.hasPrefix(String(p.dropLast())) { continue } } else if e.path != p { continue }
            }
            selected.append(e)
        }
        lock.unlock()
        if let l = f.limit, l >= 0, selected.count > l { selected = Array(selected.suffix(l)) }
        return .array(selected.map(CallLog.render))
    }

    private static func render(_ e: CallEntry) -> JSON {
        var body: JSON = .null
        if !e.body.isEmpty {
            body = (try? JSON.parse(e.body)) ?? .string(String(decoding: e.body, as: UTF8.self))
        }
        return .fields([
            ("seq", .num(e.seq)),
            ("at", .string(TossTime.formatMillis(e.at))),
            ("method", .string(e.method)),
            ("path", .string(e.path)),
            ("query", e.query.isEmpty ? .null : .string(e.query)),
            ("headers", .fields(e.headers.map { ($0.0, JSON.string($0.1)) })),
            ("body", body),
            ("orderId", .str(e.orderId)),
            ("idempotencyKey", .str(e.idempotencyKey)),
            ("status", e.status.map { .num($0) } ?? .null),
            ("outcome", .str(e.outcome)),
            ("replayed", .bool(e.replayed)),
            ("fault", .str(e.fault)),
            ("durationMs", e.durationMs.map { .double(($0 * 10).rounded() / 10) } ?? .null),
        ])
    }

    func clear() {
        lock.lock(); defer { lock.unlock() }
        entries = []
    }
}
