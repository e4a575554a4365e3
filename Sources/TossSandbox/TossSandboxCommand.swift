// `toss-sandbox` / `gudok toss-sandbox`: parse arguments, start the server.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

public enum TossSandboxCommand {
    public static let usage = """
    usage: toss-sandbox [--listen HOST:PORT] [--secret-key KEY] [--client-key KEY]
                        [--latency-ms N] [--public-url URL]

    Offline simulator of the Toss Payments REST API (/v1/...) and JS SDK v2
    (/v2/standard). State is kept in memory. Everything it shows says SANDBOX.

      --listen HOST:PORT   address to listen on (default 127.0.0.1:9090; port 0 picks one)
      --secret-key KEY     accept only this secret key (default: any key starting
                           with test_sk_ or test_gsk_)
      --client-key KEY     accept only this client key in the JS SDK (default: any
                           key starting with test_ck_ or test_gck_)
      --latency-ms N       add N milliseconds to every /v1 answer (default 0)
      --public-url URL     origin browsers use to reach the sandbox, used in receipt
                           URLs (default http://HOST:PORT)
      --help               show this help

    Once listening it prints `toss-sandbox listening on http://HOST:PORT`.
    Control API, test cards and examples: docs/sandbox.md, or GET / on the sandbox.
    """

    struct Options {
        var host = "127.0.0.1"
        var port = 9090
        var secretKey: String?
        var clientKey: String?
        var latencyMs = 0
        var publicURL: String?
        var help = false
    }

    struct UsageError: Error { let message: String }

    static func parse(_ arguments: [String]) throws -> Options {
        var o = Options()
        var i = 0
        func value(_ name: String, inline: String?) throws -> String {
            if let inline { return inline }
            i += 1
            guard i < arguments.count else { throw UsageError(message: "\(name) needs a value") }
            return arguments[i]
        }
        while i < arguments.count {
            var arg = arguments[i]
            var inline: String? = nil
            if arg.hasPrefix("--"), let eq = arg.firstIndex(of: "=") {
                inline = String(arg[arg.index(after: eq)...])
                arg = String(arg[..<eq])
            }
            switch arg {
            case "--help", "-h":
                o.help = true
            case "--listen":
                let v = try value(arg, inline: inline)
                (o.host, o.port) = try parseListen(v)
            case "--secret-key":
                let v = try value(arg, inline: inline)
                guard !v.isEmpty, !v.contains(":") else { throw UsageError(message: "--secret-key must be non-empty and contain no ':'") }
                o.secretKey = v
            case "--client-key":
                let v = try value(arg, inline: inline)
                guard !v.isEmpty else { throw UsageError(message: "--client-key must be non-empty") }
                o.clientKey = v
            case "--latency-ms":
                let v = try value(arg, inline: inline)
                guard let n = Int(v), n >= 0, n <= 600_000 else { throw UsageError(message: "--latency-ms must be an integer from 0 to 600000, got '\(v)'") }
                o.latencyMs = n
            case "--public-url":
                var v = try value(arg, inline: inline)
                guard URLCoding.isHTTPURL(v) else { throw UsageError(message: "--public-url must be an http(s) URL, got '\(v)'") }
                while v.hasSuffix("/") { v.removeLast() }
                o.publicURL = v
            default:
                throw UsageError(message: "unknown argument '\(arguments[i])' (see --help)")
            }
            i += 1
        }
        return o
    }

    static func parseListen(_ v: String) throws -> (String, Int) {
        var host: String
        var portText: String
        if v.hasPrefix("[") {
            guard let close = v.firstIndex(of: "]"), v[v.index(after: close)...].hasPrefix(":") else {
                throw UsageError(message: "--listen expects HOST:PORT, got '\(v)'")
            }
            host = String(v[v.index(after: v.startIndex)..<close])
            portText = String(v[v.index(close, offsetBy: 2)...])
        } else {
            guard let colon = v.lastIndex(of: ":") else { throw UsageError(message: "--listen expects HOST:PORT, got '\(v)'") }
            host = String(v[..<colon])
            portText = String(v[v.index(after: colon)...])
        }
        if host.isEmpty { host = "0.0.0.0" }
        guard let port = Int(portText), port >= 0, port <= 65535 else {
            throw UsageError(message: "--listen port must be 0-65535, got '\(portText)'")
        }
        return (host, port)
    }

    static func urlHost(_ host: String) -> String {
        host.contains(":") ? "[\(host)]" : host
    }

    /// Runs the sandbox until SIGTERM/SIGINT (exit 0). Returns 2 on bad
    /// arguments and 1 when it cannot listen.
    public static func run(arguments: [String]) -> Int32 {
        let options: Options
        do {
            options = try parse(arguments)
        } catch let e as UsageError {
            FileHandle.standardError.write(Data("toss-sandbox: \(e.message)\n".utf8))
            return 2
        } catch {
            FileHandle.standardError.write(Data("toss-sandbox: \(error)\n".utf8))
            return 2
        }
        if options.help {
            FileHandle.standardOutput.write(Data((usage + "\n").utf8))
            return 0
        }

        signal(SIGPIPE, SIG_IGN)
        signal(SIGTERM) { _ in _exit(0) }
        signal(SIGINT) { _ in _exit(0) }

        // The app needs the public URL, which may depend on the chosen port:
        // bind first, then build the app the handler forwards to.
        let holder = AppHolder()
        let server = HTTPServer { req in holder.handle(req) }
        do {
            try server.bind(host: options.host, port: options.port)
        } catch {
            FileHandle.standardError.write(Data("toss-sandbox: \(error)\n".utf8))
            return 1
        }
        let port = server.port
        var browserHost = options.host
        if browserHost == "0.0.0.0" { browserHost = "127.0.0.1" }
        if browserHost == "::" { browserHost = "::1" }
        let publicURL = options.publicURL ?? "http://\(urlHost(browserHost)):\(port)"
        var config = SandboxConfig(secretKey: options.secretKey, clientKey: options.clientKey,
                                   latencyMs: options.latencyMs, publicURL: publicURL)
        config.mId = "gudok_sandbox"
        holder.app = SandboxApp(config: config)

        // Unbuffered write to fd 1, so scripts waiting for this line see it at once.
        FileHandle.standardOutput.write(Data("toss-sandbox listening on http://\(urlHost(options.host)):\(port)\n".utf8))
        server.serveForever()
    }
}

/// Lets the server start accepting before the app exists (no request can
/// arrive before `serveForever`, so no lock is needed).
final class AppHolder: @unchecked Sendable {
    var app: SandboxApp?

    func handle(_ req: HTTPRequest) -> HTTPOutcome {
        guard let app else { return .respond(.text(503, "starting\n")) }
        return app.handle(req)
    }
}
