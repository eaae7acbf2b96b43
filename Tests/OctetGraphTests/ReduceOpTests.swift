import XCTest
import OctetTensor
@testable import OctetGraph

/// Hand-worked reductions, ArgMax and Softmax.
final class ReduceOpTests: XCTestCase {
    // [[[1,2],[3,4]],[[5,6],[7,8]]]
    let x = floats([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8])

    func testReduceAxesAttributeAndInput() throws {
        assertClose(try run1("ReduceSum", [x], ["axes": .ints([1])], opset: 11), [2, 1, 2], [4, 6, 12, 14])
        assertClose(try run1("ReduceSum", [x, int64s([0, 2])], ["keepdims": .int(0)]), [2], [14, 22])
        assertClose(try run1("ReduceMean", [x], ["axes": .ints([-1]), "keepdims": .int(0)], opset: 13), [2, 2],
                    [1.5, 3.5, 5.5, 7.5])
        assertClose(try run1("ReduceMax", [x, int64s([0])], opset: 18), [1, 2, 2], [5, 6, 7, 8])
        assertClose(try run1("ReduceMin", [x], ["keepdims": .int(0)], opset: 11), [], [1])
    }

    func testMaxAndMinKeepNaNWhereverItIs() throws {
        // numpy.max / numpy.min along axis 1: a NaN anywhere in the row gives NaN
        let t = floats([4, 3], [.nan, 1, 2, 1, .nan, 2, 1, 2, .nan, 1, 2, 3])
        for (op, last) in [("ReduceMax", Float(3)), ("ReduceMin", 1)] {
            let y = try run1(op, [t], ["axes": .ints([1]), "keepdims": .int(0)], opset: 13)
            XCTAssertEqual(y.shape, [4])
            XCTAssertEqual(y.floats.prefix(3).map(\.isNaN), [true, true, true], op)
            XCTAssertEqual(y.floats[3], last, op)
        }
    }

    func testNoopWithEmptyAxes() throws {
        assertClose(try run1("ReduceSum", [x], ["noop_with_empty_axes": .int(1)]), [2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8])
        assertClose(try run1("ReduceSum", [x, Tensor(shape: [0], int64s: [])]), [1, 1, 1], [36])
        assertOpThrows("axes") { try run1("ReduceMean", [x], ["axes": .ints([3])], opset: 13) }
    }

    func testArgMaxKeepdimsAndLastIndex() throws {
        let t = floats([2, 3], [1, 3, 3, 2, 0, 2])
        XCTAssertEqual(try run1("ArgMax", [t], ["axis": .int(1)]).int64s, [1, 0])
        XCTAssertEqual(try run1("ArgMax", [t], ["axis": .int(1)]).shape, [2, 1])
        let last = try run1("ArgMax", [t], ["axis": .int(-1), "keepdims": .int(0), "select_last_index": .int(1)])
        XCTAssertEqual(last.shape, [2])
        XCTAssertEqual(last.int64s, [2, 2])
        XCTAssertEqual(try run1("ArgMax", [t]).int64s, [1, 0, 0])
    }

    func testSoftmaxOpset13AlongSingleAxis() throws {
        // softmax([0, ln 3]) = [0.25, 0.75]
        let t = floats([2, 1, 2], [0, log(3), 0, log(3)])
        assertClose(try run1("Softmax", [t]), [2, 1, 2], [0.25, 0.75, 0.25, 0.75], tol: 1e-6)
        // along axis 0 the two rows are equal → 0.5 each
        assertClose(try run1("Softmax", [t], ["axis": .int(0)]), [2, 1, 2], [0.5, 0.5, 0.5, 0.5], tol: 1e-6)
        assertClose(try run1("LogSoftmax", [t]), [2, 1, 2], [log(0.25), log(0.75), log(0.25), log(0.75)], tol: 1e-6)
    }

    func testSoftmaxBeforeOpset13CoercesTo2D() throws {
        // axis 1 on [2,1,2]: each batch row of 2 elements normalised together = same as last axis here;
        // axis 0 on [2,2]: the whole tensor is one row of 4
        let t = floats([2, 2], [0, 0, 0, log(5)])
        assertClose(try run1("Softmax", [t], ["axis": .int(0)], opset: 11), [2, 2], [0.125, 0.125, 0.125, 0.625], tol: 1e-6)
        assertClose(try run1("Softmax", [t], opset: 11), [2, 2], [0.5, 0.5, 1.0 / 6, 5.0 / 6], tol: 1e-6)
        assertOpThrows("axis") { try run1("Softmax", [t], ["axis": .int(2)]) }
    }
}
