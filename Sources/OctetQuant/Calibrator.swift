import Dispatch
import Foundation
import OctetGraph
import OctetTensor

/// Post-training power-of-two calibration, as vai_q_pytorch's calib mode does it
/// (reference-quantizer §1.2, §2.1, §4).
///
/// 1. Preparation (`QuantPreparation`) and grouping (`QuantPlan`).
/// 2. Weights and biases: one observation each (diffs, 8-bit, `std_round`; bias its own fix_pos).
/// 3. Activations: calibration batches (chunks of the model's batch size) stream through the
///    prepared model. **Quantized forward**: each quantizer is observed on its batch (per-batch
///    diffs fix_pos, network inputs with scope 1) and the tensor is then fake-quantized with the
///    mode so far, so later layers see quantized inputs, as vai_q_pytorch's calib mode does
///    (`QConfig.quantizedCalibration = false` observes the float model instead). Weights are
///    fake-quantized throughout. Final activation fix_pos = mode over batches, ties smaller.
///    Observers keep fixed-size state, so memory does not grow with the number of batches.
/// 4. The DPU constraint pass (`ConstraintPass`) moves fix positions and records each change.
public final class Calibrator {
    public let model: Model
    public let config: QConfig
    public let prepared: PreparedGraph
    public let plan: QuantPlan

    /// - Throws: preparation errors naming the node; `OctetQuantError.nothingToQuantize`;
    ///   `.invalidParameter` for an excluded node or op type the model does not have.
    public init(model: Model, config: QConfig = QConfig()) throws {
        try config.validate()
        try config.checkExclusions(in: model.graph)
        self.model = model
        self.config = config
        prepared = try QuantPreparation.prepare(model.graph)
        do {
            plan = try QuantPlan(prepared: prepared, config: config)
        } catch OctetQuantError.nothingToQuantize(let graph) {
            throw OctetQuantError.nothingToQuantize(model: model.path ?? graph)
        }
    }

    /// Calibrates on `feeds` (input name → [N, …], any N ≥ 1) and returns the quantized model.
    /// - Parameters: `progress(done, total)` after each batch; `shouldCancel` polled before each batch.
    /// - Throws: `OctetQuantError.emptyCalibrationSet`, `.calibrationShape`, `.nonFiniteCalibrationData`
    ///   (naming the input and first bad sample), `.cancelled`, and execution errors naming the node.
    public func calibrate(_ feeds: [String: Tensor], progress: ((Int, Int) -> Void)? = nil,
                          shouldCancel: (() -> Bool)? = nil) throws -> QuantizedModel {
        let n = try CalibrationData.validate(feeds, model: model)
        let params = try parameterParams()
        let forward = try SimulatedForward(graph: prepared.graph, plan: plan)
        for (name, p) in params {
            forward.constants[name] = try ParameterQuantizer.fakeQuantized(prepared.graph.initializers[name]!, p, config: config)
        }
        let batches = CalibrationBatches(feeds: feeds, count: n, batchSize: model.batchSize)
        var all = params
        var ranges: [String: (min: Float, max: Float)] = [:]
        let weights = try preluErrorWeights()
        if usesFastDiffs {
            let trackers = try plan.activations.map {
                try DiffsTracker(name: $0, bits: config.activationBits, networkInput: plan.networkInputs.contains($0),
                                 negativeWeights: weights[$0])
            }
            try runParallel(forward, batches, Dictionary(uniqueKeysWithValues: zip(plan.activations, trackers)),
                            progress: progress, shouldCancel: shouldCancel)
            for t in trackers {
                all[t.name] = try OctetQuantError.naming(t.name) { try t.quantParams() }
                ranges[t.name] = (t.observedMin, t.observedMax)
            }
        } else {
            let observers = try makeObservers(negativeWeights: weights)
            try runSequential(forward, batches, observers, progress: progress, shouldCancel: shouldCancel)
            for (name, o) in observers { all[name] = try OctetQuantError.naming(name) { try o.quantParams() } }
            ranges = QuantizedModel.ranges(of: observers)
        }
        return try QuantizedModel(calibrator: self, params: all, ranges: ranges)
    }

    /// Default DPU activations (diffs, half-up, power of two) take the vectorised two-batch path.
    var usesFastDiffs: Bool {
        config.activationObserver == .diffs && config.activationRounding == .halfUp && config.activationsPowerOfTwo
    }

