import CCurl
import Foundation

/// One libcurl easy handle. Not thread-safe: one thread at a time (the pool sees to it).
/// The handle keeps its connection cache across `perform` calls, which is what reuses TCP/TLS connections.
final class CurlEasyHandle {
    private let curl: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>

    init() throws(HTTPClientError) {
        CurlGlobal.initializeOnce()
        guard let curl = curl_easy_init() else { throw .other("curl_easy_init failed") }
        self.curl = curl
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        curl_easy_cleanup(curl)
        errorBuffer.deallocate()
    }

    func perform(_ request: OutboundRequest) throws(HTTPClientError) -> OutboundResponse {
        // Reset drops the previous call's options but keeps live connections, DNS and TLS session caches.
        curl_easy_reset(curl)
        errorBuffer[0] = 0
        let accumulator = ResponseAccumulator()
        let accumulatorPointer = Unmanaged.passRetained(accumulator)
        defer { accumulatorPointer.release() }
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }

        try set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer))
        try set(CURLOPT_URL, string: request.url)
        try set(CURLOPT_PROTOCOLS_STR, string: "http,https")
        try set(CURLOPT_NOSIGNAL, 1)
        try set(CURLOPT_TIMEOUT_MS, milliseconds(request.timeout))
        try set(CURLOPT_CONNECTTIMEOUT_MS, milliseconds(request.connectTimeout))
        try set(CURLOPT_TCP_KEEPALIVE, 1)
        try set(CURLOPT_TCP_KEEPIDLE, 30)
        try set(CURLOPT_TCP_KEEPINTVL, 15)
        // HTTP/1.1 keeps "was the request written?" a plain question about bytes on one connection.
        try set(CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1)
        try setMethodAndBody(request)

        for (name, value) in request.headers {
            // libcurl sends custom headers verbatim; a line break would smuggle in another header.
            guard !(name + value).contains(where: \.isNewline) else {
                throw .other("header \(name) contains a line break")
            }
            headerList = curl_slist_append(headerList, "\(name): \(value)")
        }
        // No "Expect: 100-continue" round trip for larger bodies.
        headerList = curl_slist_append(headerList, "Expect:")
        try call("curl_easy_setopt(HTTPHEADER)", gudok_curl_setopt_slist(curl, CURLOPT_HTTPHEADER, headerList))

        try set(CURLOPT_WRITEFUNCTION, function: { data, size, count, context in
            let accumulator = Unmanaged<ResponseAccumulator>.fromOpaque(context!).takeUnretainedValue()
            accumulator.appendBody(data, size * count)
            return size * count
        })
        try set(CURLOPT_WRITEDATA, pointer: accumulatorPointer.toOpaque())
        try set(CURLOPT_HEADERFUNCTION, function: { data, size, count, context in
            let accumulator = Unmanaged<ResponseAccumulator>.fromOpaque(context!).takeUnretainedValue()
            accumulator.appendHeaderLine(data, size * count)
            return size * count
        })
        try set(CURLOPT_HEADERDATA, pointer: accumulatorPointer.toOpaque())

        let code = curl_easy_perform(curl)
        guard code == CURLE_OK else { throw failure(code) }

        var status = 0
        gudok_curl_getinfo_long(curl, CURLINFO_RESPONSE_CODE, &status)
        return OutboundResponse(status: status, headers: accumulator.headers, body: accumulator.body)
    }

    private func setMethodAndBody(_ request: OutboundRequest) throws(HTTPClientError) {
        let method = request.method.uppercased()
        let body = request.body ?? []
        switch method {
        case "GET" where body.isEmpty:
            try set(CURLOPT_HTTPGET, 1)
        case "HEAD" where body.isEmpty:
            try set(CURLOPT_NOBODY, 1)
        default:
            if request.body != nil || method == "POST" {
                try set(CURLOPT_POSTFIELDSIZE, body.count)
                if body.isEmpty {
                    try set(CURLOPT_COPYPOSTFIELDS, string: "")
                } else {
                    // COPYPOSTFIELDS copies, so the array need not outlive this call.
                    let code = body.withUnsafeBytes { bytes in
                        gudok_curl_setopt_pointer(curl, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress!))
                    }
                    try call("curl_easy_setopt(COPYPOSTFIELDS)", code)
                }
            }
            if method != "POST" { try set(CURLOPT_CUSTOMREQUEST, string: method) }
        }
    }

    private func failure(_ code: CURLcode) -> HTTPClientError {
        var requestSize = 0
        gudok_curl_getinfo_long(curl, CURLINFO_REQUEST_SIZE, &requestSize)
        var pretransfer: curl_off_t = 0
        gudok_curl_getinfo_off_t(curl, CURLINFO_PRETRANSFER_TIME_T, &pretransfer)
        return CurlFailure.classify(code: code, sent: requestSize > 0, reachedRequest: pretransfer > 0,
                                    detail: detail(code))
    }

    /// libcurl's own message names at most the host and port, never the path or headers.
    private func detail(_ code: CURLcode) -> String {
        let buffered = String(cString: errorBuffer)
        if !buffered.isEmpty { return buffered }
        return String(cString: curl_easy_strerror(code))
    }

    private func milliseconds(_ seconds: Double) -> Int {
        max(1, Int((seconds * 1000).rounded()))
    }

    private func set(_ option: CURLoption, _ value: Int) throws(HTTPClientError) {
        try call("curl_easy_setopt(\(option.rawValue))", gudok_curl_setopt_long(curl, option, value))
    }

    private func set(_ option: CURLoption, string value: String) throws(HTTPClientError) {
        // libcurl copies string options.
        try call("curl_easy_setopt(\(option.rawValue))", gudok_curl_setopt_string(curl, option, value))
    }

    private func set(_ option: CURLoption, pointer value: UnsafeMutableRawPointer) throws(HTTPClientError) {
        try call("curl_easy_setopt(\(option.rawValue))", gudok_curl_setopt_pointer(curl, option, value))
    }

    private func set(_ option: CURLoption, function: gudok_curl_write_callback) throws(HTTPClientError) {
        try call("curl_easy_setopt(\(option.rawValue))", gudok_curl_setopt_write_function(curl, option, function))
    }

    private func call(_ name: String, _ code: CURLcode) throws(HTTPClientError) {
        guard code == CURLE_OK else {
            throw .other("\(name): \(String(cString: curl_easy_strerror(code)))")
        }
    }
}

/// Collects one response's body and headers from libcurl's callbacks.
private final class ResponseAccumulator {
    private(set) var body: [UInt8] = []
    private(set) var headers: [String: String] = [:]

    func appendBody(_ data: UnsafeMutablePointer<CChar>?, _ count: Int) {
        guard let data, count > 0 else { return }
        body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: count))
    }

    func appendHeaderLine(_ data: UnsafeMutablePointer<CChar>?, _ count: Int) {
        guard let data, count > 0 else { return }
        let line = String(decoding: UnsafeRawBufferPointer(start: data, count: count), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        // A new status line (after a 1xx, say) starts a new header block.
        if line.hasPrefix("HTTP/") {
            headers = [:]
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        if let existing = headers[name] {
            headers[name] = existing + ", " + value
        } else {
            headers[name] = value
        }
    }
}
