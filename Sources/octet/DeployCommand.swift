import ArgumentParser
import Foundation
import OctetDPU
import OctetGraph
import OctetQuant
import OctetTensor

/// `octet deploy MODEL.onnx --calib DATA.npy|.npz --output PROGRAM.octprog [--target T] [--batch N] [--option name=value]`:
/// power-of-two calibration (OctetQuant), DPU compilation, atomic program file write.
struct DeployCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "deploy", abstract: "Quantize, compile and save a DPU program.")
    @Argument(help: "Path to an .onnx model.") var model: String
    @Option(help: "Calibration batch: .npy, or .npz with one array per input name (or a dataset .npz with images).") var calib: String
    @Option(help: "Program file to write (.octprog).") var output: String
    @Option(help: "DPU target (see `octet targets`).") var target: String = DPUTarget.default.name
    @Option(parsing: .unconditional, help: U8Transform.help) var u8: String?
    @Option(parsing: .unconditional, help: "Kernel threads (default: the machine's cores).") var threads: Int = CLI.defaultThreads
    @Option(parsing: .unconditional, help: "Batch size for models with a symbolic batch dimension (calibration batch and the program's batch; default 1, as `octet export --batch`).") var batch: Int?
    @Option(help: ExportCommand.optionHelp(example: "activation_observer=minmse; the result must stay DPU-deployable")) var option: [String] = []

    func validate() throws {
        try CLI.checkThreads(threads)
        try CLI.checkBatch(batch)
        _ = try U8Transform.parse(u8)
        try CLI.checkOutputFolder(output, option: "--output")
        try CLI.checkNotInput(output, option: "--output", inputs: [(what: "model", path: model), (what: "calibration data", path: calib)])
        try CLI.checkOutputExtension(output, writesProgram: true)
        try CLI.checkOptions(option)
        try CLI.checkTarget(target)
    }

    func run() throws {
        try CLI.guarded {
            KernelConfig.threads = threads
            let t = try DPUTarget.named(target)
            let m = try Model.load(path: model, batchSize: batch ?? 1)
            try CLI.checkBatch(batch, for: m)
            try CLI.checkOptions(option, for: m)
            try CLI.checkNotInput(output, option: "--output", inputs: CLI.externalData(m))
            let feeds = try ExportCommand.feeds(calib, m, u8: try U8Transform.parse(u8))
            let config = try ExportCommand.config(option)
            guard config.isDPUDeployable else {
                throw ValidationError("--option \(config.nonDPUOptions.joined(separator: ", ")): not DPU-deployable (power-of-two, 8-bit, per-tensor, signed activations, every node quantized); use `octet export` for experiments")
            }
            let q = try Calibrator(model: m, config: config).calibrate(feeds)
            CLI.warnQuantization(q)
            let program = try Compiler.compile(q.quantizedGraph, target: t)
            try ProgramFile.save(program, to: output)
            let cpu = program.instructions.filter { $0.device == .cpu && $0.kind != .fused }.count
            CLI.status("wrote \(output): \(program.instructions.count) instructions for \(t.name), "
                + "\(program.dpuSubgraphCount) DPU / \(program.cpuSubgraphCount) CPU subgraphs, \(cpu) CPU nodes", outputs: [output])
            for o in m.outputs where m.outputBatching(o.name) == .wholeBatch {
                let b = m.batchSize
                FileHandle.standardError.write(Data("note: output '\(o.name)' depends on the whole batch, so the program runs batches of exactly \(b) sample\(b == 1 ? "" : "s")\n".utf8))
            }
        }
    }

    /// .npy → the single input; .npz → arrays by input name (or the only array for one input);
    /// with `u8`, uint8 arrays become float (`U8Transform`).
    static func feeds(_ path: String, inputs: [String], u8: U8Transform?) throws -> [String: Tensor] {
        let raw = try feeds(path, inputs: inputs)
        guard let u8 else { return raw }
        return try raw.mapValues { try u8.apply($0, path: path) }
    }

    static func feeds(_ path: String, inputs: [String]) throws -> [String: Tensor] {
        guard !inputs.isEmpty else { throw DataError.noInputs(model: nil) }
        if path.lowercased().hasSuffix(".npz") {
            let arrays = try NPY.readArchive(path: path)
            if inputs.count == 1, arrays[inputs[0]] == nil {
                if arrays.count == 1 { return [inputs[0]: arrays.values.first!] }
                // a dataset archive: images under one of the usual sample keys
                if let key = Dataset.npzSampleKeys.first(where: { arrays[$0] != nil }) { return [inputs[0]: arrays[key]!] }
            }
            var out: [String: Tensor] = [:]
            for name in inputs {
                guard let t = arrays[name] else {
                    let has = arrays.isEmpty ? "the archive holds no .npy array" : "has \(arrays.keys.sorted().joined(separator: ", "))"
                    throw OctetDPUError.inputMismatch("\(path): no array named '\(name)' (\(has))")
                }
                out[name] = t
            }
            let counts = out.sorted { $0.key < $1.key }.compactMap { e in e.value.shape.first.map { (e.key, $0) } }
            if Set(counts.map(\.1)).count > 1 {
                throw OctetDPUError.inputMismatch("\(path): the arrays hold different numbers of samples ("
                    + counts.map { "'\($0.0)' \($0.1)" }.joined(separator: ", ") + "); each input's first axis is its batch, of one size")
            }
            return out
        }
        guard inputs.count == 1 else { throw ValidationError("\(path): the model has \(inputs.count) inputs; pass an .npz with one array per input") }
        return [inputs[0]: try NPY.read(path: path)]
    }
}
