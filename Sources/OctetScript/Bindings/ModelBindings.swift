import Foundation
import OctetGraph
import OctetTensor

/// Float ONNX models: `load(path)`, `m.summary()`, `m.run(x)`, `m.layers`, `m.info`.
enum ModelBindings {
    static let table = BindingTable(domain: "model", [
        Builtin("load", ["path"], named: [ParameterSpec("batch", .int(1))],
                doc: "Loads an ONNX model (float32). `batch` fixes a symbolic batch dimension (a model with a fixed one refuses another); runs accept any number of samples and are cut into chunks of it. Errors name unsupported ops by node.") { a, interp in
            let path = try a.string(0)
            let full = try DataInput.existingPath(path, a, 0, interp)
            let batch = try a.int("batch")
            guard batch >= 1 else { throw BindingError.named("batch", "batch must be at least 1") }
            let m = try Model.load(path: full, batchSize: batch)
            if !m.symbolicBatch, m.batchSize != batch, batch != 1 {
                throw BindingError.named("batch", "the model fixes its batch size at \(m.batchSize); batch sets a symbolic one")
            }
            for f in m.graph.externalDataFiles { interp.noteRead(f) }
            return .object(ModelValue(m, displayPath: path))
        },
    ])

    static let methods = BindingTable(domain: "model", owner: "Model", [
        Builtin("summary", ["self"], doc: "Shows inputs, outputs, op histogram, parameters, MACs and the layer table (a Markdown table in notebooks).") { a, interp in
            try interp.show(a[0]); return .null
        },
        Builtin("run", ["self", "x"], named: [ParameterSpec("output", .null)],
                doc: "Runs a batch (Tensor [N, ...], Dataset or data path) and returns the output named `output` (default: the first) [N, ...].") { a, interp in
            let m = try receiver(a)
            return .object(TensorValue(try m.outputs(try DataInput.from(a, 1, interp), interp, output: try RunnableFeeds.outputName(a))))
        },
        Builtin("activation", ["self", "name", "x"],
                doc: "The float tensor `name` (a node name for its first output, or a tensor name) when running batch `x`, [N, ...].") { a, interp in
            let m = try receiver(a)
            let x = try DataInput.from(a, 2, interp).all()
            return .object(TensorValue(try m.activation(try a.string(1), x)))
        },
        Builtin("save", ["self", "path"],
                doc: "Writes the float model as ONNX (atomic) as Octet runs it: shape subgraphs folded, the batch fixed at the load batch; for q.model, BatchNorm folded and the weights as equalize or a recovery pass left them. load(path) reads it back; load_quant binds parameters q.save wrote to it.") { a, interp in
            let m = try receiver(a)
            let g = m.model.graph
            try ONNXExporter.write(g, to: try DataInput.outputPath(a, 1, interp), opset: g.opset,
                                   irVersion: ONNXExporter.minimumIRVersion(opset: g.opset))
            return .null
        },
    ])

    static func receiver(_ a: Arguments) throws -> ModelValue {
        guard case .object(let m as ModelValue) = a[0] else { throw a.typeError(0, "a Model") }
        return m
    }
}

/// A loaded float model as a script value.
final class ModelValue: RunnableModel {
    let model: Model
    let displayPath: String
    /// What produced this model (e.g. the equalization report), shown in the summary.
    var notes = ""

    init(_ model: Model, displayPath: String) {
        self.model = model
        self.displayPath = displayPath
    }

    var typeName: String { "Model" }
    var runLabel: String { "float" }
    func forward(_ x: Tensor, outputs names: [String]) throws -> [String: Tensor] { try model.run(try RunnableFeeds.single(model.graph, x), outputs: names) }
    var graph: Graph { model.graph }
    var inputDType: DType { model.graph.inputs.first { model.graph.initializers[$0.name] == nil }?.dtype ?? .float32 }

    /// The float values of tensor `name` (or node `name`'s first output) for batch `x`.
    func activation(_ name: String, _ x: Tensor) throws -> Tensor {
        let g = model.graph
        let tensor = g.nodes.first(where: { $0.name == name })?.outputs.first ?? name
        guard g.nodes.contains(where: { $0.outputs.contains(tensor) }) || g.inputs.contains(where: { $0.name == tensor }) else {
            let names = g.nodes.map(\.name).filter { !$0.isEmpty }
            throw BindingError.argument(1, "no node or tensor named '\(name)'; nodes: " + names.prefix(16).joined(separator: ", ") + (names.count > 16 ? ", …" : ""))
        }
        if g.inputs.contains(where: { $0.name == tensor }) { return x }
        var parts: [Tensor] = []
        _ = try model.run([g.inputs[0].name: x]) { _, node, outputs in
            if let k = node.outputs.firstIndex(of: tensor) { parts.append(outputs[k]) }
        }
        var trimmed: [Tensor] = []
        var remaining = x.shape[0]
        for p in parts {
            let take = min(remaining, p.shape.first ?? 0)
            trimmed.append(take == p.shape.first ? p : TensorBatch.slice(p, start: 0, count: take, padTo: take))
            remaining -= take
        }
        return try TensorBatch.concat(trimmed)
    }

