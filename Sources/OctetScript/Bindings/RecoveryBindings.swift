import OctetGraph
import OctetQuant
import OctetTensor

/// Accuracy recovery passes: cross-layer equalization (Nagel 2019), empirical bias correction,
/// AdaQuant (Hubara 2020) and AdaRound (Nagel 2020), each ending in DPU power-of-two
/// recalibration with the default configuration.
enum RecoveryBindings {
    static let table = BindingTable(domain: "recovery", [
        Builtin("equalize", [ParameterSpec("model"), ParameterSpec("calib", .null)],
                named: [ParameterSpec("relu6", .string("stop")), ParameterSpec("absorb_bias", .bool(true)), ParameterSpec("options", .null)],
                doc: "Cross-layer equalization: rescales consecutive conv/Gemm channel pairs so their weight ranges match; relu6: \"stop\" (chains end at ReLU6), \"relu\" (ReLU6 replaced by Relu) or \"calibrated\" (through ReLU6 for the channels that stay below 3 on `calib`); with `calib` and absorb_bias (default true), then absorbs high biases into the next layer (the calibration minimum per channel); returns the float Model (same function on the calibration data). `options`: quantization options as a record; the layers its exclude_nodes / exclude_ops keep in float are left as they are.") { a, interp in
            let m = try model(a)
            var o = CrossLayerEqualization.Options()
            o.quantization = try config(a)
            do { try o.quantization.checkExclusions(in: m.model.graph) } catch { throw BindingError.named("options", "\(error)") }
            let policy = try a.string("relu6")
            guard let p = CrossLayerEqualization.ReLU6Policy(rawValue: policy) else {
                throw BindingError.named("relu6", "unknown relu6 '\(policy)'; accepted: " + CrossLayerEqualization.ReLU6Policy.allCases.map(\.rawValue).joined(separator: ", "))
            }
            o.relu6 = p
            var feeds: [String: Tensor]?
            if !Evaluation.isNull(a[1]) {
                guard m.model.inputs.count == 1 else { throw BindingError.message("calibration data for equalize supports single-input models") }
                feeds = [m.model.inputs[0].name: try DataInput.from(a, 1, interp).all()]
                _ = try CalibrationData.validate(feeds!, model: m.model)
            } else if p == .calibrated {
                throw BindingError.named("relu6", "relu6: \"calibrated\" needs calibration data: equalize(model, calib, relu6: \"calibrated\")")
            }
            let (equalized, report) = try CrossLayerEqualization.run(try QuantPreparation.prepare(m.model.graph).graph, options: o,
                                                                     feeds: feeds, batchSize: m.model.batchSize)
            var g = equalized, notes = report.description
            let absorb = try a.bool("absorb_bias")
            if absorb && feeds == nil && a.namedLocations["absorb_bias"] != nil {
                throw BindingError.named("absorb_bias", "absorb_bias needs calibration data: equalize(model, calib, absorb_bias: true)")
            }
            if let feeds, absorb {
                let r = try HighBiasAbsorption.run(g, feeds: feeds, batchSize: m.model.batchSize, quantization: o.quantization)
                g = r.graph
                notes += "\n" + r.report.description
            }
            let out = ModelValue(try Model(graph: g, path: m.model.path, batchSize: m.model.batchSize), displayPath: m.displayPath + " (equalized)")
            out.notes = notes
            return .object(out)
        },
        Builtin("bias_correct", ["model", "calib"], named: [ParameterSpec("options", .null)],
                doc: "Quantizes with empirical bias correction: each layer's bias absorbs the mean output error per channel on the calibration data. `options`: quantization options as a record, e.g. {activation_observer: \"minmse\"}.") { a, interp in
            let (m, x) = try inputs(a, interp)
            let c = try config(a)
            let r = try interp.withProgress("bias correction", total: 1) { step in
                let r = try cancellable(interp) { try BiasCorrection.empirical(model: m.model, config: c, feeds: [m.model.inputs[0].name: x], shouldCancel: $0) }
                try step()
                return r
            }
            return wrap(r.quantized, r.float, m, x, "bias_correct")
        },
        Builtin("fast_finetune", ["model", "calib"], named: [ParameterSpec("epochs", .int(10)), ParameterSpec("seed", .int(1705472343)),
                                                            ParameterSpec("fixpos_search", .bool(true)), ParameterSpec("epoch_loss", .string("layer")),
                                                            ParameterSpec("options", .null)],
                doc: "AdaQuant: per layer, finetunes weights and bias so the quantized layer reproduces the float layer's output on the calibration data; then recalibrates. epoch_loss: \"layer\" (an epoch is kept when the layer's loss falls) or \"network\" (when the network output loss falls, as vai_q_pytorch; slower). `options`: quantization options as a record.") { a, interp in
            let (m, x) = try inputs(a, interp)
            let c = try config(a)
            var o = AdaQuant.Options()
            o.maxEpochs = try a.int("epochs", in: AdaQuant.epochRange)
            o.seed = UInt64(try a.int("seed", in: 0...Int.max))
            o.searchFixPos = try a.bool("fixpos_search")
            let loss = try a.string("epoch_loss")
            guard let epochLoss = AdaQuant.EpochLoss(rawValue: loss) else {
                throw BindingError.named("epoch_loss", "unknown epoch_loss '\(loss)'; accepted: " + AdaQuant.EpochLoss.allCases.map(\.rawValue).joined(separator: ", "))
            }
            o.epochLoss = epochLoss
            let r = try interp.withProgress("fast finetune", total: 1) { step in
                let r = try cancellable(interp) { try AdaQuant.run(model: m.model, config: c, feeds: [m.model.inputs[0].name: x], options: o, shouldCancel: $0) }
                try step()
                return r
            }
            return wrap(r.quantized, r.float, m, x, "adaquant")
        },
        Builtin("adaround", ["model", "calib"], named: [ParameterSpec("iterations", .int(1000)), ParameterSpec("seed", .int(1705472343)),
                                                       ParameterSpec("fixpos_search", .bool(true)), ParameterSpec("options", .null)],
                doc: "AdaRound: per layer, learns whether each weight rounds up or down to minimise the layer's output error; then recalibrates. iterations: 0 rounds to nearest at the searched weight fix_pos. `options`: quantization options as a record, e.g. {score_through_prelu: true}.") { a, interp in
            let (m, x) = try inputs(a, interp)
            let c = try config(a)
            var o = AdaRound.Options()
            o.iterations = try a.int("iterations", in: AdaRound.iterationRange)
            o.seed = UInt64(try a.int("seed", in: 0...Int.max))
            o.searchFixPos = try a.bool("fixpos_search")
            let r = try interp.withProgress("adaround", total: 1) { step in
                let r = try cancellable(interp) { try AdaRound.run(model: m.model, config: c, feeds: [m.model.inputs[0].name: x], options: o, shouldCancel: $0) }
                try step()
                return r
            }
            return wrap(r.quantized, r.float, m, x, "adaround")
        },
    ])

