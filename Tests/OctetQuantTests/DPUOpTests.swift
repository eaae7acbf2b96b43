import OctetGraph
@testable import OctetQuant
import OctetTensor
import XCTest

/// Integer DPU op approximations, values worked by hand (reference-quantizer §4.2, §4.3).
final class DPUOpTests: XCTestCase {
    func codes(_ v: [Int8]) -> Tensor { Tensor(shape: [v.count], int8s: v) }

    /// LeakyRelu 26/256: −100 at fp 4 → −100·26/256 = −10.156 → −10; at fp_out 6: −40.625 → −41 (half up);
    /// 50 → 50 (fp 4) and 200 → 127 (fp 6, saturated).
    func testLeakyRelu() {
        XCTAssertEqual(IntegerForms.activation(codes([-100, 50]), .leakyRelu, fpIn: 4, fpOut: 4).int8s, [-10, 50])
        XCTAssertEqual(IntegerForms.activation(codes([-100, 50]), .leakyRelu, fpIn: 4, fpOut: 6).int8s, [-41, 127])
    }

    /// Hard-sigmoid relu6(x + 3)·2731/2^14, fp_in 4 → fp_out 7:
    /// 0 → 48·2731/2^11 = 64.008 → 64; 2.0 (32) → 80·2731/2^11 = 106.68 → 107; −6.25 → 0; 7.94 → 128.02 → 127.
    func testHardSigmoid() {
        XCTAssertEqual(IntegerForms.hardSigmoid(codes([0, 32, -100, 127]), fpIn: 4, fpOut: 7).int8s, [64, 107, 0, 127])
        XCTAssertEqual(DPUMath.hardSigmoid(0) * 128, 64.0078125)
    }

    /// Hard-swish x·Q₇(hsig(x)): x = 2.0 (32 at fp 4), h = 107 → 32·107/2^7 = 26.75 → 27 at fp 4.
    func testHardSwish() {
        XCTAssertEqual(IntegerForms.hardSwish(codes([32, 0, -64]), fpIn: 4, fpOut: 4).int8s, [27, 0, 0])
    }

    /// Relu6 clamps at DPU_ROUND(6·2^fp): fp 4 → 96; requantizing 127 at fp 5 → fp 4 gives 64 (63.5 up).
    func testRelu6AndRequantize() {
        XCTAssertEqual(IntegerForms.activation(codes([127, -5, 100]), .relu6, fpIn: 4, fpOut: 4).int8s, [96, 0, 96])
        XCTAssertEqual(IntegerForms.requantize(codes([127, -3]), from: 5, to: 4).int8s, [64, -1])
    }

    /// A 3×3 AveragePool is planned with the DPU factor 7/64 (float scale 9·7/64 = 0.984375) and the
    /// integer output is DPU_ROUND(Σ codes · 7 / 2^(6 + fp_in − fp_out)).
    func testAveragePool3x3() throws {
        let g = Graph(name: "g", nodes: [
            Node(name: "conv", opType: "Conv", inputs: ["x", "w"], outputs: ["c"]),
            Node(name: "pool", opType: "AveragePool", inputs: ["c"], outputs: ["y"], attributes: ["kernel_shape": .ints([3, 3])]),
        ], initializers: ["w": Tensor(shape: [1, 1, 1, 1], floats: [1])],
            inputs: [PTQTestGraphs.info("x", [1, 1, 3, 3])], outputs: [PTQTestGraphs.info("y", [1, 1, 1, 1])])
        let x = Tensor(shape: [1, 1, 3, 3], floats: [0.5, 0.25, 0.75, 1, 0.125, 0.5, 0.25, 0.875, 0.625])
        let q = try Calibrator(model: try Model(graph: g)).calibrate(["x": x])
        let pool = q.annotations.nodes[1]
        XCTAssertEqual(pool.kind, .averagePool)
        XCTAssertEqual(pool.avgPoolFactor, [7, 6])
        XCTAssertEqual(try SimulatedForward.averageScale(g.nodes[1], pool, inputShape: [1, 1, 3, 3]), 0.984375)
        let r = try q.run(["x": x], capture: true)
        let sum = r.captured["c"]!.codes.int8s.reduce(0) { $0 + Int64($1) }
        let e = 6 + q.annotations.fixPos("c")! - q.annotations.fixPos("y")!
        XCTAssertEqual(Int64(r.captured["y"]!.codes.int8s[0]), DPUMath.dpuRound(sum * 7, shift: e))
    }

