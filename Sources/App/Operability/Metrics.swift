import Foundation

/// Request counters and latency histograms kept in the responder's memory, rendered in Prometheus text format.
final class Metrics: @unchecked Sendable {
    static let latencyBuckets: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    private struct RequestKey: Hashable {
        let method: String
        let route: String
        let status: Int
    }

    private struct Histogram {
        var buckets = [Int](repeating: 0, count: Metrics.latencyBuckets.count)
        var count = 0
        var sum = 0.0
    }

    private let lock = NSLock()
    private var requests: [RequestKey: Int] = [:]
    private var latency: [String: Histogram] = [:]

    func observe(method: String, route: String, status: Int, seconds: Double) {
        lock.lock()
        defer { lock.unlock() }
        requests[RequestKey(method: method, route: route, status: status), default: 0] += 1
        var histogram = latency[route] ?? Histogram()
        for (index, bound) in Metrics.latencyBuckets.enumerated() where seconds <= bound { histogram.buckets[index] += 1 }
        histogram.count += 1
        histogram.sum += seconds
        latency[route] = histogram
    }

    func renderRequests() -> String {
        lock.lock()
        let requests = self.requests
        let latency = self.latency
        lock.unlock()
        var out = "# HELP gudok_http_requests_total HTTP requests by route and status.\n# TYPE gudok_http_requests_total counter\n"
        for (key, count) in requests.sorted(by: { ($0.key.route, $0.key.method, $0.key.status) < ($1.key.route, $1.key.method, $1.key.status) }) {
            out += "gudok_http_requests_total{method=\"\(Metrics.escape(key.method))\",route=\"\(Metrics.escape(key.route))\",status=\"\(key.status)\"} \(count)\n"
        }
        out += "# HELP gudok_http_request_duration_seconds Time to answer a request, by route.\n# TYPE gudok_http_request_duration_seconds histogram\n"
        for (route, histogram) in latency.sorted(by: { $0.key < $1.key }) {
            let label = "route=\"\(Metrics.escape(route))\""
            for (index, bound) in Metrics.latencyBuckets.enumerated() {
                out += "gudok_http_request_duration_seconds_bucket{\(label),le=\"\(bound)\"} \(histogram.buckets[index])\n"
            }
            out += "gudok_http_request_duration_seconds_bucket{\(label),le=\"+Inf\"} \(histogram.count)\n"
            out += "gudok_http_request_duration_seconds_sum{\(label)} \(histogram.sum)\n"
            out += "gudok_http_request_duration_seconds_count{\(label)} \(histogram.count)\n"
        }
        return out
    }

    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}
