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
            if m.outputs.count > 1 && output.lowercased().hasSuffix(".npy") && !FileManager.default.fileExists(atPath: output) {
                throw ValidationError("--output \(output): the model has \(m.outputs.count) outputs (\(m.outputs.map(\.name).joined(separator: ", "))); give a folder, which gets one .npy per output")
            }
            var feeds: [String: Tensor] = [:]
            for spec in input {
                let parts = spec.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                let (name, path) = parts.count == 2 ? (parts[0], parts[1]) : (m.inputs.first?.name ?? "", parts[0])
                guard !path.isEmpty else { throw ValidationError("--input '\(spec)': expected a path (or name=path)") }
                guard feeds[name] == nil else { throw ValidationError("--input '\(spec)': input '\(name)' is given twice") }
                guard m.inputs.contains(where: { $0.name == name }) else {
                    throw ValidationError("--input '\(spec)': the model has no input '\(name)' (inputs: \(m.inputs.map(\.name).joined(separator: ", ")))")
                }
                guard URL(fileURLWithPath: path).standardized.path != URL(fileURLWithPath: output).standardized.path else {
                    throw ValidationError("--output \(output) is the input \(path); choose another path")
                }
                let t = try NPY.read(path: path)
                guard t.rank >= 1, t.shape[0] > 0 else { throw ValidationError("\(path): empty input batch (shape \(t.shape))") }
                feeds[name] = t
            }
            CLI.warnNonFinite(feeds, source: "infer")
            let outs = try m.run(feeds)
            try write(outs, outputs: m.outputs.map(\.name))
        }
    }

    private func write(_ outs: [String: Tensor], outputs: [String]) throws {
        var isDir: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: output, isDirectory: &isDir)
        // A trailing slash names a directory even when it does not exist yet.
        if outputs.count == 1 && !(exists && isDir.boolValue) && !output.hasSuffix("/") {
            try NPY.write(outs[outputs[0]]!, path: output)
            return
        }
        if !exists { try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true) }
        for name in outputs {
            let file = name.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" ? $0 : "_" }
            try NPY.write(outs[name]!, path: "\(output)/\(String(file)).npy")
        }
    }
}
