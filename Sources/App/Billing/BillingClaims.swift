import Foundation
import Storage

/// Claims on due subscriptions, so several `bill` passes share the work: rows locked with SKIP LOCKED on PostgreSQL (one
/// short write transaction on SQLite), marked with the claimer and a lease in real time.
struct BillingClaims {
    let connection: DatabaseConnection

    /// Up to `count` subscriptions due at `now` that nobody holds, now held by `owner` until `leaseUntil`.
    func claim(dueAt now: Date, count: Int, owner: String, leaseUntil: Date, realNow: Date) throws -> [String] {
        let lockClause = connection.dialect == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
        let sql = """
            UPDATE subscriptions SET claimed_until = ?, claimed_by = ? WHERE id IN (
              SELECT id FROM subscriptions WHERE status IN ('ACTIVE', 'PAST_DUE') AND next_billing_date <= ? AND claimed_until < ?
              ORDER BY next_billing_date LIMIT ?\(lockClause)) RETURNING id
            """
        return try connection.transaction(immediate: true) {
            try connection.query(sql, [.int(leaseUntil.unixSeconds), .text(owner), .int(now.unixSeconds), .int(realNow.unixSeconds), .int(Int64(count))])
                .map { $0.string("id") }
        }
    }

    func release(owner: String) throws {
        try connection.execute("UPDATE subscriptions SET claimed_until = 0, claimed_by = NULL WHERE claimed_by = ?", [.text(owner)])
    }

    /// The claimers on `host` (`host:pid`).
    func owners(onHost host: String) throws -> [String] {
        try connection.query("SELECT DISTINCT claimed_by FROM subscriptions WHERE claimed_by LIKE ?", [.text(host + ":%")])
            .compactMap { $0.optionalString("claimed_by") }
    }
}
