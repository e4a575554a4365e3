import Billing
import Foundation
import Storage
import Web

public struct BillingPassSummary: Sendable, Equatable, CustomStringConvertible {
    public var charged = 0
    public var failed = 0
    public var pending = 0
    public var expired = 0

    public var description: String { "charged=\(charged) failed=\(failed) pending=\(pending) expired=\(expired)" }
}

/// One recurring-billing pass: claims due subscriptions in batches (row locks with SKIP LOCKED on PostgreSQL, a short
/// write transaction on SQLite), charges them on N threads with no transaction open across a Toss call, and releases the claims.
public final class Biller: @unchecked Sendable {
    /// A claim outlives the longest charge (60 s) with retries; a crashed process's claims are taken back at once on the same host.
    static let claimLease: TimeInterval = 600
    /// A renewal charge Toss does not know this long after it was written was never sent (the client gives up after 60 s).
    static let unsentAfter: TimeInterval = 180

    let database: Database
    let services: Services
    let logger: Logger
    let concurrency: Int
    let limit: Int?
    let owner: String
    private let lock = NSLock()
    private var summary = BillingPassSummary()
    private var done = 0
    private var claimed = 0
    private var lastReport = Date()

    public init(database: Database, services: Services, logger: Logger, concurrency: Int = 16, limit: Int? = nil) {
        self.database = database
        self.services = services
        self.logger = logger
        self.concurrency = max(1, concurrency)
        self.limit = limit
        owner = ClaimOwner.current
    }

