import App
import Foundation

enum CommandLineTool {
    static let usage = """
    gudok — subscription billing for Korean SaaS, behind nginx, charging through Toss Payments.

    usage: gudok <command> [options]

    commands:
      serve        run the FastCGI responder
      migrate      create or upgrade the database schema
      seed         insert the demo plans if there are none
      user create  create a user (password read from stdin)
      bill         run one recurring-billing pass
      reconcile    settle payments left PENDING by an ambiguous Toss answer
      worker       loop bill + reconcile
      clock        show or move the test clock (GUDOK_TEST_CLOCK=1)

    Every command takes --help. Configuration comes from the environment and .env (see docs/operations.md).
    """

    static func main(_ arguments: [String]) -> Int32 {
        guard let command = arguments.first else {
            printError("missing command; run gudok --help")
            return 2
        }
        let rest = Array(arguments.dropFirst())
        do {
            switch command {
            case "--help", "-h", "help":
                print(usage)
                return 0
            case "serve": return try ServeCommand.run(rest)
            case "migrate": return try MigrateCommand.run(rest)
            case "seed": return try SeedCommand.run(rest)
            case "user": return try UserCommand.run(rest)
            case "bill": return try BillCommand.run(rest)
            case "reconcile": return try ReconcileCommand.run(rest)
            case "worker": return try WorkerCommand.run(rest)
            case "clock": return try ClockCommand.run(rest)
            case "toss-sandbox":
                throw UsageError(message: "the Toss sandbox is its own executable now: run toss-sandbox (next to gudok) instead")
            default:
                printError("unknown command '\(command)'; run gudok --help")
                return 2
            }
        } catch let error as UsageError {
            printError(error.message)
            return 2
        } catch let error as ConfigurationError {
            printError(error.description)
            return 1
        } catch {
            printError("\(command) failed: \(error)")
            return 1
        }
    }

    static func printError(_ message: String) {
        FileHandle.standardError.write(Data(("gudok: " + message + "\n").utf8))
    }

    /// Prints help and answers true when `--help` was asked for.
    static func help(_ arguments: [String], _ text: String) -> Bool {
        guard arguments.contains("--help") || arguments.contains("-h") else { return false }
        print(text)
        return true
    }
}
