import Foundation
import OctetGraph
@testable import OctetQuant
import OctetTensor
import XCTest
import OctetTestSupport

final class PTQPersistenceErrorTests: XCTestCase {
    func model(_ g: Graph = PTQTestGraphs.oneConv(activation: "Relu")) throws -> Model { try Model(graph: g) }

    /// The one-conv model calibrated and its parameters saved to scratch file `name` (removed by
    /// the test's teardown); `method` is recorded in the file.
    func saved(_ name: String, method: String? = nil) throws -> (q: QuantizedModel, path: String) {
        let q = try Calibrator(model: model()).calibrate(["x": PTQTestGraphs.oneConvInput])
        let path = Scratch.path(name)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        try QuantPersistence.save(q, method: method, to: path)
        return (q, path)
    }

    func testSaveLoadRoundTrip() throws {
        let (q, path) = try saved("ptq.json")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(text.contains("\"fixPos\" : 6"))
        let loaded = try QuantPersistence.load(path, model: model())
        XCTAssertEqual(loaded.annotations, q.annotations)
        XCTAssertEqual(try loaded.run(PTQTestGraphs.oneConvInput), try q.run(PTQTestGraphs.oneConvInput))
    }

    func testLoadAgainstAnotherModelNamesTheTensor() throws {
        let path = try saved("ptq.json").path
        var other = PTQTestGraphs.oneConv(activation: "Relu")
        other.initializers["b"] = nil
        other.nodes[0].inputs = ["x", "w"]
        XCTAssertThrowsError(try QuantPersistence.load(path, model: model(other))) { e in
            XCTAssertEqual(e as? OctetQuantError, .parameterMismatch(tensor: "b", reason: "not in this model"))
        }
    }

    /// Parameters carry a digest of each float weight: loading them onto other weights (the
    /// model before equalization or AdaRound) names the first weight that differs, and the
    /// method label comes back with them.
    func testLoadOntoOtherWeightsIsRefused() throws {
        let (q, path) = try saved("ptq_digest.json", method: "diffs+adaround")
        XCTAssertEqual(try QuantPersistence.loadLabelled(path, model: model()).method, "diffs+adaround")
        var moved = PTQTestGraphs.oneConv(activation: "Relu")
        moved.initializers["w"] = Tensor(shape: [1, 1, 2, 2], floats: [0.5, 0.25, -0.125, 0.9999999])   // one ulp-scale change
        XCTAssertThrowsError(try QuantPersistence.load(path, model: model(moved))) { e in
            XCTAssertEqual(e as? OctetQuantError, .parameterMismatch(tensor: "w", reason: "its float values are not the ones these parameters were saved with (saved after diffs+adaround); load them onto the model they came from (for a recovered q, q.model.save(path) writes that model)"))
        }
        // The digest is FNV-1a 64 over the little-endian float bytes: 0.1 is 0x3dcccccd.
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte: UInt8 in [0xcd, 0xcc, 0xcc, 0x3d] { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        XCTAssertEqual(QuantPersistence.weightDigests(q.graph, q.plan)["b"], String(format: "%016llx", h))
    }

    /// A node annotation edited in the file (here the conv's weight name) is refused at load: the
    /// program built from it would disagree with the integer evaluation.
    func testEditedNodeAnnotationIsRefused() throws {
        let path = try saved("ptq_edited.json").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(text.contains("\"weight\" : \"w\""))
        try text.replacingOccurrences(of: "\"weight\" : \"w\"", with: "\"weight\" : \"b\"").write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try QuantPersistence.load(path, model: model())) {
            XCTAssertEqual("\($0)", "saved quantization parameters do not match this model: tensor 'y': node conv: weight is b in the saved parameters, w in this model")
        }
    }

