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
        var annotations: QuantAnnotations
    }

    /// JSON text of the parameters (sorted keys, indented).
    public static func encode(_ q: QuantizedModel) throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try enc.encode(File(format: format, model: q.graph.name, annotations: q.annotations))
    }

    /// Writes the parameters atomically. - Throws: `OctetTensorError.writeFailed` naming the path.
    public static func save(_ q: QuantizedModel, to path: String) throws {
        try AtomicFile.write(try encode(q), to: path)
    }

    /// Reads parameters saved by `save` and binds them to `model` (prepared the same way).
    /// - Throws: `OctetQuantError.unreadableParameters` for a missing or malformed file;
    ///   `.parameterMismatch` naming the first tensor (in name order) that the model lacks, has
    ///   with another shape, or that the saved file lacks.
    public static func load(_ path: String, model: Model) throws -> QuantizedModel {
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
        return try bind(file.annotations, to: model)
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
        guard ann.nodes.count == plan.nodes.count else {
            throw OctetQuantError.parameterMismatch(tensor: plan.nodes.last?.output ?? "",
                                                    reason: "\(ann.nodes.count) nodes saved, \(plan.nodes.count) in this model")
        }
        return try QuantizedModel(graph: prepared.graph, plan: plan, config: config, annotations: ann,
                                  batchSize: model.batchSize, ranges: [:])
    }
}
