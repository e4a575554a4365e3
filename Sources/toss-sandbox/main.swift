import Foundation
import TossSandbox

// A payment simulator has no place next to real money.
if ProcessInfo.processInfo.environment["GUDOK_ENV"] == "production" {
    FileHandle.standardError.write(Data("toss-sandbox: not available when GUDOK_ENV=production\n".utf8))
    exit(2)
}
exit(TossSandboxCommand.run(arguments: Array(CommandLine.arguments.dropFirst())))
