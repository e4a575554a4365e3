import App
import FastCGI
import Foundation
import Storage
import Web

enum BillCommand {
    static let help = """
    usage: gudok bill [--now ISO8601] [--concurrency N] [--limit N]

    One recurring-billing pass for everything due at --now (default: the clock).
    Progress on stderr; the last stdout line is charged=N failed=N pending=N expired=N.
    Exit 0 when the pass ran (declines are outcomes), 1 on infrastructure failure.
    """

    static func run(_ arguments: [String]) throws -> Int32 {
        if CommandLineTool.help(arguments, help) { return 0 }
        let args = try Arguments(arguments, valueOptions: ["now", "concurrency", "limit"], flagOptions: [])
        guard args.positional.isEmpty else { throw UsageError(message: "bill takes no positional arguments") }
        let concurrency = try args.int("concurrency", default: 16, range: 1...512)
        let limit = args.options["limit"] == nil ? nil : try args.int("limit", default: 0, range: 1...100_000_000)
        let runtime = try Runtime.start()
        let now = try parseNow(args.options["now"], runtime: runtime)
        let biller = Biller(database: runtime.database, services: runtime.application.services, logger: runtime.logger,
                            concurrency: concurrency, limit: limit)
        let started = Date()
        let summary = try biller.run(now: now, progress: { done, total in
            let rate = Double(done) / max(Date().timeIntervalSince(started), 0.001)
            FileHandle.standardError.write(Data("bill: \(done)/\(total) done, \(String(format: "%.1f", rate))/s\n".utf8))
        })
        print(summary.description)
        return 0
    }

    static func parseNow(_ text: String?, runtime: Runtime) throws -> Date {
        guard let text else { return runtime.clock.now() }
        guard let date = RFC3339.parse(text, defaultZone: runtime.configuration.timeZone) else {
            throw UsageError(message: "--now must be an ISO 8601 time such as 2026-02-28T09:00:00+09:00 (got \(text))")
        }
        return date
    }
}

enum ReconcileCommand {
    static let help = """
    usage: gudok reconcile [--now ISO8601]

    Asks Toss about every payment left PENDING for over a minute and settles it.
    """

    static func run(_ arguments: [String]) throws -> Int32 {
        if CommandLineTool.help(arguments, help) { return 0 }
        let args = try Arguments(arguments, valueOptions: ["now"], flagOptions: [])
        guard args.positional.isEmpty else { throw UsageError(message: "reconcile takes no positional arguments") }
        let runtime = try Runtime.start()
        let now = try BillCommand.parseNow(args.options["now"], runtime: runtime)
        let summary = try Reconciler(database: runtime.database, services: runtime.application.services, logger: runtime.logger).run(now: now)
        print(summary.description)
        return 0
    }
}

enum WorkerCommand {
    static let help = """
    usage: gudok worker [--interval SECONDS] [--concurrency N]

    Loops bill + reconcile every --interval seconds (default 60). Several workers may share one PostgreSQL database.
    SIGTERM/SIGINT: finish the batch in hand, then exit 0.
    """

    static func run(_ arguments: [String]) throws -> Int32 {
        if CommandLineTool.help(arguments, help) { return 0 }
        let args = try Arguments(arguments, valueOptions: ["interval", "concurrency"], flagOptions: [])
        guard args.positional.isEmpty else { throw UsageError(message: "worker takes no positional arguments") }
        let interval = try args.int("interval", default: 60, range: 1...86_400)
        let concurrency = try args.int("concurrency", default: 16, range: 1...512)
        let runtime = try Runtime.start()
        Signals.blockTermination()
        let stop = StopFlag()
        Thread.detachNewThread {
            _ = Signals.waitForTermination()
            stop.set()
        }
        runtime.logger.info("worker_started", ["interval": .int(interval)])
        while !stop.isSet {
            do {
                let biller = Biller(database: runtime.database, services: runtime.application.services, logger: runtime.logger, concurrency: concurrency)
                _ = try biller.run(now: runtime.clock.now(), shouldStop: { stop.isSet })
                if !stop.isSet {
                    _ = try Reconciler(database: runtime.database, services: runtime.application.services, logger: runtime.logger)
                        .run(now: runtime.clock.now())
                }
            } catch {
                runtime.logger.error("worker_pass_failed", ["error": .string(String(describing: error))])
            }
            stop.wait(seconds: Double(interval))
        }
        runtime.logger.info("worker_stopped")
        return 0
    }
}

final class StopFlag: @unchecked Sendable {
    private let condition = NSCondition()
    private var stopped = false

    var isSet: Bool { condition.lock(); defer { condition.unlock() }; return stopped }

    func set() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    func wait(seconds: Double) {
        let deadline = Date().addingTimeInterval(seconds)
        condition.lock()
        while !stopped && condition.wait(until: deadline) {}
        condition.unlock()
    }
}
