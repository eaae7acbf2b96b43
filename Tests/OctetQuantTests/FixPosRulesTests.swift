import Foundation
import XCTest
@testable import OctetQuant

final class FixPosRulesTests: XCTestCase {
    func conv(_ i: Int, _ w: Int, _ b: Int?, _ o: Int) -> ConvFixPos {
        ConvFixPos(input: TensorFixPos("x", i), weight: TensorFixPos("w", w),
                   bias: b.map { TensorFixPos("b", $0) }, output: TensorFixPos("y", o))
    }

    func op(_ ins: [Int], _ out: Int) -> OpFixPos {
        OpFixPos(inputs: ins.enumerated().map { TensorFixPos("in\($0.offset)", $0.element) },
                 output: TensorFixPos("out", out))
    }

    func testShiftCut() {
        // fp_in 3, fp_w 5, fp_out 10: shift_cut = 5 + 3 − 10 = −2 < 0 → fp_out = 8 (shift_cut 0).
        let low = FixPosRules.shiftCut(conv(3, 5, nil, 10))
        XCTAssertEqual(low.positions, conv(3, 5, nil, 8))
        XCTAssertEqual(low.adjustments, [FixPosAdjustment(rule: "shift_cut", tensor: "y", old: 10, new: 8,
            reason: "shift_cut = fp_w + fp_in − fp_out = -2 outside [0, 16]")])
        // fp_in 6, fp_w 14, fp_out 2: 18 > 16 → fp_w = 16 + 2 − 6 = 12.
        let high = FixPosRules.shiftCut(conv(6, 14, nil, 2))
        XCTAssertEqual(high.positions, conv(6, 12, nil, 2))
        XCTAssertEqual(high.adjustments.map(\.tensor), ["w"])
        // 7 + 4 − 5 = 6 is fine; 0 and 16 are inclusive bounds.
        for c in [conv(4, 7, nil, 5), conv(4, 4, nil, 8), conv(8, 8, nil, 0)] {
            XCTAssertEqual(FixPosRules.shiftCut(c).adjustments, [])
        }
    }

    func testShiftBias() {
        // shift_cut 6 → lower bound min(0, −(24 − (8 + 6))) = −10.
        XCTAssertEqual(FixPosRules.shiftBiasMin(shiftCut: 6), -10)
        XCTAssertEqual(FixPosRules.shiftBiasMin(shiftCut: 16), 0)
        XCTAssertEqual(FixPosRules.shiftBiasMin(shiftCut: 0), -16)
        // fp_in 4, fp_w 7, fp_b 25: shift_bias = 11 − 25 = −14 < −10 → fp_b = 11 + 10 = 21.
        let low = FixPosRules.shiftBias(conv(4, 7, 25, 5))
        XCTAssertEqual(low.positions, conv(4, 7, 21, 5))
        XCTAssertEqual(low.adjustments.first?.reason, "shift_bias = fp_w + fp_in − fp_b = -14 outside [-10, 16]")
        // shift_cut 16 → bound 0: fp_in 6, fp_w 12, fp_out 2, fp_b 19: 18 − 19 = −1 < 0 → fp_b = 18.
        XCTAssertEqual(FixPosRules.shiftBias(conv(6, 12, 19, 2)).positions, conv(6, 12, 18, 2))
        // fp_in 5, fp_w 10, fp_b −3: 15 + 3 = 18 > 16 → fp_w = 16 − 3 − 5 = 8.
        XCTAssertEqual(FixPosRules.shiftBias(conv(5, 10, -3, 6)).positions, conv(5, 8, -3, 6))
        // In range, and no bias: unchanged.
        XCTAssertEqual(FixPosRules.shiftBias(conv(4, 7, 10, 5)).adjustments, [])
        XCTAssertEqual(FixPosRules.shiftBias(conv(4, 7, nil, 5)).adjustments, [])
    }

    func testConvCascade() {
        // fp_in 5, fp_w 10, fp_b −8, fp_out 10: shift_cut 5 ok; shift_bias 23 > 16 → fp_w = 16 − 8 − 5 = 3;
        // now shift_cut = 3 + 5 − 10 = −2 → fp_out = 8; then shift_cut 0, bound −16, shift_bias 16: done.
        let r = FixPosRules.conv(conv(5, 10, -8, 10))
        XCTAssertEqual(r.positions, conv(5, 3, -8, 8))
        XCTAssertEqual(r.adjustments.map { "\($0.rule) \($0.tensor) \($0.old)→\($0.new)" },
                       ["shift_bias w 10→3", "shift_cut y 10→8"])
        XCTAssertEqual(r.positions.shiftCut, 0)
        XCTAssertEqual(r.positions.shiftBias, 16)
    }

