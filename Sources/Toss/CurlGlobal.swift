import CCurl
#if canImport(Glibc)
import Glibc
#endif

enum CurlGlobal {
    /// `curl_global_init` is not thread-safe; a static `let` runs its initialiser exactly once.
    private static let initialized: Bool = {
        // With CURLOPT_NOSIGNAL libcurl no longer masks SIGPIPE itself, and a write to a peer-closed
        // TLS socket may raise it; the default action would kill the process.
        signal(SIGPIPE, SIG_IGN)
        return gudok_curl_global_init_default() == CURLE_OK
    }()

    static func initializeOnce() {
        _ = initialized
    }
}
