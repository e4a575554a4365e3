// The /v1 pipeline: call log → Basic auth → TossPayments-Test-Code →
// Idempotency-Key checks → fault rules → idempotent execution of the route.

import JSON
import Foundation

enum APIRoute {
    case confirm
    case paymentByKey(String)
    case paymentByOrder(String)
    case cancel(String)
    case issue
    case charge(String)
    case deleteBilling(String)
    case notFound
    case methodNotAllowed

    static func parse(method: String, rawPath: String) -> APIRoute {
        if rawPath.hasPrefix("/v1/billing/") {
            let restRaw = String(rawPath.dropFirst("/v1/billing/".count))
            if restRaw == "authorizations/issue" { return method == "POST" ? .issue : .methodNotAllowed }
            // The billing key may arrive percent-encoded (%2B, %2F, %3D) or raw
            // (with `/` inside); take everything after the prefix.
            let key = URLCoding.decode(restRaw, plusIsSpace: false)
            guard !key.isEmpty else { return .notFound }
            switch method {
            case "POST": return .charge(key)
            case "DELETE": return .deleteBilling(key)
            default: return .methodNotAllowed
            }
        }
        guard rawPath.hasPrefix("/v1/payments/") else { return .notFound }
        let segments = rawPath.dropFirst("/v1/payments/".count).split(separator: "/", omittingEmptySubsequences: false)
            .map { URLCoding.decode(String($0), plusIsSpace: false) }
        switch segments.count {
        case 1:
            if segments[0] == "confirm" { return method == "POST" ? .confirm : .methodNotAllowed }
            guard !segments[0].isEmpty else { return .notFound }
            return method == "GET" ? .paymentByKey(segments[0]) : .methodNotAllowed
        case 2:
            if segments[0] == "orders", !segments[1].isEmpty { return method == "GET" ? .paymentByOrder(segments[1]) : .methodNotAllowed }
            if segments[1] == "cancel", !segments[0].isEmpty { return method == "POST" ? .cancel(segments[0]) : .methodNotAllowed }
            return .notFound
        default:
            return .notFound
        }
    }

    var needsBody: Bool {
        switch self {
        case .confirm, .cancel, .issue, .charge: return true
        default: return false
        }
    }

    /// Approvals honour a forced decline by recording an ABORTED payment.
    var isApproval: Bool {
        switch self {
        case .confirm, .charge: return true
        default: return false
        }
    }
}

final class APIRouter: @unchecked Sendable {
    let config: SandboxConfig
    let state: SandboxState
    let idempotency: IdempotencyStore
    let faults: FaultStore
    let calls: CallLog
    let clock: SandboxClock

    init(config: SandboxConfig, state: SandboxState, idempotency: IdempotencyStore, faults: FaultStore, calls: CallLog, clock: SandboxClock) {
        self.config = config
        self.state = state
        self.idempotency = idempotency
        self.faults = faults
        self.calls = calls
        self.clock = clock
    }

    // MARK: Auth

    enum Auth { case ok(String), failed(TossError) }

