import ArgumentParser
import Foundation
import OctetTensor

/// `octet` — quantize float ONNX models to power-of-two INT8 and run them on the DPU emulator.
struct Octet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "octet",
        abstract: "Power-of-two INT8 quantization, DPU emulation and the Octet language.",
        discussion: "With no command, octet starts the interactive REPL of the Octet language (:help lists its commands; a script piped to stdin runs statement by statement).",
        subcommands: [InfoCommand.self, InferCommand.self, BenchCommand.self, EvalCommand.self, RunCommand.self, RecoverCommand.self, ExportCommand.self,
                      TargetsCommand.self, InspectCommand.self, DeployCommand.self, DumpCommand.self, CompareCommand.self])

    @Option(parsing: .unconditional, help: "Kernel threads of the REPL (default: the machine's cores).") var threads: Int = CLI.defaultThreads

    func validate() throws { try CLI.checkThreads(threads) }

    /// With no subcommand, `octet` starts the interactive REPL.
    func run() throws {
        KernelConfig.threads = threads
        REPL.start()
    }

    /// Names of the subcommands, for the unknown-command message.
    static var subcommandNames: [String] {
        configuration.subcommands.compactMap { $0.configuration.commandName }
    }
}

// An unknown first word is a mistyped command: say so and list the commands (the parser
// alone reports only "unexpected argument").
let arguments = Array(CommandLine.arguments.dropFirst())
if let first = arguments.first, !first.hasPrefix("-"), !Octet.subcommandNames.contains(first), first != "help" {
    var message = "error: unknown command '\(first)'; commands: \(Octet.subcommandNames.joined(separator: ", "))"
    if first.hasSuffix(".octet") { message += " (to run a script: octet run \(first))" }
    FileHandle.standardError.write(Data((message + "\n").utf8))
    Octet.exit(withError: ExitCode(64))
}
if let first = arguments.first, !["run", "help", "-h", "--help"].contains(first) {
    CLI.removeTemporariesOnSignals()  // the REPL and scripts handle Ctrl-C themselves
}
Octet.main()
