import ArgumentParser
import OctetDPU
import OctetTensor

/// `octet dump PROGRAM --input X.npy [--u8 OFFSET,SCALE] --output DIR`: golden dump of one input.
struct DumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dump", abstract: "Write per-node int8 and float golden dumps of a program.")
    @Argument(help: "Program file (.octprog).") var program: String
    @Option(help: "Input (.npy, or .npz with one array per input name).") var input: String
    @Option(parsing: .unconditional, help: U8Transform.help) var u8: String?
    @Option(help: "Dump folder to write.") var output: String
    @Option(parsing: .unconditional, help: "Kernel threads (default: the machine's cores).") var threads: Int = CLI.defaultThreads

    func validate() throws {
        try CLI.checkThreads(threads)
        guard !output.isEmpty else { throw ValidationError("--output: the path is empty") }
        let inputs = [(what: "program", path: program), (what: "input", path: input)]
        try CLI.checkNotInput(output, option: "--output", inputs: inputs)
        try CLI.checkNoInputWithin(output, option: "--output", inputs: inputs)
        do { try GoldenDump.checkTarget(output) } catch { throw ValidationError("--output \(error)") }
    }

    func run() throws {
        try CLI.guarded {
            KernelConfig.threads = threads
            let p = try ProgramFile.load(path: program)
            let names = p.graph.inputs.map(\.name).filter { p.graph.initializers[$0] == nil }
            let feeds = try DeployCommand.feeds(input, inputs: names, u8: try U8Transform.parse(u8))
            for (name, t) in feeds where t.rank > 0 && t.shape[0] == 0 {
                throw DataError("--input \(input): '\(name)' is an empty batch")
            }
            CLI.warnNonFinite(feeds, source: input)
            let m: DumpManifest
            do { m = try GoldenDump.write(p, feeds: feeds, to: output, threads: threads) } catch let e as OctetDPUError {
                guard case .inputMismatch = e else { throw e }
                let hint = u8 == nil && feeds.values.contains { $0.dtype == .uint8 } ? "; give --u8 OFFSET,SCALE to convert raw uint8 images" : ""
                throw DataError("--input \(input): \(e)\(hint)")
            }
            print("wrote \(output): \(m.nodes.count) node outputs, \(m.parameters.count) parameters")
        }
    }
}
