import ArgumentParser
import OctetDPU
import OctetGraph

/// `octet inspect MODEL.onnx [--target T]`: device per node, the rule behind each CPU node,
/// fused patterns and the DPU/CPU partition.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Show which nodes a DPU target runs, and why not.")
    @Argument(help: "Path to an .onnx model.") var model: String
    @Option(help: "DPU target (see `octet targets`).") var target: String = DPUTarget.default.name

    func validate() throws { try CLI.checkTarget(target) }

    func run() throws {
        try CLI.guarded {
            let t = try DPUTarget.named(target)
            let m = try Model.load(path: model)
            print(try Inspector.inspect(m.graph, target: t).table)
        }
    }
}
