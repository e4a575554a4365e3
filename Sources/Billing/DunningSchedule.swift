import Foundation

/// When a declined renewal is retried (docs/billing.md#dunning).
///
/// Attempt 1 is the renewal itself, due at the period's start. Attempt *n* ≥ 2
/// is due `retryOffsetsInDays[n - 2]` calendar days after that original due
/// date — never after the previous attempt, so a late retry does not push the
/// later ones back.
public struct DunningSchedule: Sendable, Equatable {
    /// Retries one, three and five days after the original due date.
    public static let standard = DunningSchedule(retryOffsetsInDays: [1, 3, 5])

    public let retryOffsetsInDays: [Int]

    /// Offsets must be positive and strictly increasing: attempts happen in order.
    public init(retryOffsetsInDays: [Int]) {
        precondition(
            zip([0] + retryOffsetsInDays, retryOffsetsInDays).allSatisfy { $0 < $1 },
            "dunning offsets must be positive and strictly increasing: \(retryOffsetsInDays)"
        )
        self.retryOffsetsInDays = retryOffsetsInDays
    }

    /// The original attempt plus every retry; the standard schedule has 4.
    public var maxAttempts: Int { 1 + retryOffsetsInDays.count }

    /// When attempt number `attempt` (1-based) is due, or nil when the schedule has no such attempt.
    public func dueDate(forAttempt attempt: Int, originalDue: Date, calendar: BillingCalendar) -> Date? {
        guard attempt >= 1, attempt <= maxAttempts else { return nil }
        if attempt == 1 { return originalDue }
        return calendar.addingDays(retryOffsetsInDays[attempt - 2], to: originalDue)
    }
}
