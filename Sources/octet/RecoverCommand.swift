import ArgumentParser
import Foundation
import OctetDPU
import OctetGraph
import OctetQuant
import OctetTensor

/// `octet recover`: power-of-two PTQ with an accuracy-recovery method, evaluated against float
/// reference outputs; one JSON line (SQNR per output, top-1 agreement, accuracy, seconds, peak memory).
/// With `--output`, the recovered model is also written as a DPU program (.octprog) or an ONNX QDQ
/// model (.onnx), as `octet deploy` / `octet export` write them.
struct RecoverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover",
        abstract: "Quantize with CLE / bias correction / AdaQuant / AdaRound and report output quality.")

    @Argument(help: "Path to an .onnx model.") var model: String
    @Option(help: "Method: ptq, cle, cle_bc, adaquant, adaround (adaquant/adaround run after CLE when --cle).")
    var method: String = "ptq"
    @Option(help: "Calibration inputs (.npy [N, ...], or .npz as deploy reads it).") var calib: String
    @Option(help: "Evaluation inputs (.npy or .npz).") var eval: String
    @Option(parsing: .upToNextOption, help: "Float reference outputs as name=path.npy (a bare path for a one-output model); default: Octet's own float run of the model on --eval.") var reference: [String] = []
    @Option(help: "Labels of the evaluation inputs (.npy), for accuracy; default: the labels an --eval .npz holds.") var labels: String?
    @Option(parsing: .unconditional, help: U8Transform.help) var u8: String?
    @Option(help: "ReLU6 in CLE: stop, relu (replace by Relu) or calibrated (equalize the channels that never reach the clip on the calibration data).") var relu6: String?
    @Flag(help: "Run CLE before AdaQuant / AdaRound.") var cle = false
    @Flag(help: "After CLE, absorb high biases into the next layer (calibration minimum per channel).") var absorbBias = false
    @Option(parsing: .unconditional, help: "Calibration samples to use (first N).") var samples: Int?
    @Flag(help: "Append the calibration images mirrored left to right (twice the samples; helps AdaRound on ImageNet-type models).")
    var mirror = false
    @Option(parsing: .unconditional, help: "AdaRound iterations per layer (0: round to nearest at the searched weight fix_pos; default 1000).") var iterations: Int?
    @Flag(inversion: .prefixedNo, help: "AdaQuant / AdaRound: choose each weight fix_pos among fp−1…fp+2 by the layer's reconstruction loss (default on).")
    var fixposSearch: Bool?
    @Option(parsing: .unconditional, help: "AdaQuant maximum epochs per layer (default 10).") var epochs: Int?
    @Option(help: "AdaQuant: what keeps an epoch, layer (the layer's reconstruction loss) or network (the network output loss, as vai_q_pytorch; a forward of the rest of the network per epoch). Default: layer.")
    var epochLoss: String?
    @Option(parsing: .unconditional, help: "AdaQuant / AdaRound: minibatch samples per optimizer step.") var batch: Int?
    @Option(parsing: .unconditional, help: "AdaQuant / AdaRound: seed of the optimizers' generator, 0…2^63 − 1 (as scripts' `seed:` takes it; default 1705472343).") var seed: Int?
    @Option(name: .customLong("max-memory-mb"), parsing: .unconditional, help: "cle_bc, adaquant, adaround: refuse before any work when the activations held over the calibration set would exceed this.") var maxMemoryMB: Int?
    @Option(parsing: .unconditional, help: "Kernel threads (default: the machine's cores).") var threads: Int = CLI.defaultThreads
    @Option(help: "Write the recovered model: a DPU program (.octprog, as octet deploy; --target) or an ONNX QDQ model (.onnx, as octet export; --ties).")
    var output: String?
    @Option(help: "DPU target of an .octprog --output (see `octet targets`; default \(DPUTarget.default.name)).") var target: String?
    @Option(help: "Rounding of exact .5 ties in an .onnx --output: half-even or half-up (as octet export).") var ties: String?
    @Option(help: ExportCommand.optionHelp(example: "activation_observer=minmse or bias_bits=16 (non-DPU experiments)")) var option: [String] = []

    func validate() throws {
        for (name, value) in [("--samples", samples), ("--epochs", epochs), ("--batch", batch),
                              ("--max-memory-mb", maxMemoryMB)] {
            if let value, value < 1 { throw ValidationError("\(name) \(value): must be at least 1") }
        }
        try CLI.checkThreads(threads)
        if let seed, seed < 0 { throw ValidationError("--seed \(seed): must be in 0...\(Int.max)") }
        guard Self.methods.contains(method) else {
            throw ValidationError("--method \(method): accepted: " + Self.methods.joined(separator: ", "))
        }
        if let iterations, !AdaRound.iterationRange.contains(iterations) {
            throw ValidationError("--iterations \(iterations): must be in \(AdaRound.iterationRange)")
        }
        if let epochs, !AdaQuant.epochRange.contains(epochs) { throw ValidationError("--epochs \(epochs): must be in \(AdaQuant.epochRange)") }
        if iterations != nil && method != "adaround" { throw ValidationError("--iterations applies to --method adaround") }
        if epochs != nil && method != "adaquant" { throw ValidationError("--epochs applies to --method adaquant") }
        for (flag, given) in [("--batch", batch != nil), ("--seed", seed != nil), (fixposSearch == false ? "--no-fixpos-search" : "--fixpos-search", fixposSearch != nil)]
        where given && !method.hasPrefix("ada") {
            throw ValidationError("\(flag) applies to --method adaquant or adaround")
        }
        if maxMemoryMB != nil && !Self.layerwiseMethods.contains(method) {
            throw ValidationError("--max-memory-mb applies to the passes that hold activations over the calibration set: --method cle_bc, adaquant or adaround")
        }
        if let epochLoss {
            guard AdaQuant.EpochLoss(rawValue: epochLoss) != nil else {
                throw ValidationError("--epoch-loss \(epochLoss): accepted: " + AdaQuant.EpochLoss.allCases.map(\.rawValue).joined(separator: ", "))
            }
            guard method == "adaquant" else { throw ValidationError("--epoch-loss applies to --method adaquant") }
        }
        if let relu6, CrossLayerEqualization.ReLU6Policy(rawValue: relu6) == nil {
            throw ValidationError("--relu6 \(relu6): accepted: " + CrossLayerEqualization.ReLU6Policy.allCases.map(\.rawValue).joined(separator: ", "))
        }
        if cle && !method.hasPrefix("ada") { throw ValidationError("--cle applies to adaquant and adaround; use --method cle or cle_bc") }
        if relu6 != nil && !runsCLE { throw ValidationError("--relu6 applies to CLE: use --method cle or cle_bc, or --cle") }
        _ = try U8Transform.parse(u8)
        try CLI.checkOptions(option)
        if method == "adaround", try ExportCommand.config(option).perChannel {
            throw ValidationError("--method adaround needs per-tensor weight scales (per_channel=false)")
        }
        if absorbBias && !runsCLE {
            throw ValidationError("--absorb-bias runs after CLE: use --method cle or cle_bc, or --cle")
        }
        try validateOutput()
    }

    static let methods = ["ptq", "cle", "cle_bc", "adaquant", "adaround"]
    static let layerwiseMethods: Set<String> = ["cle_bc", "adaquant", "adaround"]
    var runsCLE: Bool { method == "cle" || method == "cle_bc" || cle }

    func run() throws {
        try CLI.guarded {
            KernelConfig.threads = threads
            let m = try Model.load(path: model)
            try CLI.checkOptions(option, for: m)
            if outputKind == .qdq { try CLI.checkQDQExportable(model: model, opset: m.graph.opset) }
            if let output { try CLI.checkNotInput(output, option: "--output", inputs: CLI.externalData(m)) }
            guard m.inputs.count == 1 else {
                throw DataError("\(model): recover needs a model with one input; it has \(m.inputs.count)")
            }
            let name = m.inputs[0].name
            var calibX = try load(calib, input: name, of: m, calibration: true)
            if let n = samples {
                if n > calibX.shape[0] {
                    FileHandle.standardError.write(Data("note: --samples \(n): \(calib) holds \(calibX.shape[0]) samples; all of them are used\n".utf8))
                }
                calibX = TensorBatch.slice(calibX, start: 0, count: min(n, calibX.shape[0]), padTo: min(n, calibX.shape[0]))
            }
            if mirror {
                calibX = try Self.withMirrors(calibX, path: calib)
            }
            let evalX = try load(eval, input: name, of: m, calibration: false)
            CLI.warnNonFinite([name: evalX], source: eval)
            do {   // before the pass, so a model that cannot be evaluated on this batch costs no run
                try OutputBatching.checkRun(m.graph.outputs.map(\.name), in: m.graph, samples: evalX.shape[0], batchSize: m.batchSize)
            } catch { throw DataError("\(eval): \(error)") }
            let targets = try loadTargets(m, evalX)
            let t0 = Date()
            let (q, notes): (QuantizedModel, [String])
            do { (q, notes) = try quantize(m, [name: calibX]) } catch RecoveryError.memoryLimit(let need, let limit, let what) {
                throw DataError("--max-memory-mb \(limit) cannot be met: \(what) needs about \(need) MB (use fewer calibration samples or raise the limit)")
            }
            let seconds = Date().timeIntervalSince(t0)
            let out = try q.run([name: evalX])
            let written = try write(q)
            var row: [String: Any] = ["model": model, "method": method + (cle ? "+cle" : ""),
                                      "seconds": seconds, "peak_rss_mb": ProcessMemory.peakMB(), "notes": notes,
                                      "calib_samples": calibX.shape[0], "dpu_deployable": q.isDPUDeployable]
            if let written { row["output"] = written }
            addMetrics(&row, m, q, out, targets)
            let data = try JSONSerialization.data(withJSONObject: row, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
    }

    /// `x` [N, C, H, W] followed by its samples mirrored left to right.
    static func withMirrors(_ x: Tensor, path: String) throws -> Tensor {
        guard x.rank == 4 else { throw DataError("--mirror needs images [N, C, H, W]; \(path) holds \(x.shape)") }
        return try TensorBatch.concat([x, TensorBatch.mirroringWidth(x, where: [Bool](repeating: true, count: x.shape[0]))])
    }

    /// The batch for `input` from a .npy or .npz, read and checked as `octet deploy` reads its
    /// calibration data (`ExportCommand.feeds`: `--u8`, shape, samples, float32).
    func load(_ path: String, input: String, of m: Model, calibration: Bool) throws -> Tensor {
        guard let t = try ExportCommand.feeds(path, m, u8: try U8Transform.parse(u8), calibration: calibration)[input] else {
            throw DataError("\(path): no array for input '\(input)'")
        }
        return t
    }

    /// The quantized model of the chosen method, and the pass's report lines.
    func quantize(_ m: Model, _ feeds: [String: Tensor]) throws -> (QuantizedModel, [String]) {
        var base = m, notes: [String] = []
        let config = try ExportCommand.config(option)
        if runsCLE {
            _ = try CalibrationData.validate(feeds, model: m)
            var o = CrossLayerEqualization.Options()
            o.quantization = config
            o.relu6 = CrossLayerEqualization.ReLU6Policy(rawValue: relu6 ?? "stop")!   // checked in validate()
            let (equalized, report) = try CrossLayerEqualization.run(try QuantPreparation.prepare(m.graph).graph, options: o,
                                                                     feeds: feeds, batchSize: m.batchSize)
            var g = equalized
            notes.append(report.description)
            if absorbBias {
                let r = try HighBiasAbsorption.run(g, feeds: feeds, batchSize: m.batchSize, quantization: config)
                g = r.graph
                notes.append(r.report.description)
            }
            base = try Model(graph: g, path: m.path, batchSize: m.batchSize)
        }
        switch method {
        case "ptq", "cle": return (try Calibrator(model: base, config: config).calibrate(feeds), notes)
        case "cle_bc":
            let r = try BiasCorrection.empirical(model: base, config: config, feeds: feeds, maxMemoryMB: maxMemoryMB)
            return (r.quantized, notes + [r.stats.description])
        case "adaquant":
            var o = AdaQuant.Options(); o.maxEpochs = epochs ?? 10; o.maxMemoryMB = maxMemoryMB
            if let seed { o.seed = UInt64(seed) }
            o.searchFixPos = fixposSearch ?? true
            o.epochLoss = epochLoss.flatMap(AdaQuant.EpochLoss.init(rawValue:)) ?? .layer
            if let batch { o.batchSize = batch }
            let r = try AdaQuant.run(model: base, config: config, feeds: feeds, options: o)
            return (r.quantized, notes + [r.stats.description])
        case "adaround":
            var o = AdaRound.Options(); o.iterations = iterations ?? 1000; o.maxMemoryMB = maxMemoryMB
            if let seed { o.seed = UInt64(seed) }
            o.searchFixPos = fixposSearch ?? true
            if let batch { o.batchSize = batch }
            let r = try AdaRound.run(model: base, config: config, feeds: feeds, options: o)
            return (r.quantized, notes + [r.stats.description])
        default: throw ValidationError("unknown method '\(method)' (accepted: ptq, cle, cle_bc, adaquant, adaround)")
        }
    }
}
