import App
import FastCGI
import Foundation
import Storage

enum ServeCommand {
    static let help = """
    usage: gudok serve [--fastcgi ADDR] [--threads N]

      --fastcgi ADDR  unix:PATH or HOST:PORT (default unix:var/run/gudok.sock)
      --threads N     worker threads (default 32)

    SIGTERM/SIGINT: stop accepting, finish requests in flight, exit 0.
    """

    static func run(_ arguments: [String]) throws -> Int32 {
        if CommandLineTool.help(arguments, help) { return 0 }
        let args = try Arguments(arguments, valueOptions: ["fastcgi", "threads"], flagOptions: [])
        guard args.positional.isEmpty else { throw UsageError(message: "serve takes no positional arguments") }
        let text = args.options["fastcgi"] ?? "unix:var/run/gudok.sock"
        guard let address = ListenAddress(parsing: text) else {
            throw UsageError(message: "--fastcgi must be unix:PATH or HOST:PORT (got \(text))")
        }
        let threads = try args.int("threads", default: 32, range: 1...1024)
        if case .unix(let path) = address {
            try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        }
        let runtime = try Runtime.start()
        let app = runtime.application
        let server = FastCGIServer(address: address, threads: threads, unixSocketMode: runtime.configuration.isProduction ? 0o660 : 0o666) {
            app.respond($0)
        }
        do {
            try server.run {
                runtime.logger.info("serve_started", ["fastcgi": .string(address.description), "threads": .int(threads)])
            }
        } catch let error as SocketError {
            CommandLineTool.printError(error.description)
            return 1
        }
        runtime.logger.info("serve_stopped")
        return 0
    }
}

enum MigrateCommand {
    static let help = "usage: gudok migrate\n\nCreates or upgrades the schema. Safe to run twice and while servers run."

    static func run(_ arguments: [String]) throws -> Int32 {
        if CommandLineTool.help(arguments, help) { return 0 }
        let args = try Arguments(arguments, valueOptions: [], flagOptions: [])
        guard args.positional.isEmpty else { throw UsageError(message: "migrate takes no arguments") }
        let configuration = try Configuration.load()
        let database = try DatabaseURL.open(configuration.databaseURL)
        let applied = try Migrator(database: database, migrations: GudokSchema.migrations).migrate()
        print(applied.isEmpty ? "schema is up to date" : "applied migrations: " + applied.map { "\($0.version) (\($0.name))" }.joined(separator: ", "))
        // Data written before a migration (payments before invoices) is brought into the new shape; a no-op when there is none.
        if let backfilled = try Runtime.start().application.backfillInvoices(now: Date()) { print("invoice backfill: \(backfilled)") }
        return 0
    }
}

enum SeedCommand {
    static let help = """
    usage: gudok seed [--demo-history]

    Inserts the demo plans (베이직, 프리미엄, 엔터프라이즈) if there are none.

      --demo-history  also inserts about a year of demo customers, subscriptions and payments (completed, declined,
                      refunded, cancelled) straight into the database, without calling Toss, unless demo customers
                      already exist. Demo accounts cannot sign in and hold no billing key.
    """

    static func run(_ arguments: [String]) throws -> Int32 {
        if CommandLineTool.help(arguments, help) { return 0 }
        let args = try Arguments(arguments, valueOptions: [], flagOptions: ["demo-history"])
        guard args.positional.isEmpty else { throw UsageError(message: "seed takes no positional arguments") }
        let runtime = try Runtime.start()
        let inserted = try DemoPlans.seed(database: runtime.database, now: Date())
        print(inserted == 0 ? "plans already present; nothing inserted" : "inserted \(inserted) demo plans")
        if args.flags.contains("demo-history") {
            print(try runtime.application.seedDemoHistory(now: runtime.clock.now()))
        }
        return 0
    }
}

enum UserCommand {
    static let help = """
    usage: gudok user create NAME [--email E] [--staff] --password-stdin

    Creates a user. The password is the first line of standard input.
    """

    static func run(_ arguments: [String]) throws -> Int32 {
        if CommandLineTool.help(arguments, help) { return 0 }
        let args = try Arguments(arguments, valueOptions: ["email"], flagOptions: ["staff", "password-stdin"])
        guard args.positional.first == "create" else { throw UsageError(message: "usage: gudok user create NAME [--email E] [--staff] --password-stdin") }
        guard args.positional.count == 2 else { throw UsageError(message: "user create needs exactly one NAME") }
        guard args.flags.contains("password-stdin") else { throw UsageError(message: "--password-stdin is required (passwords are never taken from the command line)") }
        guard let line = readLine(strippingNewline: true), !line.isEmpty else { throw UsageError(message: "no password on standard input") }
        let runtime = try Runtime.start()
        do {
            let user = try runtime.application.createUser(username: args.positional[1], email: args.options["email"] ?? "", password: line,
                                                          isStaff: args.flags.contains("staff"))
            print("created user \(user.username) (\(user.id))\(user.isStaff ? " [staff]" : "")")
            return 0
        } catch let error as UserCreationError {
            CommandLineTool.printError(error.message)
            return 1
        }
    }
}