    static func model(_ a: Arguments) throws -> ModelValue {
        guard case .object(let m as ModelValue) = a[0] else { throw a.typeError(0, "a float Model (from load)") }
        return m
    }

    static func inputs(_ a: Arguments, _ interp: Interpreter) throws -> (ModelValue, Tensor) {
        let m = try model(a)
        guard m.model.inputs.count == 1 else { throw BindingError.message("recovery passes support single-input models") }
        return (m, try DataInput.from(a, 1, interp).all())
    }

    static func wrap(_ q: QuantizedModel, _ f: Model, _ m: ModelValue, _ x: Tensor, _ pass: String) -> Value {
        .object(QuantizedModelValue(q, float: ModelValue(f, displayPath: "\(m.displayPath) (\(pass))"), calib: x,
                                    method: "\(q.config.activationObserver.rawValue)+\(pass)"))
    }

    /// The quantization configuration from the `options` record (names as `QConfig.optionNames`;
    /// values as text, numbers, booleans or lists of names).
    /// Runs a pass that polls the interpreter's cancellation (Ctrl-C) before each layer; its
    /// `OctetQuantError.cancelled` becomes the interpreter's interruption.
    static func cancellable<T>(_ interp: Interpreter, _ pass: (_ shouldCancel: @escaping () -> Bool) throws -> T) throws -> T {
        do { return try pass { interp.cancellation.isCancelled } } catch OctetQuantError.cancelled { throw CancellationError() }
    }

    static func config(_ a: Arguments) throws -> QConfig {
        switch a["options"] {
        case .null: return QConfig()
        case .record(let r):
            var text: [String: String] = [:]
            for (k, v) in r.pairs {
                switch v {
                case .string(let s): text[k] = s
                case .bool(let b): text[k] = "\(b)"
                case .int(let i): text[k] = "\(i)"
                case .real(let r) where r.isFinite && r == r.rounded() && abs(r) < 1e15: text[k] = "\(Int(r))"
                case .list(let l):
                    text[k] = try l.items.map { item -> String in
                        guard case .string(let s) = item else {
                            throw BindingError.named("options", "option \(k) lists names as strings, found \(item.typeName) \(Format.display(item))")
                        }
                        return s
                    }.joined(separator: ",")
                default: throw BindingError.named("options", "option \(k) must be a string, an integer, a boolean or a list of strings, got \(v.typeName) \(Format.display(v))")
                }
            }
            do { return try QConfig(options: text) } catch { throw BindingError.named("options", "\(error)") }
        default: throw BindingError.named("options", "options must be a record like {activation_observer: \"minmse\"}")
        }
    }
}
