import Foundation

enum Identifier {
    static func make() -> String { UUID().uuidString.lowercased() }

    /// Accepts a UUID in any case; answers its canonical lower-case form.
    static func canonical(_ text: String) -> String? { UUID(uuidString: text).map { $0.uuidString.lowercased() } }
}

extension Date {
    var unixSeconds: Int64 { Int64(timeIntervalSince1970.rounded(.down)) }
    init(unixSeconds: Int) { self.init(timeIntervalSince1970: TimeInterval(unixSeconds)) }
}
