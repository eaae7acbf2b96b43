import Foundation
import OctetGraph
import OctetQuant
import OctetTensor

/// Post-training quantization: `observer`, `quantize`, `load_quant`, `export_onnx`.
enum QuantBindings {
    static let quantizeParameters = [
        ParameterSpec("method", .string("diffs")), ParameterSpec("bits", .int(8)), ParameterSpec("per_channel", .bool(false)),
        ParameterSpec("round", .string("half_up")), ParameterSpec("weight_round", .string("std_round")),
        ParameterSpec("exclude", .list([])), ParameterSpec("quantized_calibration", .bool(true)),
        ParameterSpec("score_through_prelu", .bool(false)),
    ]

    static let table = BindingTable(domain: "quant", [
        Builtin("observer", ["kind"], named: [ParameterSpec("bits", .int(8)), ParameterSpec("name", .string(""))],
                doc: "A standalone calibration observer: diffs, minmse or maxmin (power-of-two fix_pos), percentile, mse or entropy (float scale). Feed it with o.observe(t).") { a, _ in
            let kind = try observerKind(a.string(0), argument: 0, a)
            let o = try kind.makeObserver(name: try a.string("name"), bits: try a.int("bits"))
            return .object(ObserverValue(o))
        },
        Builtin("quantize", ["model", "calib"], named: quantizeParameters,
                doc: """
                Post-training quantization of a float Model on calibration data (Tensor, Dataset or path). method: activation \
                observer (diffs, minmse, maxmin: power-of-two, DPU-deployable; percentile, mse, entropy: float scale, not deployable); \
                bits (2–16, 8 for the DPU); per_channel weights (not deployable); round: activation rounding (half_up = DPU_ROUND); \
                weight_round (std_round); exclude: node names or op types kept in float; quantized_calibration: observe with earlier \
                quantizers active; score_through_prelu: score a tensor read only by PRelu by the error after the PRelu.
                """) { a, interp in
            try quantize(a, interp)
        },
        Builtin("load_quant", ["model", "path"],
                doc: "Binds quantization parameters saved by q.save(path) (JSON: fix_pos/scale per tensor, configuration, method) to a float Model; an error names the first weight whose float values differ from the saved model's.") { a, interp in
            guard case .object(let m as ModelValue) = a[0] else { throw a.typeError(0, "a Model") }
            let path = try DataInput.existingPath(try a.string(1), a, 1, interp)
            let (q, method) = try QuantPersistence.loadLabelled(path, model: m.model)
            return .object(QuantizedModelValue(q, float: m, calib: nil, method: method ?? q.config.activationObserver.rawValue))
        },
        Builtin("export_onnx", ["q", "path"], named: [ParameterSpec("ties", .string(QDQExport.Ties.halfEven.rawValue))],
                doc: "Writes the quantized model as an ONNX QDQ graph (QuantizeLinear/DequantizeLinear around each quantized tensor, scale 2^−fix_pos) that onnxruntime runs. ties: \"half-even\" (plain QDQ) or \"half-up\" (the DPU's rounding of exact .5 ties, via a 2^−17 LSB Add before each activation QuantizeLinear).") { a, interp in
            let q = try QuantizedModelValue.receiver(a, 0)
            let path = try DataInput.outputPath(a, 1, interp)
            let name = try a.string("ties")
            guard let ties = QDQExport.Ties(rawValue: name) else {
                throw a.fail("ties", "unknown ties '\(name)'; accepted: " + QDQExport.Ties.allCases.map(\.rawValue).joined(separator: ", "))
            }
            try QDQExport.write(q.q, to: path, ties: ties)
            return .null
        },
    ])

    static func observerKind(_ name: String, argument: Int, _ a: Arguments) throws -> ObserverKind {
        guard let k = ObserverKind(rawValue: name.lowercased()) else {
            throw a.fail(argument, "unknown method '\(name)'; accepted: " + ObserverKind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return k
    }

    static func config(_ a: Arguments, _ model: Model) throws -> QConfig {
        var c = QConfig()
        guard case .string(let method) = a["method"] else { throw BindingError.named("method", "method must be a string") }
        guard let kind = ObserverKind(rawValue: method.lowercased()) else {
            throw BindingError.named("method", "unknown method '\(method)'; accepted: " + ObserverKind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        c.activationObserver = kind
        let bits = try a.int("bits")
        guard QuantRange.supportedBits.contains(bits) else { throw BindingError.named("bits", "bits = \(bits): supported 2–16") }
        (c.weightBits, c.biasBits, c.activationBits) = (bits, bits, bits)
        c.perChannel = try a.bool("per_channel")
        c.quantizedCalibration = try a.bool("quantized_calibration")
        c.scoreThroughPRelu = try a.bool("score_through_prelu")
        for (key, keyPath) in [("round", \QConfig.activationRounding), ("weight_round", \QConfig.weightRounding)] {
            do { c[keyPath: keyPath] = try RoundingMode.parse(try a.string(key)) } catch let e as BindingError { throw e } catch {
                throw BindingError.named(key, "\(error)")
            }
        }
        guard case .list(let ex) = a["exclude"] else { throw BindingError.named("exclude", "exclude must be a list of node names or op types") }
        let nodes = Set(model.graph.nodes.map(\.name)), ops = Set(model.graph.nodes.map(\.opType))
        for v in ex.items {
            guard case .string(let s) = v else { throw BindingError.named("exclude", "exclude must hold strings, found \(v.typeName)") }
            if nodes.contains(s) { c.excludedNodes.append(s) } else if ops.contains(s) { c.excludedOpTypes.append(s) } else {
                throw BindingError.named("exclude", "no node or op type named '\(s)' in the model")
            }
        }
        return c
    }

    static func quantize(_ a: Arguments, _ interp: Interpreter) throws -> Value {
        guard case .object(let m as ModelValue) = a[0] else { throw a.typeError(0, "a float Model (from load)") }
        let config = try config(a, m.model)
        let data = try DataInput.from(a, 1, interp)
        guard let input = m.model.inputs.first, m.model.inputs.count == 1 else {
            throw BindingError.message("quantize supports single-input models; this one has \(m.model.inputs.count) inputs")
        }
        let x = try data.all()
        let calibrator = try Calibrator(model: m.model, config: config)
        let total = (x.shape[0] + m.model.batchSize - 1) / m.model.batchSize
        interp.progress.begin("calibrate", total: total)
        defer { interp.progress.finish() }
        do {
            let q = try calibrator.calibrate([input.name: x], progress: { done, _ in interp.progress.update(completed: done) },
                                             shouldCancel: { interp.cancellation.isCancelled })
            return .object(QuantizedModelValue(q, float: m, calib: x, method: config.activationObserver.rawValue))
        } catch OctetQuantError.cancelled {
            throw CancellationError()
        }
    }
}
