import ArgumentParser
import Foundation
import OctetGraph
import OctetQuant
import OctetTensor

/// `octet export MODEL.onnx --calib X.npy|.npz [--eval X.npy --eval-output Y.npy] [--ties half-up] --output model_qdq.onnx`:
/// calibrates (default DPU configuration, or `--option name=value`), writes the ONNX QDQ model,
/// and optionally the quantized model's outputs on an evaluation batch (read by scripts/check-qdq).
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Quantize with a calibration batch and write an ONNX QDQ model.")
    @Argument(help: "Path to a float .onnx model.") var model: String
    @Option(help: "Calibration batch: .npy (single-input model) or .npz (one array per input name, or a dataset .npz with images).") var calib: String
    @Option(help: "Evaluation batch (.npy or .npz) to run the quantized model on.") var eval: String?
    @Option(name: .customLong("eval-output"),
            help: "Where the evaluation outputs go: .npy (one output) or a directory (one .npy per output).") var evalOutput: String?
    @Option(help: "Output path of the QDQ model.") var output: String
    @Option(help: ExportCommand.optionHelp(example: "activation_observer=minmse or per_channel=true")) var option: [String] = []
    @Option(help: "Rounding of exact .5 ties: half-even (plain QDQ) or half-up (the DPU's, through a 2^-17 LSB Add before each activation QuantizeLinear).")
    var ties: String = QDQExport.Ties.halfEven.rawValue
    @Option(parsing: .unconditional, help: "Batch size for models with a symbolic batch dimension (calibration batch and the exported input's batch).") var batch: Int = 1
    @Option(help: U8Transform.help) var u8: String?
    @Option(parsing: .unconditional, help: "Kernel threads.") var threads: Int = 1

    func validate() throws {
        try CLI.checkThreads(threads)
        _ = try U8Transform.parse(u8)
        try CLI.checkOutputFolder(output, option: "--output")
        try CLI.checkOptions(option)
    }

    func run() throws {
        try CLI.guarded {
            guard (eval == nil) == (evalOutput == nil) else {
                throw ValidationError("--eval and --eval-output go together")
            }
            guard URL(fileURLWithPath: output).standardized.path != URL(fileURLWithPath: model).standardized.path else {
                throw ValidationError("--output \(output) is the input model; choose another path")
            }
            guard let ties = QDQExport.Ties(rawValue: ties) else {
                throw ValidationError("--ties '\(ties)': accepted: " + QDQExport.Ties.allCases.map(\.rawValue).joined(separator: ", "))
            }
            KernelConfig.threads = threads
            let m = try Model.load(path: model, batchSize: batch)
            let transform = try U8Transform.parse(u8)
            let qm = try ExportCommand.quantize(m, calib: calib, options: option, u8: transform)
            CLI.warnQuantization(qm)
            // the evaluation runs before anything is written, so a bad --eval leaves no file behind
            let outs = try eval.map { path in
                let feeds = try ExportCommand.feeds(path, m, u8: transform)
                CLI.warnNonFinite(feeds, source: path)
                return try qm.run(feeds)
            }
            if let evalOutput { try ExportCommand.checkOutputPath(evalOutput, outputs: m.outputs.count) }
            try QDQExport.write(qm, to: output, ties: ties)
            let g = try QDQExport.graph(qm, ties: ties)
            let qdq = g.nodes.filter { $0.opType == "QuantizeLinear" || $0.opType == "DequantizeLinear" }.count
            print("wrote \(output): \(g.nodes.count) nodes (\(qdq) QuantizeLinear/DequantizeLinear), evaluation \(qm.evaluation.rawValue)"
                + (qm.isDPUDeployable ? "" : " (non-DPU configuration: not deployable)"))
            if let outs, let eval, let evalOutput {
                try ExportCommand.write(outs, names: m.outputs.map(\.name), to: evalOutput)
                print("wrote \(evalOutput): quantized outputs on \(eval)")
            }
        }
    }

    /// Calibrates `m` on the batch at `calib` with the given `name=value` options.
    static func quantize(_ m: Model, calib: String, options: [String], u8: U8Transform? = nil) throws -> QuantizedModel {
        let c = try Calibrator(model: m, config: try config(options))
        return try c.calibrate(try feeds(calib, m, u8: u8))
    }

    /// Help of the `--option name=value` flag shared by export, recover and deploy: one example,
    /// then every accepted name.
    static func optionHelp(example: String) -> ArgumentHelp {
        ArgumentHelp("Quantization option name=value (repeatable), e.g. \(example).",
                     discussion: "Names: " + QConfig.optionNames.joined(separator: ", "))
    }

    /// `--option name=value` list → configuration (unknown names list the accepted ones; one
    /// name with two values is refused).
    static func config(_ options: [String]) throws -> QConfig {
        var opts: [String: String] = [:]
        for o in options {
            let kv = o.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { throw ValidationError("--option '\(o)': expected name=value") }
            if let first = opts[kv[0]], first != kv[1] {
                throw ValidationError("--option \(kv[0]) is given twice ('\(first)' and '\(kv[1])')")
            }
            opts[kv[0]] = kv[1]
        }
        return try QConfig(options: opts)
    }

    /// Inputs from a .npy (single-input model) or a .npz (arrays by input name, or a dataset
    /// archive with images), as `octet deploy` reads them.
    static func feeds(_ path: String, _ m: Model, u8: U8Transform? = nil) throws -> [String: Tensor] {
        try DeployCommand.feeds(path, inputs: m.inputs.map(\.name).filter { m.graph.initializers[$0] == nil }, u8: u8)
    }

    /// Refuses an output path that `write` could not use: a `.npy` file for several outputs, or a
    /// file in a directory that does not exist.
    static func checkOutputPath(_ path: String, outputs: Int) throws {
        var isDir: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDir)
        if outputs > 1 && (path.hasSuffix(".npy") || (exists && !isDir.boolValue)) {
            throw ValidationError("\(path): the model has \(outputs) outputs; give a directory (one .npy per output)")
        }
        if outputs == 1 && !(exists && isDir.boolValue) {
            let dir = (path as NSString).deletingLastPathComponent
            var parentIsDir: ObjCBool = false
            guard dir.isEmpty || (FileManager.default.fileExists(atPath: dir, isDirectory: &parentIsDir) && parentIsDir.boolValue) else {
                throw ValidationError("\(path): \(dir) is not an existing directory")
            }
        }
    }

    /// One output → `path` as .npy (unless `path` is a directory); several → one .npy per output in `path`.
    static func write(_ outs: [String: Tensor], names: [String], to path: String) throws {
        var isDir: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDir)
        if names.count == 1 && !(exists && isDir.boolValue) { return try NPY.write(outs[names[0]]!, path: path) }
        if !exists { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        for name in names {
            let file = String(name.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" ? $0 : "_" })
            try NPY.write(outs[name]!, path: "\(path)/\(file).npy")
        }
    }
}
