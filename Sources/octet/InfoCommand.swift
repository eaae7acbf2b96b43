import ArgumentParser

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Describe an ONNX model.")
    @Argument(help: "Path to an .onnx model.") var model: String
    func run() throws {}
}
