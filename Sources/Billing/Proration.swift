import Foundation

/// What a mid-period plan change costs (docs/billing.md#plan-changes).
public enum Proration {
    /// The share of `period` not yet used at `at`, in seconds: `(end − at) / (end − start)`, as a fraction of integers.
    public static func unused(of period: BillingPeriod, at: Date) -> (seconds: Int64, of: Int64) {
        let length = max(1, Int64(period.end.timeIntervalSince1970) - Int64(period.start.timeIntervalSince1970))
        let left = Int64(period.end.timeIntervalSince1970) - Int64(at.timeIntervalSince1970)
        return (min(max(0, left), length), length)
    }

    /// `newPrice × unused − oldPrice × unused`, rounded half away from zero to the won. Positive: the customer owes it
    /// now; negative: a credit on the next invoice.
    public static func difference(oldPrice: Int, newPrice: Int, period: BillingPeriod, at: Date) -> Int {
        let (left, length) = unused(of: period, at: at)
        let numerator = Int64(newPrice - oldPrice) * left
        let rounded = (abs(numerator) * 2 + length) / (2 * length)
        return Int(numerator < 0 ? -rounded : rounded)
    }
}

/// The smallest amount a card charge may be; no discount or credit brings an invoice below it.
public enum MinimumCharge {
    public static let won = 100

    /// How much of a `reduction` (a discount, a credit) an invoice of `subtotal` can take without falling under the minimum charge.
    public static func usableReduction(_ reduction: Int, subtotal: Int) -> Int {
        max(0, min(reduction, subtotal - won))
    }
}