    /// The DPU divides every window by 9: an AveragePool with count_include_pad = 0 whose windows
    /// cross the border (pads, or ceil_mode with stride 2 on 4×4) is warned about, naming the node;
    /// count_include_pad = 1 or windows inside the input are not.
    func testPaddedAveragePoolWithoutCountIncludePadWarns() throws {
        func warnings(_ attrs: [String: Attribute]) throws -> [String] {
            var a = attrs
            a["kernel_shape"] = .ints([3, 3])
            let g = Graph(name: "g", nodes: [
                Node(name: "conv", opType: "Conv", inputs: ["x", "w"], outputs: ["c"]),
                Node(name: "pool", opType: "AveragePool", inputs: ["c"], outputs: ["y"], attributes: a),
            ], initializers: ["w": Tensor(shape: [1, 1, 1, 1], floats: [1])],
                inputs: [PTQTestGraphs.info("x", [1, 1, 4, 4])], outputs: [PTQTestGraphs.info("y", [1, 1, 2, 2])])
            let x = Tensor(shape: [1, 1, 4, 4], floats: (0..<16).map { Float($0) / 16 })
            return try Calibrator(model: try Model(graph: g)).calibrate(["x": x]).annotations.warnings
        }
        let padded = try warnings(["pads": .ints([1, 1, 1, 1]), "strides": .ints([2, 2])])
        XCTAssertTrue(padded.contains { $0.contains("pool") && $0.contains("count_include_pad = 0") }, "\(padded)")
        let ceil = try warnings(["strides": .ints([2, 2]), "ceil_mode": .int(1)])
        XCTAssertTrue(ceil.contains { $0.contains("count_include_pad = 0") }, "\(ceil)")
        XCTAssertTrue(try warnings(["pads": .ints([1, 1, 1, 1]), "strides": .ints([2, 2]), "count_include_pad": .int(1)]).isEmpty)
        XCTAssertTrue(try warnings([:]).isEmpty)
    }

    /// The calibration tracker's per-batch search (serial) agrees with `QuantMath.diffsFixPos` (half-up),
    /// including exact ties.
    func testDiffsTrackerMatchesDiffsFixPos() throws {
        for seed in 0..<20 {
            var v = PTQTestGraphs.values(1000 + seed, seed: UInt64(seed), lo: -Float(seed + 1), hi: Float(seed) * 0.7 + 0.3)
            v[3] = 0.5 / 16; v[7] = -1.5 / 32   // exact ties at fix_pos 4 and 5
            let t = Tensor(shape: [v.count], floats: v)
            let ref = try t.withFloats { try QuantMath.diffsFixPos($0, scope: 5, rounding: .halfUp, maxFixPos: 12) }
            let got = try DiffsTracker(name: "t", bits: 8, networkInput: false).search(t).fixPos
            XCTAssertEqual(got, ref.fixPos, "seed \(seed)")
        }
    }

    /// Tensors larger than 256 codes go through a code table: same results as one code at a time.
    func testIntegerFormsOnLargeTensorsMatchPerCode() throws {
        let n = 1000
        let x = Tensor(shape: [n], int8s: (0..<n).map { Int8(truncatingIfNeeded: $0 * 53 + 7) })
        func perCode(_ f: (Tensor) -> Tensor) -> [Int8] { x.int8s.map { f(Tensor(shape: [1], int8s: [$0])).int8s[0] } }
        for (fi, fo) in [(4, 4), (4, 6), (6, 3)] {
            XCTAssertEqual(IntegerForms.hardSwish(x, fpIn: fi, fpOut: fo).int8s, perCode { IntegerForms.hardSwish($0, fpIn: fi, fpOut: fo) })
            XCTAssertEqual(IntegerForms.hardSigmoid(x, fpIn: fi, fpOut: fo).int8s, perCode { IntegerForms.hardSigmoid($0, fpIn: fi, fpOut: fo) })
            for act in [FusedActivation.none, .relu, .relu6, .leakyRelu] {
                XCTAssertEqual(IntegerForms.activation(x, act, fpIn: fi, fpOut: fo).int8s,
                               perCode { IntegerForms.activation($0, act, fpIn: fi, fpOut: fo) }, "\(act)")
            }
        }
    }

    /// Quantization errors name what they are about: an average over an empty window names the
    /// node, a fix_pos outside the DPU's range names the tensor.
    func testQuantizationErrorsNameTheNodeOrTensor() throws {
        func error(_ g: Graph, _ x: Tensor) -> String {
            do { _ = try Calibrator(model: try Model(graph: g)).calibrate(["x": x]); return "no error" } catch { return "\(error)" }
        }
        let x = Tensor(shape: [1, 1, 4, 8], floats: (0..<32).map { Float($0) / 8 - 2 })
        let empty = Graph(name: "g", nodes: [
            Node(name: "slice", opType: "Slice", inputs: ["x", "s", "e", "a"], outputs: ["z"]),
            Node(name: "gap", opType: "GlobalAveragePool", inputs: ["z"], outputs: ["y"]),
        ], initializers: ["s": Tensor(shape: [1], int64s: [0]), "e": Tensor(shape: [1], int64s: [0]), "a": Tensor(shape: [1], int64s: [2])],
            inputs: [PTQTestGraphs.info("x", [1, 1, 4, 8])], outputs: [PTQTestGraphs.info("y", [1, 1, 1, 1])])
        XCTAssertEqual(error(empty, x), "node gap (GlobalAveragePool): unsupported: average pool kernel 0x8 (input shape [1, 1, 0, 8])")
        let huge = Graph(name: "g", nodes: [
            Node(name: "mul", opType: "Mul", inputs: ["x", "k"], outputs: ["m"]),
            Node(name: "toInt", opType: "Cast", inputs: ["m"], outputs: ["c"], attributes: ["to": .int(6)]),
            Node(name: "toFloat", opType: "Cast", inputs: ["c"], outputs: ["y"], attributes: ["to": .int(1)]),
        ], initializers: ["k": Tensor(scalar: 1e30)],
            inputs: [PTQTestGraphs.info("x", [1, 1, 4, 8])], outputs: [PTQTestGraphs.info("y", [1, 1, 4, 8])])
        let e = error(huge, x)
        XCTAssertTrue(e.hasPrefix("invalid parameter: tensor '") && e.contains("outside -126...126"), e)
    }
}
