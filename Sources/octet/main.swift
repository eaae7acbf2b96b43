import ArgumentParser

/// `octet` — quantize float ONNX models to power-of-two INT8 and run them on the DPU emulator.
struct Octet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "octet",
        abstract: "Power-of-two INT8 quantization, DPU emulation and the Octet language.",
        subcommands: [InfoCommand.self, InferCommand.self, BenchCommand.self, EvalCommand.self, RunCommand.self, RecoverCommand.self, ExportCommand.self,
                      TargetsCommand.self, InspectCommand.self, DeployCommand.self, DumpCommand.self, CompareCommand.self])

    /// With no subcommand, `octet` starts the interactive REPL.
    func run() throws { REPL.start() }
}

Octet.main()
