import Crypto
import Glibc
import Web

/// The CGI parameters of one request, copied out of libfcgi at once (its pointers die at the next accept).
struct FastCGIParams {
    private(set) var values: [String: String] = [:]

    init(environment: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) {
        guard var cursor = environment else { return }
        values.reserveCapacity(32)
        while let entry = cursor.pointee {
            // Split at the first '=' on the bytes: cheaper than Character-level String indexing, once per param.
            let length = strlen(entry)
            entry.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
                let buffer = UnsafeBufferPointer(start: bytes, count: length)
                if let equals = buffer.firstIndex(of: UInt8(ascii: "=")) {
                    values[String(decoding: UnsafeBufferPointer(rebasing: buffer[..<equals]), as: UTF8.self)] =
                        String(decoding: UnsafeBufferPointer(rebasing: buffer[(equals + 1)...]), as: UTF8.self)
                }
            }
            cursor += 1
        }
    }

    init(values: [String: String]) { self.values = values }

    var contentLength: Int? { values["CONTENT_LENGTH"].flatMap { Int($0) } }

    func httpRequest() -> HTTPRequest {
        let requestURI = values["REQUEST_URI"] ?? values["DOCUMENT_URI"] ?? "/"
        let rawPath = requestURI.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? "/"
        let query = values["QUERY_STRING"]
            ?? (requestURI.firstIndex(of: "?").map { String(requestURI[requestURI.index(after: $0)...]) } ?? "")
        var headers: [String: String] = [:]
        for (name, value) in values where name.hasPrefix("HTTP_") {
            headers[FastCGIParams.headerName(cgiName: name)] = value
        }
        if let type = values["CONTENT_TYPE"], !type.isEmpty { headers["content-type"] = type }
        if let length = values["CONTENT_LENGTH"], !length.isEmpty { headers["content-length"] = length }
        let https = (values["HTTPS"].map { $0.lowercased() == "on" || $0 == "1" } ?? false) || values["REQUEST_SCHEME"] == "https"
        let host = FastCGIParams.authority(host: headers["host"] ?? values["SERVER_NAME"] ?? "localhost", port: values["SERVER_PORT"], https: https)
        return HTTPRequest(
            method: values["REQUEST_METHOD"] ?? "GET",
            path: PercentEncoding.decode(rawPath.isEmpty ? "/" : rawPath),
            query: QueryParameters(parsing: query),
            headers: headers,
            remoteAddress: values["REMOTE_ADDR"] ?? "",
            isHTTPS: https,
            host: host,
            requestID: values["REQUEST_ID"].flatMap { $0.isEmpty ? nil : $0 } ?? RequestID.make()
        )
    }
}

extension FastCGIParams {
    /// `HTTP_X_CSRFTOKEN` → `x-csrftoken`.
    static func headerName(cgiName: String) -> String {
        String(decoding: cgiName.utf8.dropFirst(5).map { byte -> UInt8 in
            switch byte {
            case UInt8(ascii: "_"): UInt8(ascii: "-")
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte + 32
            default: byte
            }
        }, as: UTF8.self)
    }

    /// Debian's stock fastcgi_params pass `HTTP_HOST` as nginx's `$host`, which drops the port: put a non-default
    /// `SERVER_PORT` back, so URLs built from the request (Toss's successUrl) reach the same server.
    static func authority(host: String, port: String?, https: Bool) -> String {
        let hasPort = host.hasPrefix("[") ? host.contains("]:") : host.contains(":")
        guard !hasPort, let port, !port.isEmpty, port != (https ? "443" : "80") else { return host }
        return "\(host):\(port)"
    }
}

enum RequestID {
    static func make() -> String { Crypto.hex(Crypto.randomBytes(8)) }
}