    func authenticate(_ header: String?) -> Auth {
        guard let h = header?.trimmingCharacters(in: .whitespaces), h.count > 6,
              h.prefix(6).lowercased() == "basic " else { return .failed(.incorrectBasicAuth) }
        var token = h.dropFirst(6).trimmingCharacters(in: .whitespaces)
        while token.utf8.count % 4 != 0 { token += "=" }
        guard let data = Data(base64Encoded: token), let decoded = String(data: data, encoding: .utf8),
              let colon = decoded.firstIndex(of: ":") else { return .failed(.incorrectBasicAuth) }
        let key = String(decoded[..<colon])
        if let configured = config.secretKey {
            return key == configured ? .ok(key) : .failed(.unauthorizedKey)
        }
        let wellFormed = (key.hasPrefix("test_sk_") || key.hasPrefix("test_gsk_")) && key.utf8.allSatisfy { b in
            (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || (b >= 48 && b <= 57) || b == 95 || b == 45
        }
        return wellFormed ? .ok(key) : .failed(.unauthorizedKey)
    }

    // MARK: Pipeline

    private static func sleepMs(_ ms: Int) {
        if ms > 0 { usleep(UInt32(min(ms, 4_000_000)) * 1000) }
        if ms > 4_000_000 { Thread.sleep(forTimeInterval: Double(ms - 4_000_000) / 1000) }
    }

    private static let traceCounter = Counter()

    private func respond(_ status: Int, _ body: [UInt8]) -> HTTPResponse {
        var headers: [(String, String)] = []
        if !body.isEmpty { headers.append(("Content-Type", "application/json")) }
        headers.append(("X-TossPayments-Trace-Id", "sbx" + String(APIRouter.traceCounter.next(), radix: 16).leftPad(29)))
        return HTTPResponse(status: status, headers: headers, body: body)
    }

    func handle(_ req: HTTPRequest) -> HTTPOutcome {
        let started = DispatchTime.now().uptimeNanoseconds
        let route = APIRoute.parse(method: req.method, rawPath: req.rawPath)
        var idemKey: String? = nil
        if req.method == "POST", let k = req.header("idempotency-key"), !k.isEmpty { idemKey = k }
        let body: JSON? = req.body.isEmpty ? nil : try? JSON.parse(req.body)
        var orderHint = body?["orderId"]?.stringValue
        if case let .paymentByOrder(o) = route { orderHint = o }
        let seq = calls.begin(req, at: clock.now(), orderId: orderHint, idempotencyKey: idemKey)

        var replayed = false
        var faultId: String? = nil
        var answeredOrderId: String? = nil
        func finish(_ outcome: HTTPOutcome) -> HTTPOutcome {
            let ms = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
            switch outcome {
            case let .respond(r):
                calls.finish(seq, status: r.status, outcome: "answered", replayed: replayed, fault: faultId, orderId: answeredOrderId, durationMs: ms)
            case .hold:
                calls.finish(seq, status: nil, outcome: "timeout", replayed: replayed, fault: faultId, orderId: answeredOrderId, durationMs: ms)
            case .reset:
                calls.finish(seq, status: nil, outcome: "reset", replayed: replayed, fault: faultId, orderId: answeredOrderId, durationMs: ms)
            }
            return outcome
        }
        func answer(_ e: TossError) -> HTTPOutcome {
            .respond(respond(e.status, e.json.serialized()))
        }

        // 1. Basic auth
        let secretKey: String
        switch authenticate(req.header("authorization")) {
        case let .failed(e):
            APIRouter.sleepMs(config.latencyMs)
            return finish(answer(e))
        case let .ok(k): secretKey = k
        }
        // 2. Test-only error codes, as on real Toss test keys
        if let code = req.header("tosspayments-test-code")?.trimmingCharacters(in: .whitespaces), !code.isEmpty {
            APIRouter.sleepMs(config.latencyMs)
            return finish(answer(TossError.known(code)))
        }
        // 3. Idempotency key format
        if let k = idemKey, k.count > IdempotencyStore.maxKeyLength {
            APIRouter.sleepMs(config.latencyMs)
            return finish(answer(TossError.known("INVALID_IDEMPOTENCY_KEY")))
        }
        // 4. Fault rules
        var fault: FaultRule? = nil
        if !faults.isEmpty {
            fault = faults.take(faultContext(req, route: route, body: body))
            faultId = fault?.id
        }

        // 5. Execute (idempotently)
        func execute(delayMs: Int, forced: TossError?) -> (Int, [UInt8]) {
            let path = req.path
            if let k = idemKey {
                let storeKey = IdempotencyStore.storeKey(key: k, secretKey: secretKey, method: req.method, path: path)
                switch idempotency.begin(storeKey, now: clock.now()) {
                case let .replay(status, bytes):
                    APIRouter.sleepMs(delayMs)
                    replayed = true
                    return (status, bytes)
                case .inProgress:
                    APIRouter.sleepMs(delayMs)
                    let e = TossError.known("IDEMPOTENT_REQUEST_PROCESSING")
                    return (e.status, e.json.serialized())
                case .started:
                    APIRouter.sleepMs(delayMs)
                    let r = run(route, body: body, forced: forced)
                    answeredOrderId = r.body?["orderId"]?.stringValue
                    let bytes = r.body?.serialized() ?? []
                    idempotency.complete(storeKey, status: r.status, body: bytes)
                    return (r.status, bytes)
                }
            }
            APIRouter.sleepMs(delayMs)
            let r = run(route, body: body, forced: forced)
            answeredOrderId = r.body?["orderId"]?.stringValue
            return (r.status, r.body?.serialized() ?? [])
        }

        let base = config.latencyMs
        guard let f = fault else {
            let (s, b) = execute(delayMs: base, forced: nil)
            return finish(.respond(respond(s, b)))
        }
        switch f.action {
        case .latency:
            let (s, b) = execute(delayMs: base + f.latencyMs, forced: nil)
            return finish(.respond(respond(s, b)))
        case .decline:
            let e = f.error ?? .rejectCardPayment
            let (s, b) = execute(delayMs: base, forced: e)
            return finish(.respond(respond(s, b)))
        case .error:
            if f.apply { _ = execute(delayMs: base, forced: nil) } else { APIRouter.sleepMs(base) }
            return finish(answer(f.error ?? TossError.known("FAILED_INTERNAL_SYSTEM_PROCESSING")))
        case .timeout:
            if f.apply { _ = execute(delayMs: base, forced: nil) }
            return finish(.hold(milliseconds: f.latencyMs))
        case .reset:
            if f.apply { _ = execute(delayMs: base, forced: nil) }
            return finish(.reset)
        }
    }

    private func run(_ route: APIRoute, body: JSON?, forced: TossError?) -> APIResult {
        if let forced, !route.isApproval {
            switch route {
            case .notFound, .methodNotAllowed: break
            default: return .error(forced)
            }
        }
        var json: JSON = .fields([])
        if route.needsBody {
            guard let b = body, case .object = b else {
                return .error(.invalidRequest("요청 본문은 JSON 객체여야 합니다."))
            }
            json = b
        }
        switch route {
        case .confirm: return state.handleConfirm(json, forced: forced)
        case let .paymentByKey(k): return state.handleGetPayment(key: k)
        case let .paymentByOrder(o): return state.handleGetPayment(orderId: o)
        case let .cancel(k): return state.handleCancel(paymentKey: k, json)
        case .issue: return state.handleIssue(json)
        case let .charge(k): return state.handleCharge(billingKey: k, json, forced: forced)
        case let .deleteBilling(k): return state.handleDeleteBilling(billingKey: k)
        case .notFound: return .error(TossError.known("NOT_FOUND", message: "존재하지 않는 API 입니다."))
        case .methodNotAllowed: return .error(TossError(405, "METHOD_NOT_ALLOWED", "허용되지 않은 HTTP 메서드입니다."))
        }
    }

    private func faultContext(_ req: HTTPRequest, route: APIRoute, body: JSON?) -> FaultContext {
        var ctx = FaultContext(method: req.method, path: req.path)
        var paymentKey = body?["paymentKey"]?.stringValue
        var orderId = body?["orderId"]?.stringValue
        var billingKey: String? = nil
        let authKey = body?["authKey"]?.stringValue
        switch route {
        case let .paymentByKey(k), let .cancel(k): paymentKey = k
        case let .paymentByOrder(o): orderId = o
        case let .charge(k), let .deleteBilling(k): billingKey = k
        default: break
        }
        if let o = orderId { ctx.orderIds.append(o) }
        if let p = paymentKey { ctx.paymentKeys.append(p) }
        if let b = billingKey { ctx.billingKeys.append(b) }
        if let c = body?["customerKey"]?.stringValue { ctx.customerKeys.append(c) }
        let r = state.related(paymentKey: paymentKey, orderId: orderId, billingKey: billingKey, authKey: authKey)
        ctx.orderIds += r.orderIds
        ctx.paymentKeys += r.paymentKeys
        ctx.billingKeys += r.billingKeys
        ctx.customerKeys += r.customerKeys
        ctx.cardNumbers += r.cardNumbers
        return ctx
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value: UInt64 = 0
    func next() -> UInt64 {
        lock.lock(); defer { lock.unlock() }
        value += 1
        return value
    }
}

extension String {
    func leftPad(_ width: Int, with c: Character = "0") -> String {
        count >= width ? self : String(repeating: c, count: width - count) + self
    }
}
