import ArgumentParser
import Foundation
import OctetScript
import OctetTensor

/// `octet run FILE.octet [--notebook OUT.md] [--seed N] [--threads N]`.
/// Exit codes: 0 ok, 64 usage, 65 syntax error, 70 runtime error.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an Octet script, optionally writing a Markdown notebook.")

    @Argument(help: "The script to run (.octet).") var file: String
    @Option(help: "Write a Markdown notebook (cells, output, SVG plots beside it).") var notebook: String?
    @Option(parsing: .unconditional, help: "Seed for the random generator, 0…2^64 − 1 (default 0); a notebook records it.") var seed: UInt64 = 0
    @Option(parsing: .unconditional, help: "Kernel threads (default: the machine's cores).") var threads: Int = CLI.defaultThreads

    func validate() throws { try CLI.checkThreads(threads) }

    func run() throws {
        KernelConfig.threads = threads
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isDir), !isDir.boolValue else {
            FileHandle.standardError.write(Data((isDir.boolValue ? "octet: '\(file)' is a folder, not a script\n" : "octet: no such script '\(file)'\n").utf8))
            throw ExitCode(ScriptRunner.ExitCode.usage)
        }
        if let notebook, notebook.hasSuffix("/") || (FileManager.default.fileExists(atPath: notebook, isDirectory: &isDir) && isDir.boolValue) {
            FileHandle.standardError.write(Data("octet: --notebook \(notebook) is a folder; give the Markdown file's path\n".utf8))
            throw ExitCode(ScriptRunner.ExitCode.usage)
        }
        let file = self.file, notebook = self.notebook, seed = self.seed
        let code = Interpreter.onLargeStack { () -> Int32 in
            // A notebook written to stdout gets the script's printed output in its cells; the echo goes to stderr.
            let toStdout = notebook.flatMap(AtomicFile.descriptor) == 1
            let interpreter = Interpreter(seed: seed, output: toStdout ? { FileHandle.standardError.write(Data($0.utf8)) } : { Interpreter.write($0, to: stdout) },
                                          progress: TerminalProgress.forTerminal())
            interpreter.cancellation = Cancellation.global
            installInterruptHandler()
            CLI.removeTemporariesOnSignals([SIGTERM, SIGHUP])
            let code = ScriptRunner.run(path: file, notebook: notebook, interpreter: interpreter) { message in
                fflush(stdout)
                FileHandle.standardError.write(Data((message + "\n").utf8))
            }
            fflush(stdout)
            return code
        }
        if code != 0 { throw ExitCode(code) }
    }
}

/// Ctrl-C sets `Cancellation.global`; loops and domain code stop at their next check.
/// A second Ctrl-C while the first is pending ends the process. While the REPL reads a line,
/// Ctrl-C only drops that line (`LineEditor.interrupted`).
func installInterruptHandler() {
    signal(SIGINT) { _ in
        if LineEditor.reading != 0 { LineEditor.interrupted = 1; return }
        if Cancellation.global.isCancelled { endWithSignal(SIGINT) }
        Cancellation.global.cancel()
    }
}
