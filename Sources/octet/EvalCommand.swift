import ArgumentParser
import Foundation
import OctetGraph
import OctetTensor

/// `octet eval MODEL.onnx DATA.npz | DATA.npy --labels L.npy`: float top-k accuracy on labelled samples.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eval", abstract: "Float accuracy of a model on a labelled .npz (keys images, labels) or a .npy with --labels.")
    @Argument(help: "Path to an .onnx model.") var model: String
    @Argument(help: "A .npz with 'images' [N, ...] and integer 'labels' [N] (other keys as dataset() reads them), or a .npy [N, ...] with --labels.") var data: String
    @Option(parsing: .unconditional, help: "Labels of a .npy's samples (.npy of N integers).") var labels: String?
    @Option(parsing: .unconditional, help: "Top-k.") var topK: Int = 1
    @Option(parsing: .unconditional, help: U8Transform.help) var u8: String?
    @Option(parsing: .unconditional, help: "Kernel threads (default: the machine's cores).") var threads: Int = CLI.defaultThreads

    func validate() throws {
        try CLI.checkThreads(threads)
        _ = try U8Transform.parse(u8)
        guard topK >= 1 else { throw ValidationError("--top-k must be at least 1, got \(topK)") }
    }

    func run() throws {
        try CLI.guarded {
            KernelConfig.threads = threads
            let m = try Model.load(path: model)
            let kind = (data as NSString).pathExtension.lowercased()
            guard kind == "npz" || (kind == "npy" && labels != nil) else {
                throw ValidationError("\(data): eval reads a labelled .npz (arrays 'images' and 'labels'), or a .npy with --labels L.npy; for unlabelled inputs use `octet infer`")
            }
            if kind == "npz", labels != nil {
                throw ValidationError("--labels: \(data) is a .npz, whose labels are its 'labels' array")
            }
            // Keys, dtypes and labels as dataset() reads them (images/x/input/data, labels/y/targets).
            let u8 = try U8Transform.parse(u8)
            let preprocessing = u8.map { ImagePreprocessing(normalization: .offsetScale(offset: $0.offset, scale: $0.scale)) }
            let set = try kind == "npz" ? Dataset.npz(path: data, preprocessing: preprocessing)
                : Dataset.npy(path: data, labelsPath: labels, preprocessing: preprocessing)
            guard let labelList = set.labels else {
                throw DataError("\(set.name): no labels; eval needs an array 'labels' (or 'y', 'targets') beside the images")
            }
            if set.holdsBytes && u8 == nil {
                FileHandle.standardError.write(Data("warning: \(set.name) holds uint8 values; they are used as floats 0…255 (give the model's preprocessing with --u8 offset,scale)\n".utf8))
            }
            let input = try set.allSamples()
            guard let first = m.inputs.first else { throw DataError.noInputs(model: model) }
            try CLI.checkShapes([first.name: input], for: m, source: set.name)
            let logits = try m.run(input)
            guard logits.rank == 2 else {
                throw DataError("\(model): accuracy needs logits [N, classes]; the model's first output is \(logits.shape)")
            }
            if let classes = logits.shape.last, topK > classes {
                throw ValidationError("--top-k \(topK): the model has \(classes) classes")
            }
            if let classes = logits.shape.last, let bad = labelList.first(where: { $0 < 0 || $0 >= classes }) {
                throw DataError("\(labels ?? data): 'labels' holds \(bad), outside the \(classes) classes 0…\(classes - 1)")
            }
            let acc = try Accuracy.topK(logits: logits, labels: labelList, k: topK)
            print(String(format: "top-%d accuracy: %.2f %% (%d samples)", topK, acc * 100, labelList.count))
        }
    }
}
