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
    @Option(parsing: .unconditional, help: "Batch size for models with a symbolic batch dimension (calibration batch and the exported input's batch; default 1).") var batch: Int?
    @Option(parsing: .unconditional, help: U8Transform.help) var u8: String?
    @Option(parsing: .unconditional, help: "Kernel threads (default: the machine's cores).") var threads: Int = CLI.defaultThreads

    func validate() throws {
        try CLI.checkThreads(threads)
        try CLI.checkBatch(batch)
        _ = try U8Transform.parse(u8)
        try CLI.checkOutputFolder(output, option: "--output")
        try CLI.checkOptions(option)
        try CLI.checkQDQExportable(option)
        _ = try CLI.ties(ties)
        guard (eval == nil) == (evalOutput == nil) else { throw ValidationError("--eval and --eval-output go together") }
        try CLI.checkNotInput(output, option: "--output", inputs: inputFiles)
        try CLI.checkOutputExtension(output, writesProgram: false)
    }

    /// The files the command reads (an output may replace none of them).
    var inputFiles: [(what: String, path: String)] {
        [(what: "model", path: model), (what: "calibration data", path: calib)] + (eval.map { [(what: "evaluation data", path: $0)] } ?? [])
    }

    func run() throws {
        try CLI.guarded {
            let ties = try CLI.ties(ties)
            KernelConfig.threads = threads
            let m = try Model.load(path: model, batchSize: batch ?? 1)
            try CLI.checkBatch(batch, for: m)
            try CLI.checkOptions(option, for: m)
            try CLI.checkQDQExportable(model: model, opset: m.graph.opset)
            try CLI.checkNotInput(output, option: "--output", inputs: CLI.externalData(m))
            if let evalOutput {
                try OutputArrays.check(evalOutput, option: "--eval-output", names: m.outputs.map(\.name),
                                       inputs: inputFiles + [(what: "--output", path: output)] + CLI.externalData(m))
            }
            let transform = try U8Transform.parse(u8)
            let qm = try ExportCommand.quantize(m, calib: calib, options: option, u8: transform)
            CLI.warnQuantization(qm)
            // the evaluation runs before anything is written, so a bad --eval leaves no file behind
            let outs = try eval.map { path in
                let feeds = try ExportCommand.feeds(path, m, u8: transform, calibration: false)
                CLI.warnNonFinite(feeds, source: path)
                return try qm.run(feeds)
            }
            // the model and the evaluation outputs are written all or none
            var files = [(data: try QDQExport.data(qm, ties: ties), path: output)]
            let names = m.outputs.map(\.name)
            if let outs, let evalOutput { files += OutputArrays.encoded(outs, names: names, to: evalOutput) }
            try AtomicFile.writeAll(files, creatingFolder: evalOutput.flatMap { OutputArrays.folder(names, at: $0) })
            let g = try QDQExport.graph(qm, ties: ties)
            let qdq = g.nodes.filter { $0.opType == "QuantizeLinear" || $0.opType == "DequantizeLinear" }.count
            CLI.status("wrote \(output): \(g.nodes.count) nodes (\(qdq) QuantizeLinear/DequantizeLinear), evaluation \(qm.evaluation.rawValue)"
                + (qm.isDPUDeployable ? "" : " (non-DPU configuration: not deployable)"), outputs: [output, evalOutput])
            if outs != nil, let eval, let evalOutput {
                let moved = OutputArrays.renamed(m.outputs.map(\.name), at: evalOutput).map { " (\($0))" } ?? ""
                CLI.status("wrote \(evalOutput): quantized outputs on \(eval)\(moved)", outputs: [output, evalOutput])
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
                     discussion: "Names: " + QConfig.optionNames.joined(separator: ", ")
                        + ". bits sets weight_bits, bias_bits and activation_bits; each of those overrides it.")
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
    /// archive with images), as `octet deploy` reads them; each batch checked against the model's
    /// input (shape, at least one sample, float32 after `u8`; finite for `calibration`), a mismatch a
    /// `DataError` naming the file.
    static func feeds(_ path: String, _ m: Model, u8: U8Transform? = nil, calibration: Bool = true) throws -> [String: Tensor] {
        let feeds = try DeployCommand.feeds(path, inputs: m.inputs.map(\.name).filter { m.graph.initializers[$0] == nil }, u8: u8)
        try CLI.checkShapes(feeds, for: m, source: path)
        for (name, t) in feeds.sorted(by: { $0.key < $1.key }) {
            guard t.dtype == .float32 else {
                throw DataError("\(path): input '\(name)' holds \(t.dtype) values, not float32"
                    + (t.dtype == .uint8 ? "; give --u8 OFFSET,SCALE to convert raw uint8 images" : ""))
            }
            if calibration, let bad = t.firstNonFinite() {
                throw DataError("\(path): input '\(name)' has NaN/Inf values (first in sample \(bad.sample)); calibration needs finite data")
            }
            if calibration, let v = t.floats.first, t.floats.allSatisfy({ $0 == v }) {
                FileHandle.standardError.write(Data("warning: \(path): every calibration value of input '\(name)' is \(v); the fix positions will fit that constant, not real data\n".utf8))
            }
        }
        return feeds
    }
}
