import OctetGraph
@testable import OctetQuant
import OctetTensor
import XCTest

/// Hand-worked quantization of x = [0.5, −0.25, 0.75, 1], w = [0.5, 0.25, −0.125, 1], b = 0.1
/// (one 2×2 conv, one output):
/// - input (diffs scope 1): step = max(−0.25/−128.5, 1/127.5) → fp_in = floor(log2 127.5) = 6; codes [32, −16, 48, 64].
/// - weight: fp0 = 6 and all weights are exact at 6 (SSE 0; fp 7 clips 1.0 to 127/128) → fp_w = 6; codes [32, 16, −8, 64].
/// - bias 0.1: fp0 = floor(log2 1275) = 10, SSE(10) = (0.1 − 102/1024)² is the smallest → fp_b = 10, code 102.
/// - output (quantized forward): y = 1.09375 + 102/1024 = 1.193359375 → fp0 = 6; fp 6 gives 76/64
///   (error 0.0059), fp 7 clips to 127/128 → fp_out = 6.
/// - shift_cut = 6 + 6 − 6 = 6, shift_bias = 12 − 10 = 2; acc = 1024 − 256 − 384 + 4096 = 4480;
///   v = 4480 + 102·2² = 4888; out = DPU_ROUND(4888 / 2^6 = 76.375) = 76 → 1.1875.
final class HandWorkedPTQTests: XCTestCase {
    func calibrated(_ g: Graph, config: QConfig = QConfig()) throws -> QuantizedModel {
        try Calibrator(model: try Model(graph: g), config: config).calibrate(["x": PTQTestGraphs.oneConvInput])
    }

    func testOneConvByHand() throws {
        let q = try calibrated(PTQTestGraphs.oneConv())
        let a = q.annotations
        XCTAssertEqual(a.fixPos("x"), 6)
        XCTAssertEqual(a.fixPos("w"), 6)
        XCTAssertEqual(a.fixPos("b"), 10)
        XCTAssertEqual(a.fixPos("c"), 6)
        XCTAssertTrue(a.adjustments.isEmpty)
        let r = try q.run(["x": PTQTestGraphs.oneConvInput], capture: true)
        XCTAssertEqual(r.captured["x"]!.codes.int8s, [32, -16, 48, 64])
        XCTAssertEqual(r.captured["c"]!.codes.int8s, [76])
        XCTAssertEqual(r.outputs["c"]!.floats, [1.1875])
        XCTAssertEqual(q.codes["w"]!.int8s, [32, 16, -8, 64])
        XCTAssertEqual(q.codes["b"]!.int8s, [102])
        XCTAssertTrue(q.isDPUDeployable)
    }

    /// Relu joins the conv group: one quantizer on the Relu output, none on the conv output.
    func testReluFusesIntoConvGroup() throws {
        let q = try calibrated(PTQTestGraphs.oneConv(activation: "Relu"))
        let conv = q.annotations.nodes[0], relu = q.annotations.nodes[1]
        XCTAssertEqual(conv.kind, .conv)
        XCTAssertEqual(conv.activation, .relu)
        XCTAssertEqual(conv.output, "y")
        XCTAssertEqual(relu.kind, .fused)
        XCTAssertNil(q.annotations.tensors["c"])
        XCTAssertEqual(q.annotations.fixPos("y"), 6)
        XCTAssertEqual(try q.run(PTQTestGraphs.oneConvInput).floats, [1.1875])
    }

    /// LeakyRelu with alpha 0.1 fuses, is computed with 26/256, and a warning names the node.
    func testLeakyReluWarning() throws {
        let q = try calibrated(PTQTestGraphs.oneConv(activation: "LeakyRelu"))
        XCTAssertEqual(q.annotations.nodes[0].activation, .leakyRelu)
        XCTAssertTrue(q.annotations.warnings.contains { $0.contains("act") && $0.contains("26/256") })
    }

    /// Six LeakyRelus of alpha 0.1 give one warning naming four of them and the count.
    func testLeakyReluWarningsAreGroupedByAlpha() throws {
        var t = TinyNet(seed: 37)
        var y = "x"
        for i in 1...6 {
            y = t.conv("c\(i)", y, out: 2, in: 2, k: 1)
            y = t.op("lr\(i)", "LeakyRelu", y, ["alpha": .float(0.1)])
        }
        let m = try Model(graph: t.graph(input: [1, 2, 3, 3], output: y))
        let q = try Calibrator(model: m).calibrate(["x": t.data([4, 2, 3, 3])])
        XCTAssertEqual(q.annotations.warnings.filter { $0.contains("26/256") },
                       ["LeakyRelu lr1, lr2, lr3, lr4, … (6 nodes): alpha 0.1 replaced by the DPU's 26/256 = 0.1015625"])
    }

    /// LeakyRelu with alpha 0.2 (not 26/256 on the 1/256 grid) is not fused: it keeps its slope,
    /// computed in float between quantizers (on the CPU when deployed), without a warning.
    /// conv(−x) = −0.99375 → 0.2 · −0.99375 = −0.19875, at y's fix_pos 6: −13/64.
    func testLeakyReluWithAnotherSlopeKeepsIt() throws {
        let q = try calibrated(PTQTestGraphs.oneConv(activation: "LeakyRelu", alpha: 0.2))
        XCTAssertEqual(q.annotations.nodes[0].activation, FusedActivation.none)
        XCTAssertEqual(q.annotations.nodes[1].kind, .float)
        XCTAssertFalse(q.annotations.warnings.contains { $0.contains("26/256") }, "\(q.annotations.warnings)")
        XCTAssertEqual(q.annotations.fixPos("y"), 6)
        let negated = Tensor(shape: [1, 1, 2, 2], floats: PTQTestGraphs.oneConvInput.floats.map { -$0 })
        XCTAssertEqual(try q.run(negated).floats, [-13.0 / 64])
    }

    /// A fix_pos that violates shift_cut is moved and the change recorded: weights 2^-9 scale make
    /// fp_w = 12 (clamp), input fp 6, output tiny → fp_out 12+; shift_cut = 12 + 6 − fp_out stays ≥ 0.
    func testConstraintPassRecordsAdjustments() throws {
        var g = PTQTestGraphs.oneConv()
        g.initializers["w"] = Tensor(shape: [1, 1, 2, 2], floats: [0.0001, -0.0002, 0.0001, 0.0003])
        g.initializers["b"] = Tensor(shape: [1], floats: [40])
        let q = try calibrated(g)
        let a = q.annotations
        let sc = a.fixPos("x")! + a.fixPos("w")! - a.fixPos("c")!
        let sb = a.fixPos("x")! + a.fixPos("w")! - a.fixPos("b")!
        XCTAssertTrue((0...16).contains(sc))
        XCTAssertLessThanOrEqual(sb, 16)
        XCTAssertFalse(a.adjustments.isEmpty)
        XCTAssertTrue(a.adjustments.allSatisfy { $0.rule == "shift_bias" || $0.rule == "shift_cut" })
        XCTAssertEqual(try q.run(PTQTestGraphs.oneConvInput).floats.count, 1)
    }
}
