import Dispatch
import Foundation
import Storage

/// The active plans as the pricing page and the plans API list them, kept for up to a second in each responder so the
/// busiest read route does not query the database every time. A plan change made through this responder clears it at
/// once; other responders see it within the second. Checkout and charges never read from here: they take the plan, and
/// its price, from the database.
public final class PlanCatalogue: @unchecked Sendable {
    private let lock = NSLock()
    private let lifetimeNanoseconds: UInt64
    private var cached: [Plan]?
    private var expiresAt: UInt64 = 0

    public init(lifetime: TimeInterval = 1) { lifetimeNanoseconds = UInt64(lifetime * 1_000_000_000) }

    func active(_ database: Database) throws -> [Plan] {
        let now = DispatchTime.now().uptimeNanoseconds
        lock.lock()
        if let cached, now < expiresAt {
            lock.unlock()
            return cached
        }
        lock.unlock()
        let plans = try database.withConnection { try PlanRepository(connection: $0).active() }
        lock.lock()
        cached = plans
        expiresAt = now + lifetimeNanoseconds
        lock.unlock()
        return plans
    }

    func invalidate() {
        lock.lock()
        cached = nil
        lock.unlock()
    }
}
