import Billing
import Foundation

/// The arithmetic of refunds, checked before Toss is called so an impossible refund never reaches it.
enum RefundRules {
    static let maxReasonLength = 200

    /// What is left to refund.
    static func balance(total: Int, refunded: Int) -> Int { max(0, total - refunded) }

    static func balance(of payment: Payment) -> Int { balance(total: payment.amount, refunded: payment.refundedAmount) }

    /// The amount to refund (`requested`, or everything left when nil), or why not.
    static func amount(status: PaymentStatus, hasPaymentKey: Bool, total: Int, refunded: Int, requested: Int?) -> Result<Int, AdminError> {
        switch status {
        case .completed, .partialCancelled: break
        case .cancelled: return .failure(.notRefundable("이미 전액 환불된 결제입니다."))
        case .pending, .failed: return .failure(.notRefundable("완료되지 않은 결제(\(status.koreanLabel))는 환불할 수 없습니다."))
        }
        guard hasPaymentKey else { return .failure(.notRefundable("토스페이먼츠 결제 키가 없는 결제는 환불할 수 없습니다.")) }
        let left = balance(total: total, refunded: refunded)
        guard left > 0 else { return .failure(.notRefundable("환불할 금액이 남아 있지 않습니다.")) }
        let amount = requested ?? left
        guard amount > 0 else { return .failure(.invalidRefundAmount(amount)) }
        guard amount <= left else { return .failure(.refundExceedsBalance(balance: left, requested: amount)) }
        return .success(amount)
    }

    /// The reason as Toss takes it (`cancelReason`, at most 200 characters), or nil when unusable.
    static func reason(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty || trimmed.count > maxReasonLength ? nil : trimmed
    }

    /// One key per refund request: a double-submitted form (same payment, same state, same amount) replays at Toss instead of refunding twice.
    static func idempotencyKey(paymentID: String, refundedBefore: Int, amount: Int) -> String {
        "refund-\(paymentID)-\(refundedBefore)-\(amount)"
    }

    /// The payment after Toss's answer: refunded = total − Toss's balance; nothing left → CANCELLED.
    static func settled(totalAmount: Int, balanceAmount: Int) -> (refunded: Int, status: PaymentStatus) {
        let refunded = max(0, totalAmount - max(0, balanceAmount))
        return (refunded, balanceAmount <= 0 ? .cancelled : .partialCancelled)
    }
}
