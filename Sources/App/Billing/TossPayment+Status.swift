import Billing
import Toss

/// The one reading of Toss's payment status in gudok's terms.
extension TossPayment {
    /// Toss approved it at some point (a refund since does not undo the approval).
    var wasApproved: Bool { status == "DONE" || status == "PARTIAL_CANCELED" || status == "CANCELED" }

    /// Toss refused it for good.
    var wasRefused: Bool { status == "ABORTED" || status == "EXPIRED" }

    /// The payment status Toss's status stands for; nil while Toss is still waiting (READY, IN_PROGRESS, …).
    var paymentStatus: PaymentStatus? {
        switch status {
        case "DONE": .completed
        case "CANCELED": .cancelled
        case "PARTIAL_CANCELED": .partialCancelled
        case "ABORTED", "EXPIRED": .failed
        default: nil
        }
    }
}
