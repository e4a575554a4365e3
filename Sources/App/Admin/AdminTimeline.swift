import Billing
import Foundation
import Web

/// One billing period of a subscription as the back office shows it: computed from the anchor, with its charge attempts.
struct AdminPeriod: Sendable {
    let period: BillingPeriod
    let attempts: [Payment]
    /// The period not yet charged (the next renewal).
    let upcoming: Bool

    static let shown = 60

    /// Periods 0 … current (the last `shown`), plus the next one while the subscription renews.
    static func periods(of subscription: Subscription, payments: [Payment], calendar: BillingCalendar) -> [AdminPeriod] {
        guard subscription.anchor != nil else { return [] }
        let renews = (subscription.status == .active && !subscription.cancelAtPeriodEnd) || subscription.status == .pastDue
        let last = subscription.currentPeriodIndex + (renews ? 1 : 0)
        // Periods before a change of billing cycle are not on today's calendar; their payments stay in the timeline.
        let first = max(subscription.anchorIndex, last - shown + 1)
        let byPeriod = Dictionary(grouping: payments, by: \.periodIndex)
        return (first...last).compactMap { index in
            guard let period = subscription.state.period(index, calendar: calendar, cycle: subscription.cycle) else { return nil }
            return AdminPeriod(period: period,
                        attempts: (byPeriod[index] ?? []).sorted { $0.attempt < $1.attempt }, upcoming: index > subscription.currentPeriodIndex)
        }
    }

    func json(zone: TimeZone) -> JSON {
        ["index": .int(period.index), "start": .string(RFC3339.format(period.start, in: zone)), "end": .string(RFC3339.format(period.end, in: zone)),
         "upcoming": .bool(upcoming), "payment_ids": .array(attempts.map { .string($0.id) }),
         "paid": .bool(attempts.contains { DashboardFigures.chargeSucceeded($0.status) })]
    }
}

/// One line of a subscription's history.
struct AdminTimelineEvent: Sendable {
    let at: Date
    let kind: String
    let text: String
    let objectID: String?

    static func timeline(_ subscription: Subscription, updatedAt: Date, payments: [Payment], audit: [AuditEntry]) -> [AdminTimelineEvent] {
        var events = [AdminTimelineEvent(at: subscription.createdAt, kind: "created", text: "구독 생성 (\(subscription.plan.name))", objectID: subscription.id)]
        if let anchor = subscription.anchor {
            events.append(AdminTimelineEvent(at: anchor, kind: "started", text: "첫 결제 완료, 구독 시작", objectID: subscription.id))
        }
        for payment in payments {
            var text = "\(payment.periodIndex + 1)회차 결제 \(Won.format(payment.amount)): \(payment.status.koreanLabel)"
            if payment.attempt > 1 { text += " (\(payment.attempt)번째 시도)" }
            if let reason = payment.failureReason { text += " — \(reason)" }
            events.append(AdminTimelineEvent(at: payment.paidAt ?? payment.createdAt, kind: "payment", text: text, objectID: payment.id))
        }
        for entry in audit {
            let who = entry.actorName.map { " · \($0)" } ?? ""
            events.append(AdminTimelineEvent(at: entry.createdAt, kind: "audit", text: entry.summary + who, objectID: entry.objectID))
        }
        switch subscription.status {
        case .cancelled where !audit.contains { $0.action == "subscription.cancel" }:
            events.append(AdminTimelineEvent(at: subscription.cancelledAt ?? updatedAt, kind: "cancelled", text: "고객이 구독을 해지함", objectID: subscription.id))
        case .expired:
            events.append(AdminTimelineEvent(at: subscription.endDate ?? updatedAt, kind: "expired", text: "기간 만료로 구독 종료", objectID: subscription.id))
        case .inactive:
            events.append(AdminTimelineEvent(at: updatedAt, kind: "inactive", text: "자동결제 재시도가 모두 실패해 비활성화됨", objectID: subscription.id))
        default:
            break
        }
        return events.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
    }

    func json(zone: TimeZone) -> JSON {
        ["at": .string(RFC3339.format(at, in: zone)), "kind": .string(kind), "text": .string(text), "object_id": .optional(objectID)]
    }
}