    /// x / (relu(x) + 1e-9): the epsilon quantizes to 0, so a zero relu(x) divides 0 by 0 on the
    /// quantized values while the float model stays finite. The error names the Div, not an observer.
    func testNaNFromQuantizedOperandsNamesTheNode() throws {
        var t = TinyNet(seed: 31)
        t.inits["eps"] = Tensor(scalar: 1e-9)
        let r = t.op("r", "Relu", "x")
        let a = t.op("a", "Add", r, extra: ["eps"])
        let d = t.op("d", "Div", "x", extra: [a])
        let m = try Model(graph: t.graph(input: [2, 3], output: d), batchSize: 2)
        let x = Tensor(shape: [4, 3], floats: [1, -2, 0.5, 3, 2, 1, -1, 0.25, 4, 2, 2, 2])
        XCTAssertTrue(try m.run(["x": x])[d]!.floats.allSatisfy(\.isFinite))
        for observer in ["diffs", "minmse"] {
            let c = try QConfig(options: ["activation_observer": observer])
            XCTAssertThrowsError(try Calibrator(model: m, config: c).calibrate(["x": x])) {
                guard case .nonFiniteActivation(let node, let op, let tensor, _, let sample)? = $0 as? OctetQuantError else {
                    return XCTFail("\(observer): \($0)")
                }
                XCTAssertEqual([node, op, tensor], ["d", "Div", d], observer)
                XCTAssertEqual(sample, 0, observer)
                XCTAssertTrue("\($0)".contains("a divisor or an epsilon that rounds to 0"), "\($0)")
            }
        }
    }

    func testCalibrationErrors() throws {
        let c = try Calibrator(model: model())
        XCTAssertThrowsError(try c.calibrate(["x": Tensor(zeros: [0, 1, 2, 2])])) { XCTAssertEqual($0 as? OctetQuantError, .emptyCalibrationSet) }
        var bad = [Float](repeating: 0.5, count: 12)
        bad[9] = .nan
        XCTAssertThrowsError(try c.calibrate(["x": Tensor(shape: [3, 1, 2, 2], floats: bad)])) {
            XCTAssertEqual($0 as? OctetQuantError, .nonFiniteCalibrationData(input: "x", sample: 2))
        }
        XCTAssertThrowsError(try c.calibrate(["x": Tensor(zeros: [2, 1, 3, 3])])) {
            XCTAssertEqual($0 as? OctetQuantError, .calibrationShape(input: "x", expected: [1, 1, 2, 2], got: [2, 1, 3, 3]))
        }
        // raw uint8 images: the dtype is the problem, not the shape
        XCTAssertThrowsError(try c.calibrate(["x": Tensor(shape: [2, 1, 2, 2], uint8s: [UInt8](repeating: 7, count: 8))])) {
            XCTAssertEqual($0 as? OctetQuantError, .calibrationDType(input: "x", got: .uint8))
            XCTAssertTrue("\($0)".contains("expected float32 data, got uint8"), "\($0)")
        }
        // Inputs of 1e30 need fix_pos −93; with the weights' 6 the accumulator sits at −87, beyond
        // the integer pipeline's shifts: refused at calibration, naming the node.
        XCTAssertThrowsError(try c.calibrate(["x": Tensor(shape: [1, 1, 2, 2], floats: [1e30, 1e30, 1e30, 1e30])])) {
            XCTAssertEqual("\($0)", "node conv: input fix_pos -93 (its calibration data span [1e+30, 1e+30]) + weight fix_pos 6 "
                           + "= -87 is outside the -32...32 the integer pipeline can shift; check the calibration data's scale")
        }
        // Weights of 1e15 (fix_pos about −43) on ordinary inputs point at the weight instead.
        var huge = PTQTestGraphs.oneConv(activation: "Relu")
        huge.initializers["w"] = Tensor(shape: [1, 1, 2, 2], floats: [1e15, 2.5e14, -1.25e14, 1e15])
        XCTAssertThrowsError(try Calibrator(model: model(huge)).calibrate(["x": PTQTestGraphs.oneConvInput])) {
            XCTAssertTrue("\($0)".hasSuffix("the integer pipeline can shift; check the scale of weight 'w'"), "\($0)")
        }
        let relu = Graph(name: "just_relu", nodes: [Node(name: "r", opType: "Relu", inputs: ["x"], outputs: ["y"])],
                         inputs: [PTQTestGraphs.info("x", [1, 4])], outputs: [PTQTestGraphs.info("y", [1, 4])])
        XCTAssertThrowsError(try Calibrator(model: model(relu))) { XCTAssertEqual($0 as? OctetQuantError, .nothingToQuantize(model: "just_relu")) }
        XCTAssertThrowsError(try Calibrator(model: Model(graph: relu, path: "models/just_relu.onnx"))) {   // the file, when there is one
            XCTAssertEqual("\($0)", "model 'models/just_relu.onnx' has nothing to quantize (no Conv, ConvTranspose, Gemm, Add or Mul on float data)")
        }
        XCTAssertThrowsError(try QConfig(options: ["bitz": "8"])) { e in
            guard case .unknownOption(let n, let accepted)? = e as? OctetQuantError else { return XCTFail("\(e)") }
            XCTAssertEqual(n, "bitz")
            XCTAssertTrue(accepted.contains("weight_bits"))
        }
        // `bits` sets the three widths; a specific width overrides it, whatever the names' order.
        let mixed = try QConfig(options: ["activation_bits": "4", "bits": "6"])
        XCTAssertEqual([mixed.weightBits, mixed.biasBits, mixed.activationBits], [6, 6, 4])
        let alone = try QConfig(options: ["bits": "6", "weight_bits": "8"])
        XCTAssertEqual([alone.weightBits, alone.biasBits, alone.activationBits], [8, 6, 6])
    }

