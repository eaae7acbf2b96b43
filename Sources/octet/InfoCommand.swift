import ArgumentParser
import OctetGraph

/// `octet info MODEL.onnx`: inputs/outputs, opset, op histogram, parameters and MACs per layer.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Describe an ONNX model: I/O, opset, ops, parameters, MACs.")
    @Argument(help: "Path to an .onnx model.") var model: String
    @Option(parsing: .unconditional, help: "Value for a symbolic batch dimension (default 1).") var batch: Int?
    @Flag(help: "List every compute layer.") var layers = false

    func validate() throws { try CLI.checkBatch(batch) }

    func run() throws {
        let m = try CLI.guarded {
            let m = try Model.load(path: model, batchSize: batch ?? 1)
            try CLI.checkBatch(batch, for: m)
            return m
        }
        print(ModelSummary.text(m, layers: layers))
    }
}
