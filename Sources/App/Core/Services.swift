import Foundation
import Storage

/// The collaborators handlers use beyond storage: filled in by the executable at start-up.
public struct Services: Sendable {
    public init() {}
}
