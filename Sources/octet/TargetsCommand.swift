import ArgumentParser
import OctetDPU

/// `octet targets`: the built-in DPU targets and their engine limits.
struct TargetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "targets", abstract: "List DPU targets and their limits.")

    func run() throws {
        try CLI.guarded {
            for (i, t) in DPUTarget.all.enumerated() {
                if i > 0 { print("") }
                print(t.limitsText + (t == DPUTarget.default ? "\n  (default)" : ""))
            }
        }
    }
}
