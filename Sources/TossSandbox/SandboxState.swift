// The sandbox's in-memory merchant: payments, billing auth keys and billing
// keys, behind one lock. Business rules live in Payments.swift/Billing.swift.

import Foundation

public struct SandboxConfig: Sendable {
    public var secretKey: String?
    public var clientKey: String?
    public var latencyMs: Int = 0
    public var publicURL: String
    public var mId: String = "gudok_sandbox"

    public init(secretKey: String? = nil, clientKey: String? = nil, latencyMs: Int = 0, publicURL: String) {
        self.secretKey = secretKey
        self.clientKey = clientKey
        self.latencyMs = latencyMs
        self.publicURL = publicURL
    }
}

public final class SandboxState: @unchecked Sendable {
    /// Confirm must happen within 10 minutes of authentication.
    static let confirmWindowSeconds: Double = 600

    let lock = NSLock()
    let clock: SandboxClock
    let render: Render

    var payments: [String: PaymentRecord] = [:]
    var paymentOrder: [String] = []
    var paymentKeyByOrderId: [String: String] = [:]
    var authKeys: [String: AuthKeyRecord] = [:]
    var billingKeys: [String: BillingKeyRecord] = [:]
    var billingOrder: [String] = []
    var nextSeq = 1

    init(clock: SandboxClock, render: Render) {
        self.clock = clock
        self.render = render
    }

    @inline(__always)
    func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    func reset() {
        locked {
            payments = [:]
            paymentOrder = []
            paymentKeyByOrderId = [:]
            authKeys = [:]
            billingKeys = [:]
            billingOrder = []
            nextSeq = 1
        }
    }

    // MARK: - Helpers (call with the lock held)

    func takeSeq() -> Int {
        defer { nextSeq += 1 }
        return nextSeq
    }

    func newPaymentKey(_ now: Double) -> String {
        "tsbx" + TossTime.compact(now) + SandboxRandom.alphanumeric(24)
    }

    func newTransactionKey() -> String { SandboxRandom.hex(16) }

    /// An authenticated payment that was never confirmed expires after the window.
    func refreshExpiry(_ key: String, now: Double) {
        guard var p = payments[key], p.status == "IN_PROGRESS",
              now - p.requestedAt > SandboxState.confirmWindowSeconds else { return }
        p.status = "EXPIRED"
        payments[key] = p
    }

    func insert(_ p: PaymentRecord) {
        payments[p.paymentKey] = p
        paymentOrder.append(p.paymentKey)
        paymentKeyByOrderId[p.orderId] = p.paymentKey
    }

    // MARK: - Lookups for fault matching and the call log

    struct Related {
        var orderIds: [String] = []
        var customerKeys: [String] = []
        var cardNumbers: [String] = []
        var billingKeys: [String] = []
        var paymentKeys: [String] = []
    }

    func related(paymentKey: String?, orderId: String?, billingKey: String?, authKey: String?) -> Related {
        locked {
            var r = Related()
            var pk = paymentKey
            if pk == nil, let o = orderId { pk = paymentKeyByOrderId[o] }
            if let pk, let p = payments[pk] {
                r.orderIds.append(p.orderId)
                r.paymentKeys.append(p.paymentKey)
                if let c = p.customerKey { r.customerKeys.append(c) }
                if let b = p.billingKey { r.billingKeys.append(b) }
                r.cardNumbers.append(p.card.number)
            }
            if let bk = billingKey, let b = billingKeys[bk] {
                r.customerKeys.append(b.customerKey)
                r.cardNumbers.append(b.card.number)
            }
            if let ak = authKey, let a = authKeys[ak] {
                r.customerKeys.append(a.customerKey)
                r.cardNumbers.append(a.card.number)
            }
            return r
        }
    }

    // MARK: - Control API listings

    struct PaymentFilter {
        var orderId: String?
        var customerKey: String?
        var status: String?
        var type: String?
        var billingKey: String?
        var approvedOnly = false
    }

    func listPayments(_ f: PaymentFilter) -> [PaymentRecord] {
        locked {
            let now = clock.now()
            var keys: [String]
            if let o = f.orderId {
                // Every record that ever used this orderId (a re-authenticated
                // payment window replaces an unconfirmed one).
                keys = paymentOrder.filter { payments[$0]?.orderId == o }
            } else {
                keys = paymentOrder
            }
            var out: [PaymentRecord] = []
            for k in keys {
                refreshExpiry(k, now: now)
                guard let p = payments[k] else { continue }
                if let c = f.customerKey, p.customerKey != c { continue }
                if let s = f.status, p.status != s { continue }
                if let t = f.type, p.type != t { continue }
                if let b = f.billingKey, p.billingKey != b { continue }
                if f.approvedOnly && !p.wasApproved { continue }
                out.append(p)
            }
            return out
        }
    }

    func listBillingKeys(customerKey: String?) -> [BillingKeyRecord] {
        locked {
            billingOrder.compactMap { billingKeys[$0] }.filter { customerKey == nil || $0.customerKey == customerKey }
        }
    }
}
