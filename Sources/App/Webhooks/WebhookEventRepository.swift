import Foundation
import Storage
import Web

/// The only writer of `webhook_events`, the log of every Toss webhook received.
struct WebhookEventRepository {
    let connection: DatabaseConnection

    struct Deferred {
        let id: String
        let eventType: String
        let data: JSONObject
    }

    /// Records a received event; false if its transmission id was seen before (a replay).
    func record(id: String, transmissionID: String?, eventType: String, paymentKey: String?, payload: JSON, receivedAt: Date) throws -> Bool {
        do {
            try connection.execute(
                """
                INSERT INTO webhook_events (id, transmission_id, event_type, payment_key, received_at, payload, outcome)
                VALUES (?, ?, ?, ?, ?, ?, 'RECEIVED')
                """,
                [.text(id), .optional(transmissionID), .text(eventType), .optional(paymentKey), .int(receivedAt.unixSeconds),
                 .text(payload.serializedString())])
            return true
        } catch where error.isUniqueViolation {
            return false
        }
    }

    func setOutcome(id: String, outcome: String, detail: String) throws {
        try connection.execute("UPDATE webhook_events SET outcome = ?, detail = ? WHERE id = ?", [.text(outcome), .text(detail), .text(id)])
    }

    /// Events whose processing could not finish when they arrived, oldest first.
    func deferred(limit: Int) throws -> [Deferred] {
        try connection.query("SELECT id, event_type, payload FROM webhook_events WHERE outcome = 'DEFERRED' ORDER BY received_at LIMIT ?",
                             [.int(Int64(limit))]).map { row in
            Deferred(id: row.string("id"), eventType: row.string("event_type"),
                     data: (try? JSON.parse(row.string("payload")))?["data"]?.objectValue ?? [:])
        }
    }
}
