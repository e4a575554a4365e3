import TossSandbox
import Foundation

exit(TossSandboxCommand.run(arguments: Array(CommandLine.arguments.dropFirst())))
