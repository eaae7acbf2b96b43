import Foundation
import OctetGraph
import OctetTensor

/// Saves and loads quantization parameters (fix_pos / scale of every quantized tensor, node
/// annotations, configuration, constraint adjustments) as readable JSON — the analogue of
/// vai_q_pytorch's `quant_info.json` (reference-quantizer §1.1, §10.3).
public enum QuantPersistence {
    /// Format tag written into every file.
    public static let format = "octet-quant-params/1"

    struct File: Codable {
        var format: String
        var model: String
        /// `weightDigests` of the float weights and biases the parameters belong to; absent in
        /// files written before they were recorded (then not checked).
        var weights: [String: String]?
        /// What produced the parameters, e.g. "diffs+adaround"; absent when not given.
        var method: String?
        var annotations: QuantAnnotations
    }

    /// JSON text of the parameters (sorted keys, indented), with the weights' digest and `method`.
    public static func encode(_ q: QuantizedModel, method: String? = nil) throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try enc.encode(File(format: format, model: q.graph.name, weights: weightDigests(q.graph, q.plan),
                                   method: method, annotations: q.annotations))
    }

    /// Writes the parameters atomically. - Throws: `OctetTensorError.writeFailed` naming the path.
    public static func save(_ q: QuantizedModel, method: String? = nil, to path: String) throws {
        try AtomicFile.write(try encode(q, method: method), to: path)
    }

    /// Reads parameters saved by `save` and binds them to `model` (prepared the same way).
    /// - Throws: `OctetQuantError.unreadableParameters` for a missing or malformed file;
    ///   `.parameterMismatch` naming the first tensor (in name order) that the model lacks, has
    ///   with another shape, or that the saved file lacks, or when the model's float weights are
    ///   not the ones the parameters were saved with (e.g. the model before `equalize` or AdaRound).
    public static func load(_ path: String, model: Model) throws -> QuantizedModel {
        try loadLabelled(path, model: model).model
    }

    /// `load`, with the method label the file was saved with (nil when none was given).
    public static func loadLabelled(_ path: String, model: Model) throws -> (model: QuantizedModel, method: String?) {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw OctetQuantError.unreadableParameters(path: path, reason: "cannot read the file")
        }
        let file: File
        do { file = try JSONDecoder().decode(File.self, from: data) } catch {
            throw OctetQuantError.unreadableParameters(path: path, reason: "not a parameter file: \(DecodingErrorText.summary(error, data: data))")
        }
        guard file.format == format else {
            throw OctetQuantError.unreadableParameters(path: path, reason: "format '\(file.format)', expected '\(format)'")
        }
        let q = try bind(file.annotations, to: model)
        let here = weightDigests(q.graph, q.plan)
        if let saved = file.weights, let name = here.keys.sorted().first(where: { saved[$0] != here[$0] }) {
            throw OctetQuantError.parameterMismatch(tensor: name, reason: "its float values are not the ones these parameters were saved with"
                + (file.method.map { " (saved after \($0))" } ?? "")
                + "; load them onto the model they came from (for a recovered q, q.model.save(path) writes that model)")
        }
        return (q, file.method)
    }

    /// FNV-1a 64 digest of each quantized parameter's float values (bit patterns), as 16 hex
    /// digits by tensor name: which float weights a parameter file belongs to.
    static func weightDigests(_ g: Graph, _ plan: QuantPlan) -> [String: String] {
        var out: [String: String] = [:]
        for name in plan.parameters.keys {
            guard let t = g.initializers[name], t.dtype == .float32 else { continue }
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            t.withFloats { p in
                for v in p {
                    var bits = v.bitPattern
                    for _ in 0..<4 { h = (h ^ UInt64(bits & 0xff)) &* 0x100_0000_01b3; bits >>= 8 }
                }
            }
            out[name] = String(format: "%016llx", h)
        }
        return out
    }

    /// Checks `ann` against `model` and builds the quantized model.
    static func bind(_ ann: QuantAnnotations, to model: Model) throws -> QuantizedModel {
        let config = try QConfig(options: ann.config.filter { QConfig.optionNames.contains($0.key) })
        let prepared = try QuantPreparation.prepare(model.graph)
        let plan = try QuantPlan(prepared: prepared, config: config)
        for name in ann.tensors.keys.sorted() {
            guard let shape = prepared.info.shapes[name] else {
                throw OctetQuantError.parameterMismatch(tensor: name, reason: "not in this model")
            }
            if let saved = ann.shapes[name], saved != shape {
                throw OctetQuantError.parameterMismatch(tensor: name, reason: "shape \(shape) in the model, \(saved) saved")
            }
        }
        let needed = Set(plan.canonical.keys).union(plan.parameters.keys)
        if let missing = needed.sorted().first(where: { ann.tensors[$0] == nil }) {
            throw OctetQuantError.parameterMismatch(tensor: missing, reason: "quantized in this model but absent from the saved parameters")
        }
        for (saved, here) in zip(ann.nodes, plan.nodes) where saved.node != here.node || saved.kind != here.kind {
            throw OctetQuantError.parameterMismatch(tensor: saved.output ?? saved.node,
                                                    reason: "node \(saved.node) is \(saved.kind.rawValue) in the saved parameters, \(here.node) is \(here.kind.rawValue) here")
        }
        // The rest of each node's annotation follows from the model too: a saved one that differs
        // (an edited weight name or average-pool factor) would make a program that disagrees with q.run.
        for (saved, here) in zip(ann.nodes, plan.nodes) where saved != here {
            let fields: [(String, String, String)] = [
                ("device", saved.device.rawValue, here.device.rawValue),
                ("activation", "\(saved.activation.map { "\($0)" } ?? "none")", "\(here.activation.map { "\($0)" } ?? "none")"),
                ("weight", saved.weight ?? "none", here.weight ?? "none"), ("bias", saved.bias ?? "none", here.bias ?? "none"),
                ("output", saved.output ?? "none", here.output ?? "none"),
                ("avgPoolFactor", "\(saved.avgPoolFactor ?? [])", "\(here.avgPoolFactor ?? [])"),
                ("opType", saved.opType, here.opType)]
            let (field, a, b) = fields.first { $0.1 != $0.2 } ?? ("annotation", "\(saved)", "\(here)")
            throw OctetQuantError.parameterMismatch(tensor: saved.output ?? saved.node,
                                                    reason: "node \(saved.node): \(field) is \(a) in the saved parameters, \(b) in this model")
        }
        guard ann.nodes.count == plan.nodes.count else {
            throw OctetQuantError.parameterMismatch(tensor: plan.nodes.last?.output ?? "",
                                                    reason: "\(ann.nodes.count) nodes saved, \(plan.nodes.count) in this model")
        }
        return try QuantizedModel(graph: prepared.graph, plan: plan, config: config, annotations: ann,
                                  batchSize: model.batchSize, ranges: [:])
    }
}
