/// Where one payment (one charge attempt) stands.
/// Raw values are the API's and the database's.
public enum PaymentStatus: String, Sendable, CaseIterable {
    /// Created, or sent to Toss with an outcome not yet known (reconciled later).
    case pending = "PENDING"
    case completed = "COMPLETED"
    case failed = "FAILED"
    case cancelled = "CANCELLED"
    case partialCancelled = "PARTIAL_CANCELLED"

    /// The label shown on Korean pages (the seed's wording where it had one).
    public var koreanLabel: String {
        switch self {
        case .pending: "대기중"
        case .completed: "완료"
        case .failed: "실패"
        case .cancelled: "취소"
        case .partialCancelled: "부분 취소"
        }
    }
}