    func testCancellationAndProgress() throws {
        let c = try Calibrator(model: model())
        let x = Tensor(shape: [4, 1, 2, 2], floats: PTQTestGraphs.values(16, seed: 5))
        var seen: [Int] = []
        _ = try c.calibrate(["x": x], progress: { done, total in seen.append(done); XCTAssertEqual(total, 4) })
        XCTAssertEqual(seen, [2, 4])
        XCTAssertThrowsError(try c.calibrate(["x": x], shouldCancel: { true })) { XCTAssertEqual($0 as? OctetQuantError, .cancelled) }
    }

    /// Non-DPU options run the dequantized path and say they are not deployable.
    func testPerChannelIsNotDeployable() throws {
        let q = try Calibrator(model: model(), config: try QConfig(options: ["per_channel": "true", "weight_bits": "6"]))
            .calibrate(["x": PTQTestGraphs.oneConvInput])
        XCTAssertFalse(q.isDPUDeployable)
        XCTAssertEqual(q.evaluation, .dequantized)
        XCTAssertEqual(try q.run(PTQTestGraphs.oneConvInput).floats[0], 1.19375, accuracy: 0.02)
    }

    /// A file that is JSON but not saved parameters, or not JSON, gets a one-line reason; excluded
    /// names the model does not have are refused by the calibrator.
    func testNonParameterFilesAndUnknownExclusions() throws {
        let path = Scratch.path("ptq.json")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(#"{"format": 1}"#.utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try QuantPersistence.load(path, model: model())) { e in
            XCTAssertEqual(e as? OctetQuantError, .unreadableParameters(path: path, reason: "not a parameter file: wrong type at 'format'"))
        }
        try Data("plain text".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try QuantPersistence.load(path, model: model())) { e in
            XCTAssertEqual(e as? OctetQuantError, .unreadableParameters(path: path, reason: "not a parameter file: not valid JSON"))
        }
        var c = QConfig()
        c.excludedNodes = ["nope"]
        XCTAssertThrowsError(try Calibrator(model: model(), config: c)) { e in
            XCTAssertEqual(e as? OctetQuantError, .invalidParameter("exclude_nodes: no node named 'nope' in the model"))
        }
        c.excludedNodes = []; c.excludedOpTypes = ["LSTM"]
        XCTAssertThrowsError(try Calibrator(model: model(), config: c)) { e in
            XCTAssertEqual(e as? OctetQuantError, .invalidParameter("exclude_ops: no LSTM node in the model"))
        }
    }
}
