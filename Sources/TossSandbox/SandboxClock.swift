// Sandbox time: the real clock plus an adjustable offset (for tests of the
// 10-minute confirm window), and Toss's timestamp format in Asia/Seoul.

import Foundation

public final class SandboxClock: @unchecked Sendable {
    private let lock = NSLock()
    private var offset: Double = 0

    public init() {}

    /// Seconds since 1970, shifted by the offset.
    public func now() -> Double {
        lock.lock(); defer { lock.unlock() }
        return Date().timeIntervalSince1970 + offset
    }

    public var offsetSeconds: Double {
        get { lock.lock(); defer { lock.unlock() }; return offset }
        set { lock.lock(); offset = newValue; lock.unlock() }
    }

    public func advance(by seconds: Double) {
        lock.lock(); offset += seconds; lock.unlock()
    }
}

public enum TossTime {
    /// `yyyy-MM-dd'T'HH:mm:ss+09:00` (Korea has no daylight saving time).
    public static func format(_ epoch: Double) -> String {
        let c = civil(epoch)
        return "\(pad4(c.y))-\(pad2(c.m))-\(pad2(c.d))T\(pad2(c.hh)):\(pad2(c.mm)):\(pad2(c.ss))+09:00"
    }

    /// Same with milliseconds, for the call log.
    public static func formatMillis(_ epoch: Double) -> String {
        let c = civil(epoch)
        let ms = Int((epoch - epoch.rounded(.down)) * 1000)
        let msText = ms < 10 ? "00\(ms)" : ms < 100 ? "0\(ms)" : "\(ms)"
        return "\(pad4(c.y))-\(pad2(c.m))-\(pad2(c.d))T\(pad2(c.hh)):\(pad2(c.mm)):\(pad2(c.ss)).\(msText)+09:00"
    }

    /// `yyyyMMddHHmmss` in KST, used inside generated keys.
    public static func compact(_ epoch: Double) -> String {
        let c = civil(epoch)
        return "\(pad4(c.y))\(pad2(c.m))\(pad2(c.d))\(pad2(c.hh))\(pad2(c.mm))\(pad2(c.ss))"
    }

    /// Parses `yyyy-MM-ddTHH:mm:ss` with `Z` or `±hh:mm` (fraction allowed).
    public static func parse(_ text: String) -> Double? {
        let b = Array(text.utf8)
        func num(_ from: Int, _ len: Int) -> Int? {
            guard from + len <= b.count else { return nil }
            var v = 0
            for i in from..<(from + len) {
                guard b[i] >= 48 && b[i] <= 57 else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        guard b.count >= 19, b[4] == 45, b[7] == 45, b[10] == 84 || b[10] == 116 || b[10] == 32, b[13] == 58, b[16] == 58,
              let y = num(0, 4), let m = num(5, 2), let d = num(8, 2),
              let hh = num(11, 2), let mm = num(14, 2), let ss = num(17, 2),
              (1...12).contains(m), (1...31).contains(d), hh < 24, mm < 60, ss < 61 else { return nil }
        var i = 19
        var frac = 0.0
        if i < b.count, b[i] == 46 {
            i += 1
            var scale = 0.1
            while i < b.count, b[i] >= 48 && b[i] <= 57 { frac += Double(b[i] - 48) * scale; scale /= 10; i += 1 }
        }
        var offset = 0
        if i < b.count {
            if b[i] == 90 || b[i] == 122 { i += 1 } else if b[i] == 43 || b[i] == 45, let oh = num(i + 1, 2), let om = num(i + 4, 2), i + 3 < b.count, b[i + 3] == 58 {
                offset = (oh * 3600 + om * 60) * (b[i] == 45 ? -1 : 1)
                i += 6
            } else { return nil }
        } else { return nil }
        guard i == b.count else { return nil }
        let days = daysFromCivil(y, m, d)
        return Double(days * 86400 + hh * 3600 + mm * 60 + ss - offset) + frac
    }

    private struct Civil { var y, m, d, hh, mm, ss: Int }

    private static func civil(_ epoch: Double) -> Civil {
        let t = Int(epoch.rounded(.down)) + 9 * 3600
        var days = t / 86400
        var secs = t % 86400
        if secs < 0 { secs += 86400; days -= 1 }
        // Howard Hinnant's civil_from_days
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return Civil(y: y, m: m, d: d, hh: secs / 3600, mm: secs % 3600 / 60, ss: secs % 60)
    }

    private static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = m > 2 ? m - 3 : m + 9
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    private static func pad2(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
    private static func pad4(_ v: Int) -> String {
        let s = String(v)
        return s.count >= 4 ? s : String(repeating: "0", count: 4 - s.count) + s
    }
}
