import ArgumentParser
import OctetDPU

/// `octet compare DIR_A DIR_B`: first diverging node and per-node mismatch counts of two dumps.
/// Exit code 1 when they differ.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "compare", abstract: "Compare two golden dump folders node by node.")
    @Argument(help: "First dump folder.") var a: String
    @Argument(help: "Second dump folder.") var b: String

    func run() throws {
        let result = try CLI.guarded { try GoldenDump.compare(a, b) }
        print(result.summary)
        if result.firstDivergence != nil { throw ExitCode(1) }
    }
}