    /// Weights, biases and constant operands: one observation each.
    func parameterParams() throws -> [String: QuantParams] {
        var axisOf: [String: Int] = [:]
        if config.perChannel {
            for n in prepared.graph.nodes where ["Conv", "ConvTranspose", "Gemm"].contains(n.opType) && n.inputs.count > 1 {
                axisOf[n.inputs[1]] = ParameterQuantizer.channelAxis(n)
            }
        }
        var out: [String: QuantParams] = [:]
        for (name, isBias) in plan.parameters {
            guard let t = prepared.graph.constantFloat(name) else { continue }
            out[name] = try OctetQuantError.naming(name) { try ParameterQuantizer.params(name, t, bias: isBias, axis: axisOf[name], config: config) }
        }
        return out
    }

    /// With `QConfig.scoreThroughPRelu`: slope² per channel for each activation quantizer whose
    /// readers are all PRelu nodes with the same constant slope (`NegativeErrorWeights.prelu`);
    /// graph outputs and other slope layouts are scored plainly.
    func preluErrorWeights() throws -> [String: NegativeErrorWeights] {
        guard config.scoreThroughPRelu else { return [:] }
        let g = prepared.graph, shapes = prepared.info.shapes
        var out: [String: NegativeErrorWeights] = [:]
        for t in plan.activations where !g.outputs.contains(where: { $0.name == t }) {
            let readers = g.consumers(of: t).map { g.nodes[$0] }
            guard let slopeName = readers.first?.inputs.dropFirst().first,
                  readers.allSatisfy({ $0.opType == "PRelu" && $0.inputs == [t, slopeName] }),
                  let slope = g.constantFloat(slopeName), let shape = shapes[t],
                  let w = NegativeErrorWeights.prelu(slope: slope, inputRank: shape.count),
                  w.perChannel.count == 1 || w.perChannel.count == shape[1] else { continue }
            out[t] = w
        }
        return out
    }

    /// One observer per activation quantizer (network inputs: diffs scope 1).
    func makeObservers(negativeWeights: [String: NegativeErrorWeights] = [:]) throws -> [String: Observer] {
        var out: [String: Observer] = [:]
        for t in plan.activations {
            let bits = config.activationBits
            if config.asymmetricActivations {
                out[t] = try MaxMinObserver(name: t, scheme: .asymmetric, bits: bits, signed: false)
            } else if config.scaleType == .float && config.activationObserver.isPowerOfTwo {
                out[t] = try MaxMinObserver(name: t, scheme: .symmetric, bits: bits)
            } else {
                out[t] = try config.activationObserver.makeObserver(name: t, bits: bits, rounding: config.activationRounding,
                                                                     networkInput: plan.networkInputs.contains(t),
                                                                     negativeWeights: negativeWeights[t])
            }
        }
        return out
    }
}

/// Checks of calibration feeds.
public enum CalibrationData {
    /// Returns the common sample count N.
    /// - Throws: `OctetQuantError.emptyCalibrationSet`, `.calibrationDType`, `.calibrationShape`, `.nonFiniteCalibrationData`.
    public static func validate(_ feeds: [String: Tensor], model: Model) throws -> Int {
        var n: Int?
        for input in model.inputs {
            guard let t = feeds[input.name] else {
                throw OctetQuantError.calibrationShape(input: input.name, expected: input.shape ?? [], got: [])
            }
            let expected = input.shape ?? []
            guard t.dtype == .float32 else { throw OctetQuantError.calibrationDType(input: input.name, got: t.dtype) }
            guard t.rank == expected.count, t.rank > 0,
                  Array(t.shape.dropFirst()) == Array(expected.dropFirst()) else {
                throw OctetQuantError.calibrationShape(input: input.name, expected: expected, got: t.shape)
            }
            if t.shape[0] == 0 { throw OctetQuantError.emptyCalibrationSet }
            if let m = n, m != t.shape[0] {
                throw OctetQuantError.calibrationShape(input: input.name, expected: [m] + expected.dropFirst(), got: t.shape)
            }
            n = t.shape[0]
            if let bad = t.firstNonFinite() {
                throw OctetQuantError.nonFiniteCalibrationData(input: input.name, sample: bad.sample)
            }
        }
        guard let count = n else { throw OctetQuantError.emptyCalibrationSet }
        return count
    }
}
