/// What one charge attempt came to.
enum ChargeOutcome: Sendable, Equatable {
    /// Toss approved it; the payment is COMPLETED and the subscription advanced.
    case charged
    /// Toss refused for good (or there was no card); the payment is FAILED and dunning moved on.
    case declined(code: String, message: String)
    /// The outcome is not known yet (timeout, 5xx, lookup needed); the payment stays PENDING for reconcile or the next pass.
    case pending(reason: String)
}
