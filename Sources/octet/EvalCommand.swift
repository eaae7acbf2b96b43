import ArgumentParser
import Foundation
import OctetGraph
import OctetTensor

/// `octet eval MODEL.onnx DATA.npz`: float top-k accuracy on a labelled .npz (images, labels).
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eval", abstract: "Float accuracy of a model on a labelled .npz (keys images, labels).")
    @Argument(help: "Path to an .onnx model.") var model: String
    @Argument(help: "A .npz with 'images' [N, ...] and 'labels' [N].") var data: String
    @Option(parsing: .unconditional, help: "Top-k.") var topK: Int = 1
    @Option(parsing: .unconditional, help: "Kernel threads.") var threads: Int = 2

    func validate() throws {
        try CLI.checkThreads(threads)
        guard topK >= 1 else { throw ValidationError("--top-k must be at least 1, got \(topK)") }
    }

    func run() throws {
        try CLI.guarded {
            KernelConfig.threads = threads
            let m = try Model.load(path: model)
            let arrays = try NPY.readArchive(path: data)
            guard let images = arrays["images"], let labels = arrays["labels"] else {
                throw DataError("\(data): needs arrays 'images' and 'labels' (found: \(arrays.keys.sorted().joined(separator: ", ")))")
            }
            if images.dtype == .uint8 {
                FileHandle.standardError.write(Data("warning: \(data): 'images' holds uint8 values; they are used as floats 0…255 (the model's own preprocessing is not applied)\n".utf8))
            }
            // [N] or [N, 1], as datasets accept them.
            guard labels.dtype != .float32, labels.rank == 1 || (labels.rank == 2 && labels.shape[1] == 1),
                  images.rank >= 1, labels.shape[0] == images.shape[0] else {
                throw DataError("\(data): 'labels' must be integer class indices, one per image: \(images.rank >= 1 ? images.shape[0] : 0) images, labels \(labels.dtype) \(labels.shape)")
            }
            let input = images.converted(to: .float32)
            if let first = m.inputs.first {
                do { try m.check(input, for: first) } catch { throw DataError("\(data): 'images': \(error)") }
            }
            CLI.warnNonFinite([m.inputs.first?.name ?? "input": input], source: data)
            let logits = try m.run(input)
            if let classes = logits.shape.last, topK > classes {
                throw ValidationError("--top-k \(topK): the model has \(classes) classes")
            }
            let classIndices = labels.asInt64Array().map { Int($0) }
            if let classes = logits.shape.last, let bad = classIndices.first(where: { $0 < 0 || $0 >= classes }) {
                throw DataError("\(data): 'labels' holds \(bad), outside the \(classes) classes 0…\(classes - 1)")
            }
            let acc = try Accuracy.topK(logits: logits, labels: classIndices, k: topK)
            print(String(format: "float top-%d accuracy: %.2f %% (%d samples)", topK, acc * 100, labels.count))
        }
    }
}
