import XCTest
import OctetTensor
@testable import OctetGraph

/// Hand-worked element-wise results (ONNX Broadcasting.md examples).
final class ElementwiseOpTests: XCTestCase {
    func testAddBroadcastsRowVectorOver2x3() throws {
        // [[1,2,3],[4,5,6]] + [10,20,30] = [[11,22,33],[14,25,36]]
        let y = try run1("Add", [floats([2, 3], [1, 2, 3, 4, 5, 6]), floats([3], [10, 20, 30])])
        assertClose(y, [2, 3], [11, 22, 33, 14, 25, 36])
    }

    func testSubColumnMinusRowGivesOuterDifference() throws {
        // [[1],[2]] - [10,20,30] = [[-9,-19,-29],[-8,-18,-28]]
        let y = try run1("Sub", [floats([2, 1], [1, 2]), floats([3], [10, 20, 30])])
        assertClose(y, [2, 3], [-9, -19, -29, -8, -18, -28])
    }

    func testMulPerChannelNCHW() throws {
        // x[n,c,h,w] = 1 everywhere; scale per channel [1,2,1,1] = [2,3]
        let x = floats([2, 2, 1, 2], Array(repeating: 1, count: 8))
        let y = try run1("Mul", [x, floats([1, 2, 1, 1], [2, 3])])
        assertClose(y, [2, 2, 1, 2], [2, 2, 3, 3, 2, 2, 3, 3])
    }

    func testDivByScalarAndScalarLeftHandSide() throws {
        assertClose(try run1("Div", [floats([3], [1, 2, 4]), Tensor(scalar: 4)]), [3], [0.25, 0.5, 1])
        assertClose(try run1("Div", [Tensor(scalar: 4), floats([3], [1, 2, 4])]), [3], [4, 2, 1])
    }

    func testInt64ShapeArithmeticTruncatesDivision() throws {
        let y = try run1("Div", [int64s([7, -7, 9]), int64s([2, 2, -4])])
        XCTAssertEqual(y.int64s, [3, -3, -2])
        XCTAssertEqual(try run1("Mul", [int64s([2, 3]), Tensor(shape: [], int64s: [4])]).int64s, [8, 12])
        XCTAssertEqual(try run1("Add", [int64s([1, 2]), int64s([5])]).int64s, [6, 7])
        assertOpThrows("division by zero") { try run1("Div", [int64s([1]), int64s([0])]) }
    }

    func testIncompatibleShapesNameTheNode() {
        assertOpThrows("node n (Add)") { try run1("Add", [floats([2], [1, 2]), floats([3], [1, 2, 3])]) }
        assertOpThrows("float32, int64 or int32") { try run1("Add", [floats([1], [1]), int64s([1])]) }
    }

    func testUnaryOps() throws {
        let x = floats([3], [0.25, 1, 4])
        assertClose(try run1("Sqrt", [x]), [3], [0.5, 1, 2])
        assertClose(try run1("Reciprocal", [x]), [3], [4, 1, 0.25])
        assertClose(try run1("Log", [floats([2], [1, Float(M_E)])]), [2], [0, 1], tol: 1e-6)
        assertClose(try run1("Exp", [floats([2], [0, 1])]), [2], [1, Float(M_E)], tol: 1e-6)
        assertClose(try run1("Neg", [floats([2], [1, -2])]), [2], [-1, 2])
        assertClose(try run1("Abs", [floats([2], [-1.5, 2])]), [2], [1.5, 2])
        // erf(0.5) = 0.5204998778 (Abramowitz & Stegun table 7.1)
        assertClose(try run1("Erf", [floats([2], [0, 0.5])]), [2], [0, 0.5204998778], tol: 1e-6)
        XCTAssertEqual(try run1("Neg", [int64s([3, -4])]).int64s, [-3, 4])
    }

    func testPowWithIntegerExponent() throws {
        assertClose(try run1("Pow", [floats([3], [2, -3, 0.5]), Tensor(shape: [], int64s: [3])]), [3], [8, -27, 0.125])
    }

    func testVariadicMinMaxSumBroadcast() throws {
        let a = floats([2, 2], [1, 5, 3, 7]), b = floats([2], [4, 4]), c = Tensor(scalar: 2)
        assertClose(try run1("Max", [a, b, c]), [2, 2], [4, 5, 4, 7])
        assertClose(try run1("Min", [a, b, c]), [2, 2], [1, 2, 2, 2])
        assertClose(try run1("Sum", [a, b, c]), [2, 2], [7, 11, 9, 13])
        assertClose(try run1("Sum", [a]), [2, 2], [1, 5, 3, 7])
    }

    func testComparisonsProduceBoolAsUInt8() throws {
        let a = floats([2, 2], [1, 2, 3, 4]), b = floats([2], [2, 3])
        XCTAssertEqual(try run1("Equal", [a, b]).uint8s, [0, 0, 0, 0])
        XCTAssertEqual(try run1("Less", [a, b]).uint8s, [1, 1, 0, 0])
        XCTAssertEqual(try run1("Greater", [a, b]).uint8s, [0, 0, 1, 1])
        XCTAssertEqual(try run1("Equal", [int64s([1, 2]), Tensor(shape: [], int64s: [2])]).uint8s, [0, 1])
        XCTAssertEqual(try run1("Not", [Tensor(shape: [3], uint8s: [0, 1, 0])]).uint8s, [1, 0, 1])
    }

    func testWhereBroadcastsThreeWays() throws {
        // cond [2,1], x [3], y scalar → [[x],[y,y,y]]
        let y = try run1("Where", [Tensor(shape: [2, 1], uint8s: [1, 0]), floats([3], [1, 2, 3]), Tensor(scalar: -1)])
        assertClose(y, [2, 3], [1, 2, 3, -1, -1, -1])
    }

    func testBroadcastPlanCollapsesPerChannelToThreeLoops() throws {
        let plan = try BroadcastPlan([[2, 3, 4, 5], [1, 3, 1, 1]])
        XCTAssertEqual(plan.dims, [2, 3, 20])
        XCTAssertEqual(plan.strides[0], [60, 20, 1])
        XCTAssertEqual(plan.strides[1], [0, 1, 0])
        let trailing = try BroadcastPlan([[2, 3, 4], [4]])
        XCTAssertEqual(trailing.dims, [6, 4])
        XCTAssertEqual(trailing.strides[1], [0, 1])
    }

    func testGenericStridedBroadcastMatchesNaiveLoop() throws {
        // [2,1,3] + [4,1]: out[i,j,k] = a[i,0,k] + b[j,0]
        let a = (0..<6).map { Float($0) }, b = (0..<4).map { Float($0 * 10) }
        let y = try run1("Add", [floats([2, 1, 3], a), floats([4, 1], b)])
        var expected: [Float] = []
        for i in 0..<2 { for j in 0..<4 { for k in 0..<3 { expected.append(a[i * 3 + k] + b[j]) } } }
        assertClose(y, [2, 4, 3], expected)
    }
}
