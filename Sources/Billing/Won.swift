/// Korean won amounts as the UI shows them. Grouping is done by hand so the
/// output never depends on the host's locale.
public enum Won {
    /// 9900 → "9,900원"; negative amounts (refunds) keep their sign: "-9,900원".
    public static func format(_ amount: Int) -> String {
        formatNumber(amount) + "원"
    }

    /// 9900 → "9,900".
    public static func formatNumber(_ amount: Int) -> String {
        let digits = String(amount.magnitude)
        var grouped = ""
        for (offset, digit) in digits.enumerated() {
            if offset > 0, (digits.count - offset) % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        return amount < 0 ? "-" + grouped : grouped
    }
}