    /// Bills everything due at `now`. `progress(done, claimed)` is called about once a second; `shouldStop` ends the pass after the batch in hand.
    public func run(now: Date, progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in },
                    shouldStop: @escaping @Sendable () -> Bool = { false }) throws -> BillingPassSummary {
        try ClaimOwner.releaseDeadClaims(database: database)
        let started = Date()
        defer { try? releaseClaims() }
        while !shouldStop() {
            let remaining = limit.map { $0 - claimed } ?? Int.max
            guard remaining > 0 else { break }
            let batch = try claim(now: now, count: min(remaining, max(concurrency * 4, 64)))
            guard !batch.isEmpty else { break }
            claimed += batch.count
            runConcurrently(batch) { id in
                self.process(subscriptionID: id, now: now)
                if let (doneNow, total) = self.finishedOne() { progress(doneNow, total) }
            }
        }
        progress(done, claimed)
        logger.info("bill_pass", ["summary": .string(summary.description), "seconds": .double(Date().timeIntervalSince(started))])
        return summary
    }

    /// Counts a finished subscription; answers the figures when a progress line is due (about once a second).
    private func finishedOne() -> (Int, Int)? {
        lock.lock()
        defer { lock.unlock() }
        done += 1
        guard Date().timeIntervalSince(lastReport) >= 1 else { return nil }
        lastReport = Date()
        return (done, claimed)
    }

    private func claim(now: Date, count: Int) throws -> [String] {
        try database.withConnection { connection in
            try BillingClaims(connection: connection).claim(dueAt: now, count: count, owner: owner,
                                                            leaseUntil: Date().addingTimeInterval(Biller.claimLease), realNow: Date())
        }
    }

    private func releaseClaims() throws {
        try database.withConnection { try BillingClaims(connection: $0).release(owner: owner) }
    }

    /// Settles everything due for one subscription at `now`: expiry, the charge, and later due periods or retries when `now` is far ahead.
    private func process(subscriptionID: String, now: Date) {
        let charger = Charger(database: database, services: services, logger: logger)
        for _ in 0..<64 {
            do {
                guard let subscription = try database.withConnection({ try SubscriptionRepository(connection: $0).find(id: subscriptionID) }) else { return }
                switch renewalDecision(state: subscription.state, now: now, calendar: services.calendar, cycle: subscription.cycle,
                                       dunning: services.dunning) {
                case .notDue:
                    return
                case .expire:
                    // A renewal charge still at Toss settles first: if it went through, that period was paid for and is served.
                    if let unsettled = try unsettledCharge(of: subscription) {
                        guard case .pending(let reason) = try charger.lookUp(orderID: unsettled.orderID, reason: "EXPIRY_WAITS", now: now) else { continue }
                        // Toss never received it, and nothing will send it again (this pass holds the claim): it was not charged.
                        if reason == "NOT_FOUND_AT_TOSS", now.timeIntervalSince(unsettled.createdAt) > Biller.unsentAfter {
                            _ = try PaymentSettlement(database: database, services: services, logger: logger, now: now).notSent(orderID: unsettled.orderID)
                            continue
                        }
                        count { $0.pending += 1 }
                        return
                    }
                    guard try transition(.periodEndReachedWithCancel, subscription, now: now) else { continue }
                    count { $0.expired += 1 }
                case .giveUp:
                    _ = try database.withConnection { connection in
                        try connection.transaction {
                            try SubscriptionLifecycle(connection: connection, services: services, now: now).giveUp(subscription)
                        }
                    }
                    return
                case .charge(let period, let attempt, _):
                    if attempt == 1, try PeriodBoundary(database: database, services: services, logger: logger, now: now).apply(to: subscription, period: period) {
                        continue
                    }
                    switch try charger.charge(subscription, periodIndex: period, attempt: attempt, now: now) {
                    case .charged:
                        count { $0.charged += 1 }
                        // Period `period` is paid now; unless the pass is catching up, the next one is not due yet.
                        if let next = subscription.state.periodStart(period + 1, calendar: services.calendar, cycle: subscription.cycle), now < next { return }
                    case .declined: count { $0.failed += 1 }
                    case .pending, .surplus, .blocked:
                        count { $0.pending += 1 }
                        return
                    }
                }
            } catch {
                logger.error("bill_error", ["subscription_id": .string(subscriptionID), "error": .string(String(describing: error))])
                count { $0.pending += 1 }
                return
            }
        }
    }

    /// The renewal attempt of the period being collected that Toss has not answered yet, if any.
    private func unsettledCharge(of subscription: Subscription) throws -> Payment? {
        try database.withConnection { connection in
            try PaymentRepository(connection: connection).attempts(subscriptionID: subscription.id, periodIndex: subscription.state.periodBeingCollected)
                .first { $0.status == .pending && !$0.surplus }
        }
    }

    /// False when another writer changed the subscription first (the loop reads it again).
    private func transition(_ event: SubscriptionEvent, _ subscription: Subscription, now: Date) throws -> Bool {
        try database.withConnection { connection in
            try connection.transaction {
                if case .applied = try SubscriptionLifecycle(connection: connection, services: services, now: now).apply(event, to: subscription) {
                    return true
                }
                return false
            }
        }
    }

    private func count(_ change: (inout BillingPassSummary) -> Void) {
        lock.lock()
        change(&summary)
        lock.unlock()
    }

    /// Runs `body` over `items` on `concurrency` threads and waits for all.
    private func runConcurrently(_ items: [String], _ body: @escaping @Sendable (String) -> Void) {
        let queue = WorkQueue(items)
        let group = DispatchGroup()
        for _ in 0..<min(concurrency, items.count) {
            group.enter()
            let thread = Thread {
                while let item = queue.next() { body(item) }
                group.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
    }
}

final class WorkQueue: @unchecked Sendable {
    private var items: [String]
    private var index = 0
    private let lock = NSLock()

    init(_ items: [String]) { self.items = items }

    func next() -> String? {
        lock.lock()
        defer { lock.unlock() }
        guard index < items.count else { return nil }
        index += 1
        return items[index - 1]
    }
}

/// Who holds a claim: `host:pid`. A claim held by a process on this host that no longer exists is released at once,
/// so a `bill` killed with -9 does not block the next pass for the lease time.
enum ClaimOwner {
    static var current: String { "\(ProcessInfo.processInfo.hostName):\(getpid())" }

    static func releaseDeadClaims(database: Database) throws {
        try database.withConnection { connection in
            let claims = BillingClaims(connection: connection)
            for owner in try claims.owners(onHost: ProcessInfo.processInfo.hostName) {
                guard let pid = Int32(owner.split(separator: ":").last ?? ""), kill(pid, 0) != 0, errno == ESRCH else { continue }
                try claims.release(owner: owner)
            }
        }
    }
}
