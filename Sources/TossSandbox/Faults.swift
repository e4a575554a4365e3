// Fault injection rules for /v1 calls: latency, timeout (hold then close),
// reset (close without answering), error (any status/code) and decline.

import JSON
import Foundation

enum FaultAction: String, Sendable {
    case latency, timeout, error, reset, decline
}

struct FaultRule: Sendable {
    var id: String
    var match: [(String, String)]
    var action: FaultAction
    var remaining: Int // -1 = until cleared
    var latencyMs: Int
    var apply: Bool
    var error: TossError?
    var createdAt: Double
    var hits = 0

    var json: JSON {
        .fields([
            ("id", .string(id)),
            ("match", .fields(match.map { ($0.0, JSON.string($0.1)) })),
            ("action", .string(action.rawValue)),
            ("remaining", .num(remaining)),
            ("latencyMs", .num(latencyMs)),
            ("apply", .bool(apply)),
            ("status", error.map { .num($0.status) } ?? .null),
            ("code", .str(error?.code)),
            ("message", .str(error?.message)),
            ("hits", .num(hits)),
            ("createdAt", .string(TossTime.format(createdAt))),
        ])
    }
}

/// What a /v1 call is about, for matching.
struct FaultContext {
    var method: String
    var path: String
    var orderIds: [String] = []
    var customerKeys: [String] = []
    var billingKeys: [String] = []
    var paymentKeys: [String] = []
    var cardNumbers: [String] = []
}

final class FaultStore: @unchecked Sendable {
    static let matchFields: Set<String> = ["orderId", "customerKey", "billingKey", "cardNumber", "paymentKey", "path", "method"]

    private let lock = NSLock()
    private var rules: [FaultRule] = []
    private var nextId = 1

    var isEmpty: Bool {
        lock.lock(); defer { lock.unlock() }
        return rules.isEmpty
    }

    /// Parses a `POST /sandbox/faults` body into a rule and stores it.
    func add(_ body: JSON, now: Double) -> Result<FaultRule, TossError> {
        guard case .object = body else { return .failure(.invalidRequest("JSON 객체가 필요합니다.")) }
        guard let actionText = body["action"]?.stringValue, let action = FaultAction(rawValue: actionText) else {
            return .failure(.invalidRequest("action은 latency, timeout, error, reset, decline 중 하나여야 합니다."))
        }
        var match: [(String, String)] = []
        if let m = body["match"], !m.isNull {
            guard case let .object(pairs) = m else { return .failure(.invalidRequest("match는 객체여야 합니다.")) }
            for (k, v) in pairs.entries {
                guard FaultStore.matchFields.contains(k) else {
                    return .failure(.invalidRequest("알 수 없는 match 필드: \(k)"))
                }
                var text: String
                switch v {
                case let .string(s): text = s
                case let .int(i): text = String(i)
                default: return .failure(.invalidRequest("match.\(k)는 문자열이어야 합니다."))
                }
                if k == "cardNumber" { text = Cards.normalize(text) ?? text }
                match.append((k, text))
            }
        }
        var count = 1
        if let c = body["count"], !c.isNull {
            guard case let .int(n) = c, n == -1 || n >= 1 else { return .failure(.invalidRequest("count는 1 이상 또는 -1이어야 합니다.")) }
            count = Int(n)
        }
        var latency = action == .timeout ? 65000 : (action == .latency ? 1000 : 0)
        if let l = body["latencyMs"], !l.isNull {
            guard case let .int(n) = l, n >= 0 else { return .failure(.invalidRequest("latencyMs는 0 이상의 정수여야 합니다.")) }
            latency = Int(n)
        }
        var apply = false
        if let a = body["apply"], !a.isNull {
            guard case let .bool(b) = a else { return .failure(.invalidRequest("apply는 true/false여야 합니다.")) }
            apply = b
        }
        var status: Int?
        if let s = body["status"], !s.isNull {
            guard case let .int(n) = s, n >= 100 && n <= 599 else { return .failure(.invalidRequest("status는 100~599여야 합니다.")) }
            status = Int(n)
        }
        let code = body["code"]?.stringValue
        let message = body["message"]?.stringValue
        var error: TossError?
        switch action {
        case .error:
            let c = code ?? FaultStore.defaultCode(forStatus: status ?? 500)
            error = TossError.known(c, message: message, status: status ?? TossError.table[c]?.0 ?? 500)
        case .decline:
            let c = code ?? "REJECT_CARD_PAYMENT"
            let e = TossError.known(c, message: message, status: status)
            error = TossError(e.status, e.code, e.message)
        default: break
        }
        lock.lock(); defer { lock.unlock() }
        let rule = FaultRule(id: "flt_\(nextId)", match: match, action: action, remaining: count,
                             latencyMs: latency, apply: apply, error: error, createdAt: now)
        nextId += 1
        rules.append(rule)
        return .success(rule)
    }

    static func defaultCode(forStatus status: Int) -> String {
        switch status {
        case 429: return "TOO_MANY_REQUESTS"
        case 500...599: return "FAILED_INTERNAL_SYSTEM_PROCESSING"
        case 404: return "NOT_FOUND"
        case 409: return "IDEMPOTENT_REQUEST_PROCESSING"
        default: return "INVALID_REQUEST"
        }
    }

    /// The first live rule that matches; consumes one use.
    func take(_ ctx: FaultContext) -> FaultRule? {
        lock.lock(); defer { lock.unlock() }
        for i in rules.indices where rules[i].remaining != 0 && FaultStore.matches(rules[i], ctx) {
            rules[i].hits += 1
            if rules[i].remaining > 0 { rules[i].remaining -= 1 }
            let r = rules[i]
            if rules[i].remaining == 0 { rules.remove(at: i) }
            return r
        }
        return nil
    }

    private static func matches(_ rule: FaultRule, _ ctx: FaultContext) -> Bool {
        for (field, value) in rule.match {
            let ok: Bool
            switch field {
            case "orderId": ok = ctx.orderIds.contains(value)
            case "customerKey": ok = ctx.customerKeys.contains(value)
            case "billingKey": ok = ctx.billingKeys.contains(value)
            case "paymentKey": ok = ctx.paymentKeys.contains(value)
            case "cardNumber": ok = ctx.cardNumbers.contains(value)
            case "method": ok = ctx.method.uppercased() == value.uppercased()
            case "path":
                if value.hasSuffix("*") { ok = ctx.path.hasPrefix(String(value.dropLast())) } else { ok = ctx.path == value }
            default: ok = false
            }
            if !ok { return false }
        }
        return true
    }

    func list() -> JSON {
        lock.lock(); defer { lock.unlock() }
        return .array(rules.map(\.json))
    }

    func remove(id: String) -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard let i = rules.firstIndex(where: { $0.id == id }) else { return false }
        rules.remove(at: i)
        return true
    }

    func clear() {
        lock.lock(); defer { lock.unlock() }
        rules = []
    }
}
