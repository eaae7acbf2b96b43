import XCTest
import OctetTensor
@testable import OctetGraph

/// Hand-worked shape-operator results (ONNX operator spec examples and small cases).
final class ShapeOpTests: XCTestCase {
    let x23 = floats([2, 3], [1, 2, 3, 4, 5, 6])

    func testConcatAndSplitRoundTrip() throws {
        let c = try run1("Concat", [x23, floats([2, 1], [7, 8])], ["axis": .int(-1)])
        assertClose(c, [2, 4], [1, 2, 3, 7, 4, 5, 6, 8])
        let parts = try runOp("Split", [c, int64s([3, 1])], attributes: ["axis": .int(1)], outputs: 2)
        assertClose(parts[0], [2, 3], [1, 2, 3, 4, 5, 6])
        assertClose(parts[1], [2, 1], [7, 8])
        let old = try runOp("Split", [c], attributes: ["axis": .int(1), "split": .ints([1, 3])], opset: 11, outputs: 2)
        assertClose(old[0], [2, 1], [1, 4])
        let num = try runOp("Split", [floats([5], [1, 2, 3, 4, 5])], attributes: ["num_outputs": .int(2)],
                            opset: 18, outputs: 2)
        assertClose(num[0], [3], [1, 2, 3])
        assertClose(num[1], [2], [4, 5])
        assertOpThrows("do not sum") { try runOp("Split", [c, int64s([1, 1])], attributes: ["axis": .int(1)], outputs: 2) }
    }

    func testSliceVariants() throws {
        // spec example: data [[1,2,3,4],[5,6,7,8]], starts [1,0], ends [2,3], steps [1,2] → [[5,7]]
        let d = floats([2, 4], [1, 2, 3, 4, 5, 6, 7, 8])
        assertClose(try run1("Slice", [d, int64s([1, 0]), int64s([2, 3]), int64s([0, 1]), int64s([1, 2])]), [1, 2], [5, 7])
        // ends = INT64_MAX, negative start
        assertClose(try run1("Slice", [d, int64s([-2]), int64s([Int64.max]), int64s([1])]), [2, 2], [3, 4, 7, 8])
        // full reverse along axis 1
        assertClose(try run1("Slice", [d, int64s([-1]), int64s([Int64.min]), int64s([1]), int64s([-1])]),
                    [2, 4], [4, 3, 2, 1, 8, 7, 6, 5])
        // opset 9 attributes
        assertClose(try run1("Slice", [d], ["starts": .ints([0, 1]), "ends": .ints([1, 1000])], opset: 9), [1, 3], [2, 3, 4])
        assertOpThrows("step must not be 0") { try run1("Slice", [d, int64s([0]), int64s([1]), int64s([0]), int64s([0])]) }
    }

    func testReshapeFlattenSqueezeUnsqueeze() throws {
        let x = Tensor(zeros: [2, 3, 4])
        XCTAssertEqual(try run1("Reshape", [x, int64s([0, -1])]).shape, [2, 12])
        XCTAssertEqual(try run1("Reshape", [Tensor(zeros: [0, 3]), int64s([3, 0])], ["allowzero": .int(1)], opset: 14).shape, [3, 0])
        assertOpThrows("more than one -1") { try run1("Reshape", [x, int64s([-1, -1])]) }
        XCTAssertEqual(try run1("Flatten", [x], ["axis": .int(0)]).shape, [1, 24])
        XCTAssertEqual(try run1("Flatten", [x], ["axis": .int(-1)]).shape, [6, 4])
        let s = Tensor(zeros: [1, 3, 1, 2])
        XCTAssertEqual(try run1("Squeeze", [s]).shape, [3, 2])
        XCTAssertEqual(try run1("Squeeze", [s], ["axes": .ints([-2])], opset: 11).shape, [1, 3, 2])
        XCTAssertEqual(try run1("Squeeze", [s, int64s([0])]).shape, [3, 1, 2])
        assertOpThrows("cannot squeeze axis 1") { try run1("Squeeze", [s, int64s([1])]) }
        XCTAssertEqual(try run1("Unsqueeze", [x23, int64s([0, -1])]).shape, [1, 2, 3, 1])
        XCTAssertEqual(try run1("Unsqueeze", [x23], ["axes": .ints([1])], opset: 11).shape, [2, 1, 3])
        assertOpThrows("axes") { try run1("Unsqueeze", [x23, int64s([5])]) }
    }

    func testTransposeGatherExpandTile() throws {
        assertClose(try run1("Transpose", [x23]), [3, 2], [1, 4, 2, 5, 3, 6])
        assertOpThrows("not a permutation") { try run1("Transpose", [x23], ["perm": .ints([0, 0])]) }
        // Gather rows [1,0,1] / column -1
        assertClose(try run1("Gather", [x23, int64s([1, 0, 1])]), [3, 3], [4, 5, 6, 1, 2, 3, 4, 5, 6])
        assertClose(try run1("Gather", [x23, Tensor(shape: [], int64s: [-1])], ["axis": .int(1)]), [2], [3, 6])
        assertOpThrows("out of range") { try run1("Gather", [x23, int64s([2])]) }
        assertOpThrows("indices must be int32 or int64, got float32") { try run1("Gather", [x23, floats([1], [1])]) }
        assertClose(try run1("Expand", [floats([2, 1], [1, 2]), int64s([2, 1, 3])]), [2, 2, 3],
                    [1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2])
        assertClose(try run1("Tile", [floats([1, 2], [1, 2]), int64s([2, 2])]), [2, 4], [1, 2, 1, 2, 1, 2, 1, 2])
    }

