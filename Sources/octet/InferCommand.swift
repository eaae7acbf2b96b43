import ArgumentParser
import Foundation
import OctetGraph
import OctetTensor

/// `octet infer MODEL.onnx --input X.npy --output Y.npy|DIR`: float inference on a batch.
struct InferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "infer", abstract: "Run the float model on a .npy batch.")
    @Argument(help: "Path to an .onnx model.") var model: String
    @Option(help: "Input batch (.npy, first dimension = samples); for several inputs use name=path.") var input: [String]
    @Option(help: "Output .npy (one output) or directory (one .npy per output name; a path ending in / is a directory).") var output: String
    @Option(parsing: .unconditional, help: "Kernel threads.") var threads: Int = 1

    func validate() throws { try CLI.checkThreads(threads) }

    func run() throws {
        try CLI.guarded {
            KernelConfig.threads = threads
            let m = try Model.load(path: model)
            guard !m.inputs.isEmpty else { throw DataError("\(model): the model has no inputs (it computes constants); nothing to feed") }
            var paths: [(name: String, path: String)] = []
            for spec in input {
                let parts = spec.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                let (name, path) = parts.count == 2 ? (parts[0], parts[1]) : (m.inputs.first?.name ?? "", parts[0])
                guard !path.isEmpty else { throw ValidationError("--input '\(spec)': expected a path (or name=path)") }
                guard !paths.contains(where: { $0.name == name }) else { throw ValidationError("--input '\(spec)': input '\(name)' is given twice") }
                guard m.inputs.contains(where: { $0.name == name }) else {
                    throw ValidationError("--input '\(spec)': the model has no input '\(name)' (inputs: \(m.inputs.map(\.name).joined(separator: ", ")))")
                }
                paths.append((name, path))
            }
            let names = m.outputs.map(\.name)
            try OutputArrays.check(output, option: "--output", names: names,
                                   inputs: [(what: "model", path: model)] + paths.map { (what: "input", path: $0.path) }
                                       + CLI.externalData(m))
            var feeds: [String: Tensor] = [:]
            for (name, path) in paths {
                let t = try NPY.read(path: path)
                guard t.rank >= 1, t.shape[0] > 0 else { throw DataError("\(path): empty input batch (shape \(t.shape))") }
                if let input = m.inputs.first(where: { $0.name == name }) {
                    do { try m.check(t, for: input) } catch { throw DataError("\(path): \(error)") }
                }
                feeds[name] = t
            }
            CLI.warnNonFinite(feeds, source: "infer")
            let outs = try m.run(feeds)
            try OutputArrays.write(outs, names: names, to: output)
            if let moved = OutputArrays.renamed(names, at: output) { CLI.status("wrote \(output): \(moved)", outputs: [output]) }
        }
    }
}
