/// A plan's price spread over one month, for MRR: quarterly ÷ 3, yearly ÷ 12.
/// Kept as a Double so sums over many subscriptions do not accumulate rounding;
/// round once, when displaying the total.
public func monthlyRecurringRevenue(price: Int, cycle: BillingCycle) -> Double {
    Double(price) / Double(cycle.months)
}
