import XCTest
@testable import OctetGraph
import OctetTensor

/// QuantizeLinear / DequantizeLinear kernels against hand-worked values of the ONNX spec.
final class QDQOpsTests: XCTestCase {
    func run(_ op: String, _ inputs: [Tensor?], axis: Int? = nil) throws -> Tensor {
        let n = Node(name: op, opType: op, inputs: inputs.indices.map { "i\($0)" }, outputs: ["y"],
                     attributes: axis.map { ["axis": .int($0)] } ?? [:])
        return try OpRegistry.kernels[op]!(n, inputs, 13)[0]
    }

    func testQuantizeRoundsHalfToEvenAndSaturatesInt8() throws {
        let x = Tensor(shape: [9], floats: [0.25, 0.75, 1.25, -0.25, -0.75, 2.5, 0.125, 100, -100])
        // x / 0.5 = [0.5, 1.5, 2.5, -0.5, -1.5, 5, 0.25, 200, -200]
        let y = try run("QuantizeLinear", [x, Tensor(scalar: 0.5), Tensor(shape: [], int8s: [0])])
        XCTAssertEqual(y.dtype, .int8)
        XCTAssertEqual(y.int8s, [0, 2, 2, 0, -2, 5, 0, 127, -128])
    }

    func testQuantizeDefaultsToUInt8WithZeroPoint() throws {
        let x = Tensor(shape: [4], floats: [-1, 0, 1.5, 1000])
        let noZP = try run("QuantizeLinear", [x, Tensor(scalar: 1)])
        XCTAssertEqual(noZP.uint8s, [0, 0, 2, 255])
        let withZP = try run("QuantizeLinear", [x, Tensor(scalar: 1), Tensor(shape: [], uint8s: [128])])
        XCTAssertEqual(withZP.uint8s, [127, 128, 130, 255])   // 1.5 → 2 (even), + 128
    }

    func testPerAxisQuantizeAndDequantize() throws {
        // x [2, 2, 1]; axis 1 scales [1, 0.25], zero points [0, 4].
        let x = Tensor(shape: [2, 2, 1], floats: [1.5, 1.5, -2.5, -0.125])
        let s = Tensor(shape: [2], floats: [1, 0.25]), z = Tensor(shape: [2], int8s: [0, 4])
        let q = try run("QuantizeLinear", [x, s, z], axis: 1)
        // [round(1.5)=2, round(6)+4=10, round(-2.5)=-2, round(-0.5)+4=4]
        XCTAssertEqual(q.int8s, [2, 10, -2, 4])
        let d = try run("DequantizeLinear", [q, s, z], axis: 1)
        XCTAssertEqual(d.floats, [2, 1.5, -2, 0])
        let negAxis = try run("QuantizeLinear", [x, s, z], axis: -2)
        XCTAssertEqual(negAxis.int8s, q.int8s)
    }

    func testDequantizeInt32WithoutZeroPoint() throws {
        let x = Tensor(shape: [3], int32s: [-70000, 3, 1 << 20])
        let y = try run("DequantizeLinear", [x, Tensor(scalar: 0.0078125)])
        XCTAssertEqual(y.floats, [-546.875, 0.0234375, 8192])
    }

    func testBadScaleAndAxisThrowNamingTheNode() throws {
        let x = Tensor(shape: [2, 3], floats: [0, 0, 0, 0, 0, 0])
        XCTAssertThrowsError(try run("QuantizeLinear", [x, Tensor(scalar: 0)])) { e in
            XCTAssertTrue("\(e)".contains("QuantizeLinear"), "\(e)")
        }
        XCTAssertThrowsError(try run("QuantizeLinear", [x, Tensor(shape: [2], floats: [1, 1])], axis: 1)) { e in
            XCTAssertTrue("\(e)".contains("axis 1 has 3"), "\(e)")
        }
        XCTAssertThrowsError(try run("DequantizeLinear", [x, Tensor(scalar: 1)]))
    }
}
