import CCurl

/// How a failed `curl_easy_perform` maps to an `HTTPClientError`.
///
/// "Sent" is `CURLINFO_REQUEST_SIZE > 0`: libcurl adds to it only the bytes it actually wrote to the
/// connection (it accumulates over an internal retry on a stale kept-alive connection, so a request
/// that went out once still counts). `reachedRequest` is `CURLINFO_PRETRANSFER_TIME_T > 0`: the
/// connection (TCP and TLS) was up and libcurl was about to write.
enum CurlFailure {
    static func classify(code: CURLcode, sent: Bool, reachedRequest: Bool, detail: String) -> HTTPClientError {
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            if sent { return .timedOut(afterSending: true) }
            return reachedRequest ? .timedOut(afterSending: false) : .couldNotConnect("connect timed out: \(detail)")
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_CONNECT, CURLE_SSL_CONNECT_ERROR:
            return sent ? .connectionLost(afterSending: true) : .couldNotConnect(detail)
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL, CURLE_PEER_FAILED_VERIFICATION,
             CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_SSL_ENGINE_NOTFOUND,
             CURLE_FAILED_INIT, CURLE_OUT_OF_MEMORY, CURLE_BAD_FUNCTION_ARGUMENT, CURLE_UNKNOWN_OPTION,
             CURLE_NOT_BUILT_IN:
            return sent ? .connectionLost(afterSending: true) : .other(detail)
        default:
            // SEND_ERROR, RECV_ERROR, GOT_NOTHING, PARTIAL_FILE, …: the connection broke somewhere.
            return .connectionLost(afterSending: sent)
        }
    }
}
