import Foundation
import OctetGraph
import OctetQuant
import OctetTensor

/// A calibrated model as a script value: `q.run(x)`, `q.report()`, `q.sensitivity(data)`,
/// `q.save(path)`, `q.tensors`, `q.int8(name, x)`.
final class QuantizedModelValue: RunnableModel {
    let q: QuantizedModel
    let float: ModelValue
    /// Calibration samples (nil after `load_quant`): the default data of `report`.
    let calib: Tensor?
    let method: String

    init(_ q: QuantizedModel, float: ModelValue, calib: Tensor?, method: String) {
        self.q = q
        self.float = float
        self.calib = calib
        self.method = method
    }

    static func receiver(_ a: Arguments, _ i: Int = 0) throws -> QuantizedModelValue {
        guard case .object(let q as QuantizedModelValue) = a[i] else { throw a.typeError(i, "a QuantizedModel (from quantize)") }
        return q
    }

    var typeName: String { "QuantizedModel" }
    var runLabel: String { "int8 (\(method))" }
    func forward(_ x: Tensor, outputs names: [String]) throws -> [String: Tensor] { try q.run(try RunnableFeeds.single(q.graph, x), outputs: names) }
    var graph: Graph { q.graph }

    /// Activation tensors with their own quantizer, in graph order.
    var activationNames: [String] { q.plan.activations }

    var configText: String {
        let c = q.config
        return "\(method), \(c.activationBits)-bit, \(c.perChannel ? "per-channel" : "per-tensor") weights, "
            + (c.activationsPowerOfTwo ? "power-of-two activations" : "float-scale activations")
    }

    var summary: String {
        var lines = ["QuantizedModel \(float.displayPath): \(configText)",
                     "  \(q.annotations.tensors.count) quantized tensors (\(activationNames.count) activations), evaluation \(q.evaluation.rawValue)",
                     "  DPU-deployable: \(q.isDPUDeployable ? "yes" : "no")"]
        if !q.config.excludedNodes.isEmpty || !q.config.excludedOpTypes.isEmpty {
            lines.append("  kept in float: " + (q.config.excludedNodes + q.config.excludedOpTypes).joined(separator: ", "))
        }
        for adj in q.annotations.adjustments.prefix(5) { lines.append("  adjusted: \(adj)") }
        if q.annotations.adjustments.count > 5 { lines.append("  … \(q.annotations.adjustments.count - 5) more adjustments") }
        return lines.joined(separator: "\n")
    }

    var propertyNames: [String] { ["method", "deployable", "evaluation", "config", "tensors", "fix_pos", "adjustments", "model"] }

