import ArgumentParser

struct InferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "infer", abstract: "Run the float model on a .npy batch.")
    @Argument(help: "Path to an .onnx model.") var model: String
    func run() throws {}
}
