import App
import Foundation

enum BillCommand {
    static func run(_ arguments: [String]) throws -> Int32 {
        CommandLineTool.printError("bill is not available in this build yet")
        return 1
    }
}

enum ReconcileCommand {
    static func run(_ arguments: [String]) throws -> Int32 {
        CommandLineTool.printError("reconcile is not available in this build yet")
        return 1
    }
}

enum WorkerCommand {
    static func run(_ arguments: [String]) throws -> Int32 {
        CommandLineTool.printError("worker is not available in this build yet")
        return 1
    }
}