    func property(_ name: String) throws -> Value? {
        switch name {
        case "method": return .string(method)
        case "deployable": return .bool(q.isDPUDeployable)
        case "evaluation": return .string(q.evaluation.rawValue)
        case "config": return .record(RecordObject(q.config.options.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
        case "tensors": return .list(activationNames.map { .string($0) })
        case "fix_pos":
            return .record(RecordObject(activationNames.compactMap { n in q.annotations.fixPos(n).map { (n, .int($0)) } }))
        case "adjustments": return .list(q.annotations.adjustments.map { .string($0.description) })
        case "model": return .object(float)
        default: return nil
        }
    }

    var methods: BindingTable { QuantizedModelMethods.table }

    func render(in notebook: RenderContext) throws -> RichRendering? {
        let rows = activationNames.map { n -> [String] in
            let p = q.annotations.tensors[n]
            return [n, p?.fixPos.map(String.init) ?? "-", p.map { Format.real(Double($0.scale)) } ?? "-",
                    q.observedRanges[n].map { "[\(Format.fixed(Double($0.min), 3)), \(Format.fixed(Double($0.max), 3))]" } ?? "-"]
        }
        let head = "**QuantizedModel** `\(float.displayPath)`: \(configText); evaluation \(q.evaluation.rawValue); DPU-deployable: \(q.isDPUDeployable ? "yes" : "no")\n\n"
        return .markdown(head + MarkdownTable.render(["activation", "fix_pos", "scale", "calibration range"], rows))
    }

    /// Runs `x` and returns the captured int8 tensor `name` (codes and fix_pos).
    func captured(_ name: String, _ x: Tensor) throws -> CapturedTensor {
        guard q.evaluation == .integer else {
            throw BindingError.message("int8 tensors exist only for DPU (integer) evaluation; this model runs \(q.evaluation.rawValue) (\(configText))")
        }
        let input = q.graph.inputs[0].name
        let run = try q.run([input: x], capture: true)
        guard let t = run.captured[name] else {
            let known = run.captured.keys.sorted()
            throw BindingError.message("no int8 tensor '\(name)'; known: " + known.prefix(12).joined(separator: ", ") + (known.count > 12 ? ", …" : ""))
        }
        return t
    }
}

/// Methods of QuantizedModel.
enum QuantizedModelMethods {
    static let table = BindingTable(domain: "quant", owner: "QuantizedModel", [
        Builtin("run", ["self", "x"], named: [ParameterSpec("output", .null)],
                doc: "Runs a batch through the quantized model (integer kernels for DPU configurations) and returns the output named `output` (default: the first).") { a, interp in
            let q = try QuantizedModelValue.receiver(a)
            return .object(TensorValue(try q.outputs(try DataInput.from(a, 1, interp), interp, output: try RunnableFeeds.outputName(a))))
        },
        Builtin("report", [ParameterSpec("self"), ParameterSpec("data", .null)], named: [ParameterSpec("samples", .int(16)), ParameterSpec("reference", .null)],
                doc: "Per-tensor fix_pos and calibration range (min, max), then, on `data` (default: the calibration data; at most `samples` samples), the clipped % and SQNR vs the float model, and per-layer sensitivity. reference: a float Model to measure the SQNR against instead, e.g. the model before adaround / fast_finetune (their own float model holds the changed weights).") { a, interp in
            let q = try QuantizedModelValue.receiver(a)
            let x = try data(a, q, interp)
            let samples = try sampleCount(a)
            let reference = try referenceModel(a)
            let report = try interp.withProgress("report", total: 1) { step in
                let r = try QuantReport.make(q.q, feeds: [q.q.graph.inputs[0].name: x], samples: samples, reference: reference)
                try step()
                return r
            }
            return .object(ReportValue(report, model: q.float.displayPath, method: q.method))
        },
        Builtin("sensitivity", [ParameterSpec("self"), ParameterSpec("data", .null)], named: [ParameterSpec("samples", .int(16))],
                doc: "Table of layers ranked worst first: network-output SQNR (dB) when only that layer is quantized.") { a, interp in
            let q = try QuantizedModelValue.receiver(a)
            let x = try data(a, q, interp)
            let r = try QuantReport.make(q.q, feeds: [q.q.graph.inputs[0].name: x], samples: try sampleCount(a))
            return .object(ReportValue(r, model: q.float.displayPath, method: q.method).sensitivityTable)
        },
        Builtin("save", ["self", "path"], doc: "Saves the quantization parameters as JSON (octet-quant-params/1) with the method and a digest of each float weight; load_quant(model, path) reads them back onto the model with those weights (after a recovery pass, q.model: save it with q.model.save(path)).") { a, interp in
            let q = try QuantizedModelValue.receiver(a)
            try QuantPersistence.save(q.q, method: q.method, to: try DataInput.outputPath(a, 1, interp))
            return .null
        },
        Builtin("int8", ["self", "name", "x"], doc: "The int8 codes of tensor `name` when running batch `x`, as an int8 Tensor (value = code · 2^−fix_pos; q.fix_pos[name]).") { a, interp in
            let q = try QuantizedModelValue.receiver(a)
            let x = try DataInput.from(a, 2, interp).all()
            return .object(TensorValue(try q.captured(try a.string(1), x).codes))
        },
    ])

    /// The `samples:` argument of `report` and `sensitivity`; throws unless it is at least 1.
    static func sampleCount(_ a: Arguments) throws -> Int {
        let n = try a.int("samples")
        guard n >= 1 else { throw BindingError.named("samples", "samples must be at least 1, got \(n)") }
        return n
    }

    /// The `reference` argument: nil or a float Model.
    static func referenceModel(_ a: Arguments) throws -> Model? {
        switch a["reference"] {
        case .null: return nil
        case .object(let m as ModelValue): return m.model
        case let v: throw BindingError.named("reference", "reference must be a float Model (from load), found \(v.typeName)")
        }
    }

    /// Argument 1 (data) or the calibration samples.
    static func data(_ a: Arguments, _ q: QuantizedModelValue, _ interp: Interpreter) throws -> Tensor {
        if !Evaluation.isNull(a[1]) { return try DataInput.from(a, 1, interp).all() }
        guard let c = q.calib else {
            throw BindingError.message("this model was loaded without calibration data; pass data as argument 1")
        }
        return c
    }
}
