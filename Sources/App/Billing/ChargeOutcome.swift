/// What one charge attempt came to.
enum ChargeOutcome: Sendable, Equatable {
    /// Toss approved it; the payment is COMPLETED, its invoice PAID and the subscription advanced.
    case charged
    /// Toss refused for good (or there was no card); the payment is FAILED and dunning moved on.
    case declined(code: String, message: String)
    /// The outcome is not known yet (timeout, 5xx, lookup needed); the payment stays PENDING for reconcile or the next pass.
    case pending(reason: String)
    /// Toss approved it, but its invoice was already paid or void: gudok refunds it (or will, at the next reconcile).
    case surplus
    /// Charging is stopped through no fault of the customer's (the billing key cannot be opened); nothing was sent to Toss.
    case blocked(reason: String)
}