    func testEltwiseShiftReadAndWrite() {
        // Inputs 3, 20, 10: shift_read 17 > 15 → 20 lowered to 3 + 15 = 18; shift_write 3 − 2 = 1 ok.
        let read = FixPosRules.eltwise(op([3, 20, 10], 2))
        XCTAssertEqual(read.positions, op([3, 18, 10], 2))
        XCTAssertEqual(read.adjustments.map(\.rule), ["shift_read"])
        // Inputs 10, 12, out 30: shift_write = 10 − 30 = −20 < −15 → fp_out = 25.
        XCTAssertEqual(FixPosRules.eltwise(op([10, 12], 30)).positions.output.fixPos, 25)
        // Inputs 20, 22, out 2: shift_write 18 > 15 → fp_out = 5.
        XCTAssertEqual(FixPosRules.eltwise(op([20, 22], 2)).positions.output.fixPos, 5)
        XCTAssertEqual(FixPosRules.eltwise(op([4, 6], 5)).adjustments, [])
    }

    func testConcatAndPoolAlignToSmallest() {
        // Concat 5, 3, 6 → out 4: all become 3 (three changes: in0, in2, out).
        let c = FixPosRules.concat(op([5, 3, 6], 4))
        XCTAssertEqual(c.positions, op([3, 3, 3], 3))
        XCTAssertEqual(c.adjustments.map(\.tensor), ["in0", "in2", "out"])
        XCTAssertEqual(FixPosRules.pool(op([6], 4)).positions, op([4], 4))
        XCTAssertEqual(FixPosRules.pool(op([3], 5)).positions, op([3], 3))
        XCTAssertEqual(FixPosRules.pool(op([4], 4)).adjustments, [])
    }

    /// A tensor whose own op bounds its fix_pos (a hard-sigmoid output ≥ 7) keeps it in a Concat;
    /// the others still take the smallest.
    func testConcatKeepsBoundedMembers() {
        let c = FixPosRules.concat(op([7, 4], 6), bounds: ["in0": 7...99])
        XCTAssertEqual(c.positions, op([7, 4], 4))
        XCTAssertEqual(c.adjustments.map(\.tensor), ["out"])
        XCTAssertEqual(FixPosRules.concat(op([9, 4], 6), bounds: ["in0": 7...99]).positions, op([7, 4], 4))
    }

    /// Mul: product shift fp_a + fp_b − fp_out within −24…24 by lowering fix positions only.
    func testMulProductShift() {
        // 12 + 10 − (−3) = 25 > 24: the larger input 12 → 11 (shift 24).
        let high = FixPosRules.mul(op([12, 10], -3))
        XCTAssertEqual(high.positions, op([11, 10], -3))
        XCTAssertEqual(high.adjustments.first?.reason, "mul shift fp_a + fp_b − fp_out = 25 outside [-24, 24]")
        // x · x at 12 into −3: 27 → both inputs (one tensor) lowered to 10 (shift 23).
        let square = FixPosRules.mul(OpFixPos(inputs: [TensorFixPos("a", 12), TensorFixPos("a", 12)], output: TensorFixPos("s", -3)))
        XCTAssertEqual(square.positions.inputs.map(\.fixPos), [10, 10])
        XCTAssertEqual(square.adjustments.map(\.tensor), ["a"])
        // Large values: −20 + −20 − (−10) = −30 < −24 → fp_out = −40 + 24 = −16 (shift_write −4 fits).
        let low = FixPosRules.mul(op([-20, -20], -10))
        XCTAssertEqual(low.positions, op([-20, -20], -16))
        XCTAssertEqual(low.adjustments.map(\.tensor), ["out"])
        XCTAssertEqual(FixPosRules.mul(op([5, 6], 2)).adjustments, [])
        // x · x at −15 into a hard-sigmoid (input ≥ 0): −30 − 0 = −30 < −24 and fp_out may not go
        // below 0, so x rises to −12 (shift −24).
        let floor = FixPosRules.mul(OpFixPos(inputs: [TensorFixPos("x", -15), TensorFixPos("x", -15)], output: TensorFixPos("m", 0)), outputFloor: 0)
        XCTAssertEqual(floor.positions.inputs.map(\.fixPos), [-12, -12])
        XCTAssertEqual(floor.positions.output.fixPos, 0)
    }

    func testHardSigmoidAndHardSwish() {
        XCTAssertEqual(FixPosRules.hardSigmoid(op([-2], 5)).positions, op([0], 7))
        XCTAssertEqual(FixPosRules.hardSigmoid(op([3], 9)).adjustments, [])
        // Hard-swish: fp_in −1 → 0, then fp_out 8 > 0 + 7 → 7.
        XCTAssertEqual(FixPosRules.hardSwish(op([-1], 8)).positions, op([0], 7))
        XCTAssertEqual(FixPosRules.hardSwish(op([4], 11)).adjustments, [])
        XCTAssertEqual(FixPosRules.hardSwish(op([4], 12)).positions, op([4], 11))
    }

    func testAdjustmentCodableAndDescription() throws {
        let a = FixPosAdjustment(rule: "pool", tensor: "p1", old: 6, new: 4, reason: "r")
        XCTAssertEqual(try JSONDecoder().decode(FixPosAdjustment.self, from: JSONEncoder().encode(a)), a)
        XCTAssertEqual(a.description, "pool: p1 fix_pos 6 → 4 (r)")
    }
}