    func testPadModes() throws {
        // spec example (reflect): [[1.0,1.2],[2.3,3.4],[4.5,5.7]], pads [0,2,0,0]
        let d = floats([3, 2], [1.0, 1.2, 2.3, 3.4, 4.5, 5.7])
        let p = int64s([0, 2, 0, 0])
        assertClose(try run1("Pad", [d, p], ["mode": .string("reflect")]), [3, 4],
                    [1.0, 1.2, 1.0, 1.2, 2.3, 3.4, 2.3, 3.4, 4.5, 5.7, 4.5, 5.7])
        assertClose(try run1("Pad", [d, p], ["mode": .string("edge")]), [3, 4],
                    [1.0, 1.0, 1.0, 1.2, 2.3, 2.3, 2.3, 3.4, 4.5, 4.5, 4.5, 5.7])
        assertClose(try run1("Pad", [d, p, Tensor(scalar: 9)]), [3, 4],
                    [9, 9, 1.0, 1.2, 9, 9, 2.3, 3.4, 9, 9, 4.5, 5.7])
        assertClose(try run1("Pad", [d], ["pads": .ints([1, 0, 0, -1]), "value": .float(7)], opset: 2), [4, 1],
                    [7, 1.0, 2.3, 4.5])
        assertClose(try run1("Pad", [d, int64s([1, 0]), nil, int64s([1])], opset: 18), [3, 3],
                    [0, 1.0, 1.2, 0, 2.3, 3.4, 0, 4.5, 5.7])
        assertOpThrows("unknown mode") { try run1("Pad", [d, p], ["mode": .string("mirror")]) }
    }

    func testShapeWithStartEnd() throws {
        let x = Tensor(zeros: [2, 3, 4, 5])
        XCTAssertEqual(try run1("Shape", [x]).int64s, [2, 3, 4, 5])
        XCTAssertEqual(try run1("Shape", [x], ["start": .int(1), "end": .int(-1)], opset: 15).int64s, [3, 4])
        XCTAssertEqual(try run1("Shape", [x], ["start": .int(-10)], opset: 15).int64s, [2, 3, 4, 5])
    }

    /// Sizes and steps at the int64 limits: refused before allocating, or computed without
    /// overflow (expected shapes and values from onnxruntime 1.32).
    func testInt64ExtremesAreRefusedOrExact() throws {
        let x = floats([1, 1, 4, 4], (0..<16).map(Float.init))
        let (mx, mn) = (Int64.max, Int64.min)
        assertClose(try run1("Slice", [x, int64s([0]), int64s([mx]), int64s([3]), int64s([mx])]), [1, 1, 4, 1], [0, 4, 8, 12])
        assertClose(try run1("Slice", [x, int64s([mx]), int64s([mn]), int64s([3]), int64s([mn])]), [1, 1, 4, 1], [3, 7, 11, 15])
        assertClose(try run1("Slice", [x, int64s([0]), int64s([10]), int64s([3]), int64s([mx - 5])]), [1, 1, 4, 1], [0, 4, 8, 12])
        let r = try run1("Range", [Tensor(shape: [], int64s: [mn]), Tensor(shape: [], int64s: [mx]), Tensor(shape: [], int64s: [mx])])
        XCTAssertEqual(r.int64s, [mn, -1, mx - 1])
        assertOpThrows("more than 2147483648") {
            try run1("Range", [Tensor(shape: [], int64s: [0]), Tensor(shape: [], int64s: [mx]), Tensor(shape: [], int64s: [1])])
        }
        assertOpThrows("larger than 2147483648 elements") { try run1("Expand", [x, int64s([1 << 40, 1, 4, 4])]) }
        assertOpThrows("negative dimension") { try run1("Expand", [x, int64s([-3, 1, 4, 4])]) }
        assertOpThrows("larger than 2147483648 elements") { try run1("Tile", [x, int64s([1, 1, 1, 1 << 40])]) }
        assertOpThrows("overflow axis 3") { try run1("Tile", [x, int64s([1, 1, 1, 1 << 62])]) }
        assertOpThrows("larger than 2147483648 elements") { try run1("ConstantOfShape", [int64s([1 << 40])]) }
        assertOpThrows("must equal the node's 2 outputs") {
            try runOp("Split", [x], attributes: ["axis": .int(3), "num_outputs": .int(Int(mx))], opset: 18, outputs: 2)
        }
        assertOpThrows("3 parts for 2 outputs") { try runOp("Split", [x, int64s([1, 1, 2])], attributes: ["axis": .int(3)], outputs: 2) }
        assertOpThrows("cannot reshape") { try run1("Reshape", [floats([1], [5]), int64s([mx, mx])]) }
        let w = floats([2, 1, 5, 5], [Float](repeating: 1, count: 50))
        assertOpThrows("larger than the padded input") { try run1("Conv", [x, w], ["strides": .ints([2, 2])]) }
    }
}