    var totalMACs: Int { model.layerStats.reduce(0) { $0 + $1.macs } }

    static func describe(_ v: ValueInfo, shape: [Int]?) -> String {
        let dims = shape.map { $0.map(String.init) } ?? v.dims.map(\.description)
        return "\(v.name): \(v.dtype) [\(dims.joined(separator: ", "))]"
    }

    var headerLines: [String] {
        let g = model.graph
        var lines = ["Model \(displayPath)", "  IR \(g.irVersion), opset \(g.opset), \(g.nodes.count) nodes, batch \(model.batchSize)"]
        for i in model.inputs { lines.append("  input  " + ModelValue.describe(i, shape: nil)) }
        for o in model.outputs { lines.append("  output " + ModelValue.describe(o, shape: model.tensorShapes[o.name])) }
        lines.append("  ops: " + g.opHistogram.map { "\($0.op) \($0.count)" }.joined(separator: ", "))
        lines.append("  parameters \(g.parameterCount), MACs per sample \(totalMACs)")
        return lines
    }

    var summary: String {
        var lines = headerLines
        let stats = model.layerStats
        if !stats.isEmpty {
            let w = max(5, stats.map(\.node.count).max() ?? 5)
            lines.append("  " + "layer".padding(toLength: w, withPad: " ", startingAt: 0) + "  op           output            params       MACs")
            for l in stats.prefix(30) {
                lines.append("  " + l.node.padding(toLength: w, withPad: " ", startingAt: 0) + "  "
                    + l.opType.padding(toLength: 12, withPad: " ", startingAt: 0) + " "
                    + "\(l.outputShape)".padding(toLength: 16, withPad: " ", startingAt: 0) + " "
                    + pad(l.parameters, 8) + " " + pad(l.macs, 10))
            }
            if stats.count > 30 { lines.append("  … \(stats.count - 30) more layers") }
        }
        if !notes.isEmpty { lines.append(notes) }
        return lines.joined(separator: "\n")
    }

    private func pad(_ v: Int, _ n: Int) -> String {
        let s = String(v)
        return String(repeating: " ", count: max(0, n - s.count)) + s
    }

    var layerRecords: [Value] {
        model.layerStats.map { l in
            .record(RecordObject([("name", .string(l.node)), ("op", .string(l.opType)),
                                  ("output_shape", .list(l.outputShape.map { .int($0) })),
                                  ("params", .int(l.parameters)), ("macs", .int(l.macs))]))
        }
    }

    var info: RecordObject {
        let g = model.graph
        return RecordObject([
            ("path", .string(displayPath)), ("nodes", .int(g.nodes.count)), ("opset", .int(g.opset)),
            ("inputs", .list(model.inputs.map { .string($0.name) })), ("outputs", .list(model.outputs.map { .string($0.name) })),
            ("input_shape", .list((model.tensorShapes[model.inputs.first?.name ?? ""] ?? []).map { .int($0) })),
            ("ops", .record(RecordObject(g.opHistogram.map { ($0.op, .int($0.count)) }))),
            ("params", .int(g.parameterCount)), ("macs", .int(totalMACs)), ("batch", .int(model.batchSize)),
        ])
    }

    var propertyNames: [String] { ["info", "layers", "path", "inputs", "outputs", "params", "macs"] }

    func property(_ name: String) throws -> Value? {
        switch name {
        case "info": return .record(info)
        case "layers": return .list(layerRecords)
        case "path": return .string(displayPath)
        case "inputs": return .list(model.inputs.map { .string($0.name) })
        case "outputs": return .list(model.outputs.map { .string($0.name) })
        case "params": return .int(model.graph.parameterCount)
        case "macs": return .int(totalMACs)
        default: return nil
        }
    }

    var methods: BindingTable { ModelBindings.methods }

    func render(in notebook: RenderContext) throws -> RichRendering? {
        var md = "**Model** `\(displayPath)` — " + headerLines.dropFirst().map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "; ") + "\n\n"
        let rows = model.layerStats.map { l in [l.node, l.opType, l.outputShape.map(String.init).joined(separator: "×"), String(l.parameters), String(l.macs)] }
        md += MarkdownTable.render(["layer", "op", "output", "params", "MACs"], rows)
        return .markdown(md)
    }
}
