import Foundation

/// One billing period of a subscription: the half-open interval [start, end).
public struct BillingPeriod: Sendable, Equatable {
    /// 0 for the period that starts at the anchor.
    public let index: Int
    public let start: Date
    /// The start of the next period, which is also this period's renewal due date.
    public let end: Date

    public init(index: Int, start: Date, end: Date) {
        self.index = index
        self.start = start
        self.end = end
    }

    public func contains(_ date: Date) -> Bool {
        start <= date && date < end
    }
}
