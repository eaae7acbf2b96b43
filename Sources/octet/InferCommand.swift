import ArgumentParser
import Foundation
import OctetGraph
import OctetTensor

/// `octet infer MODEL.onnx --input X.npy [--u8 OFFSET,SCALE] --output Y.npy|DIR`: float inference on a batch.
struct InferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "infer", abstract: "Run the float model on a .npy batch.")
    @Argument(help: "Path to an .onnx model.") var model: String
    @Option(help: "Input batch (.npy, first dimension = samples; or .npz: the array named as the input, its only array, or a dataset's images); for several inputs use name=path, or one .npz with an array per input name.") var input: [String]
    @Option(help: "Output .npy (one output) or directory (one .npy per output name; a path ending in / is a directory).") var output: String
    @Option(parsing: .unconditional, help: U8Transform.help) var u8: String?
    @Option(parsing: .unconditional, help: "Kernel threads (default: the machine's cores).") var threads: Int = CLI.defaultThreads

    func validate() throws {
        try CLI.checkThreads(threads)
        _ = try U8Transform.parse(u8)
    }

    func run() throws {
        try CLI.guarded {
            KernelConfig.threads = threads
            let m = try Model.load(path: model)
            guard !m.inputs.isEmpty else { throw DataError.noInputs(model: model) }
            // One .npz without a name, for a model of several inputs: an array per input name, as `deploy --calib` reads it.
            let wholeNPZ = input.count == 1 && m.inputs.count > 1 && !input[0].contains("=") && input[0].lowercased().hasSuffix(".npz")
            var paths: [(name: String, path: String)] = wholeNPZ ? m.inputs.map { ($0.name, input[0]) } : []
            for spec in input where !wholeNPZ {
                let parts = spec.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                let (name, path) = parts.count == 2 ? (parts[0], parts[1]) : (m.inputs.first?.name ?? "", parts[0])
                guard !path.isEmpty else { throw ValidationError("--input '\(spec)': expected a path (or name=path)") }
                guard !paths.contains(where: { $0.name == name }) else { throw ValidationError("--input '\(spec)': input '\(name)' is given twice") }
                guard m.inputs.contains(where: { $0.name == name }) else {
                    throw ValidationError("--input '\(spec)': the model has no input '\(name)' (inputs: \(m.inputs.map(\.name).joined(separator: ", ")))")
                }
                paths.append((name, path))
            }
            let missing = m.inputs.map(\.name).filter { n in !paths.contains { $0.name == n } }
            guard missing.isEmpty else {
                throw ValidationError("--input: the model's inputs are \(m.inputs.map(\.name).joined(separator: ", ")); give each as name=path (missing: \(missing.joined(separator: ", ")))")
            }
            let names = m.outputs.map(\.name)
            try OutputArrays.check(output, option: "--output", names: names,
                                   inputs: [(what: "model", path: model)] + paths.map { (what: "input", path: $0.path) }
                                       + CLI.externalData(m))
            let transform = try U8Transform.parse(u8)
            var feeds: [String: Tensor] = [:]
            var anyUInt8 = false
            for (name, path) in paths {
                let raw = path.lowercased().hasSuffix(".npz") ? try DeployCommand.feeds(path, inputs: [name])[name]! : try NPY.read(path: path)
                anyUInt8 = anyUInt8 || raw.dtype == .uint8
                let t = try raw.dtype == .uint8 ? transform.map { try $0.apply(raw, path: path) } ?? raw : raw
                guard t.rank >= 1, t.shape[0] > 0 else { throw DataError("\(path): empty input batch (shape \(t.shape))") }
                if let input = m.inputs.first(where: { $0.name == name }) {
                    do { try m.check(t, for: input) } catch {
                        let hint = t.dtype == .uint8 && input.dtype == .float32 ? "; give --u8 OFFSET,SCALE to convert raw uint8 images" : ""
                        throw DataError("\(path): \(error)\(hint)")
                    }
                }
                feeds[name] = t
            }
            if u8 != nil, !anyUInt8 {
                throw DataError("--u8: no input holds uint8 values (\(paths.map(\.path).joined(separator: ", ")))")
            }
            CLI.warnNonFinite(feeds, source: "infer")
            let outs = try m.run(feeds)
            try OutputArrays.write(outs, names: names, to: output)
            let samples = feeds.values.first?.shape.first ?? 0
            let moved = OutputArrays.renamed(names, at: output).map { ": \($0)" } ?? ""
            CLI.status("wrote \(output): \(names.count == 1 ? "1 output" : "\(names.count) outputs") for \(samples) sample\(samples == 1 ? "" : "s")\(moved)", outputs: [output])
        }
    }
}
