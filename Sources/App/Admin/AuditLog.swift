import Billing
import Foundation
import Storage
import Web

/// One back-office action: who did what to which object, with the object's state before and after (JSON text).
struct AuditEntry: Sendable {
    let id: String
    let actorID: String?
    let actorName: String?
    let action: String
    let objectType: String
    let objectID: String
    let before: JSON?
    let after: JSON?
    let createdAt: Date

    init(row: Row) {
        id = row.string("id")
        actorID = row.optionalString("actor_id")
        actorName = row.optionalString("actor_username")
        action = row.string("action")
        objectType = row.string("object_type")
        objectID = row.string("object_id")
        before = row.optionalString("before_state").flatMap { try? JSON.parse($0) }
        after = row.optionalString("after_state").flatMap { try? JSON.parse($0) }
        createdAt = Date(unixSeconds: row.int("created_at"))
    }

    func json(zone: TimeZone) -> JSON {
        ["id": .string(id), "actor": actorID.map { ["id": .string($0), "username": .optional(actorName)] } ?? .null, "action": .string(action),
         "object_type": .string(objectType), "object_id": .string(objectID), "before": before ?? .null, "after": after ?? .null,
         "created_at": .string(RFC3339.format(createdAt, in: zone))]
    }

    /// "환불 3,000원 (사유: 고객 요청)" — the line shown on the object's page.
    var summary: String {
        let reason = after?["reason"]?.stringValue.map { " (사유: \($0))" } ?? ""
        switch action {
        case "payment.refund": return "환불 \(Won.format(after?["refund_amount"]?.intValue ?? 0))\(reason)"
        case "payment.surplus_refund": return "중복 승인 자동 환불 \(Won.format(after?["refund_amount"]?.intValue ?? 0))"
        case "subscription.cancel": return "구독 즉시 해지\(reason)"
        case "plan.create": return "요금제 생성"
        case "plan.update": return "요금제 수정"
        case "plan.deactivate": return "요금제 비활성화"
        case "plan.activate": return "요금제 다시 활성화"
        case "plan.delete": return "요금제 삭제"
        default: return action
        }
    }
}

struct AuditLogRepository {
    let connection: DatabaseConnection

    /// `actorID` nil: gudok itself acted (e.g. refunding a surplus approval).
    func record(actorID: String?, action: String, objectType: String, objectID: String, before: JSON?, after: JSON?, now: Date) throws {
        try connection.execute(
            """
            INSERT INTO audit_log (id, actor_id, action, object_type, object_id, before_state, after_state, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(Identifier.make()), .optional(actorID), .text(action), .text(objectType), .text(objectID),
             .optional(before?.serializedString()), .optional(after?.serializedString()), .int(now.unixSeconds)])
    }

    /// Entries about any of `objects` (type, id), oldest first.
    func entries(for objects: [(type: String, id: String)], limit: Int = 500) throws -> [AuditEntry] {
        guard !objects.isEmpty else { return [] }
        let clause = objects.map { _ in "(a.object_type = ? AND a.object_id = ?)" }.joined(separator: " OR ")
        let parameters = objects.flatMap { [SQLValue.text($0.type), .text($0.id)] }
        return try connection.query(
            "SELECT a.*, u.username AS actor_username FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id WHERE \(clause) ORDER BY a.created_at, a.id LIMIT ?",
            parameters + [.int(Int64(limit))]).map(AuditEntry.init(row:))
    }
}
