import ArgumentParser
import OctetDPU

/// `octet compare DIR_A DIR_B`: first diverging node and per-node (then per-parameter) int8
/// mismatch counts of two dumps, each `.bin` checked against its `.npy`.
/// Exit code 0 when they are identical, 1 when they differ, 2 when they cannot be compared (as
/// `cmp` and `diff`: a script can tell a difference from a missing or damaged dump).
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "compare", abstract: "Compare two golden dump folders node by node (exit 0 identical, 1 different, 2 error).")
    @Argument(help: "First dump folder.") var a: String
    @Argument(help: "Second dump folder.") var b: String

    func run() throws {
        let result: DumpComparison
        do { result = try CLI.guarded { try GoldenDump.compare(a, b) } } catch let e as ExitCode where e == ExitCode(1) { throw ExitCode(2) }
        print(result.summary)
        if result.firstDivergence != nil { throw ExitCode(1) }
    }
}
