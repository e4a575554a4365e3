import Billing
import Foundation
import Web

/// Charts drawn on the server as inline SVG: no script, no chart library, readable without CSS.
enum SVGChart {
    struct Bar {
        let label: String
        let value: Int
        /// The tooltip and the accessible text of the bar.
        let title: String
    }

    private static let muted = "#6b7684"
    private static let grid = "#e5e8eb"
    private static let brand = "#3182f6"

    /// Vertical bars with a value axis, e.g. revenue per month.
    static func columns(_ bars: [Bar], id: String, caption: String) -> String {
        let e = HTML.escape
        let width = 720.0, height = 300.0
        let left = 64.0, right = 12.0, top = 26.0, bottom = 44.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let ceiling = niceCeiling(bars.map(\.value).max() ?? 0)
        var svg = ""
        for step in 0...4 {
            let value = ceiling * step / 4
            let y = top + plotHeight - plotHeight * Double(step) / 4
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(width - right))\" y2=\"\(f(y))\" stroke=\"\(grid)\" stroke-width=\"1\"/>"
            svg += "<text x=\"\(f(left - 8))\" y=\"\(f(y + 4))\" text-anchor=\"end\" font-size=\"11\" fill=\"\(muted)\">\(e(compactWon(value)))</text>"
        }
        let slot = bars.isEmpty ? plotWidth : plotWidth / Double(bars.count)
        for (index, bar) in bars.enumerated() {
            let barHeight = ceiling == 0 ? 0 : plotHeight * Double(max(0, bar.value)) / Double(ceiling)
            let x = left + slot * Double(index) + slot * 0.18
            let y = top + plotHeight - barHeight
            svg += "<g class=\"bar\" data-label=\"\(e(bar.label))\" data-value=\"\(bar.value)\"><title>\(e(bar.title))</title>"
            svg += "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(slot * 0.64))\" height=\"\(f(barHeight))\" rx=\"3\" fill=\"\(brand)\"/>"
            if bar.value > 0 {
                svg += "<text x=\"\(f(x + slot * 0.32))\" y=\"\(f(y - 6))\" text-anchor=\"middle\" font-size=\"10\" fill=\"#191f28\">\(e(compactWon(bar.value)))</text>"
            }
            svg += "<text x=\"\(f(x + slot * 0.32))\" y=\"\(f(height - bottom + 18))\" text-anchor=\"middle\" font-size=\"11\" fill=\"\(muted)\">\(e(bar.label))</text></g>"
        }
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(top + plotHeight))\" x2=\"\(f(width - right))\" y2=\"\(f(top + plotHeight))\" stroke=\"\(muted)\" stroke-width=\"1\"/>"
        return figure(svg, id: id, caption: caption, width: width, height: height, bars: bars)
    }

    /// Horizontal bars with a label on the left, e.g. active subscriptions per plan.
    static func rows(_ bars: [Bar], id: String, caption: String, unit: String) -> String {
        let e = HTML.escape
        let rowHeight = 34.0, labelWidth = 150.0, width = 720.0, right = 70.0, top = 10.0
        let height = top * 2 + rowHeight * Double(max(bars.count, 1))
        let largest = max(bars.map(\.value).max() ?? 0, 1)
        var svg = ""
        if bars.isEmpty {
            svg += "<text x=\"\(f(width / 2))\" y=\"\(f(height / 2 + 4))\" text-anchor=\"middle\" font-size=\"13\" fill=\"\(muted)\">데이터가 없습니다</text>"
        }
        for (index, bar) in bars.enumerated() {
            let y = top + rowHeight * Double(index)
            let barWidth = (width - labelWidth - right) * Double(bar.value) / Double(largest)
            svg += "<g class=\"bar\" data-label=\"\(e(bar.label))\" data-value=\"\(bar.value)\"><title>\(e(bar.title))</title>"
            svg += "<text x=\"\(f(labelWidth - 10))\" y=\"\(f(y + rowHeight / 2 + 4))\" text-anchor=\"end\" font-size=\"12\" fill=\"#191f28\">\(e(bar.label))</text>"
            svg += "<rect x=\"\(f(labelWidth))\" y=\"\(f(y + 6))\" width=\"\(f(max(barWidth, bar.value > 0 ? 2 : 0)))\" height=\"\(f(rowHeight - 12))\" rx=\"3\" fill=\"\(brand)\"/>"
            svg += "<text x=\"\(f(labelWidth + barWidth + 8))\" y=\"\(f(y + rowHeight / 2 + 4))\" font-size=\"12\" fill=\"\(muted)\">\(Won.formatNumber(bar.value))\(e(unit))</text></g>"
        }
        return figure(svg, id: id, caption: caption, width: width, height: height, bars: bars)
    }

    private static func figure(_ content: String, id: String, caption: String, width: Double, height: Double, bars: [Bar]) -> String {
        let e = HTML.escape
        let description = bars.map(\.title).joined(separator: ", ")
        return """
        <figure class="chart" id="\(e(id))"><figcaption>\(e(caption))</figcaption>
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(f(width)) \(f(height))" role="img" aria-label="\(e(caption + ": " + description))" font-family="sans-serif">\(content)</svg>
        </figure>
        """
    }

    /// 0 → 0, 87,000 → 100,000, 1,230,000 → 2,000,000: an axis maximum with round quarter steps.
    static func niceCeiling(_ value: Int) -> Int {
        guard value > 0 else { return 0 }
        var magnitude = 1
        while magnitude * 10 <= value { magnitude *= 10 }
        for factor in [1, 2, 4, 5, 8, 10] where magnitude * factor >= value { return magnitude * factor }
        return magnitude * 10
    }

    /// 9,900 → "9,900", 123,000 → "12.3만", 150,000,000 → "1.5억".
    static func compactWon(_ value: Int) -> String {
        func decimal(_ number: Double) -> String {
            let rounded = (number * 10).rounded() / 10
            return rounded == rounded.rounded() ? Won.formatNumber(Int(rounded)) : String(format: "%.1f", rounded)
        }
        switch abs(value) {
        case 100_000_000...: return decimal(Double(value) / 100_000_000) + "억"
        case 10_000...: return decimal(Double(value) / 10_000) + "만"
        default: return Won.formatNumber(value)
        }
    }

    private static func f(_ number: Double) -> String {
        let rounded = (number * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.1f", rounded)
    }
}
