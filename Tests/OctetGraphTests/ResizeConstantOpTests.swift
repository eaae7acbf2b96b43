import XCTest
import OctetTensor
@testable import OctetGraph

/// Hand-worked Resize/Upsample (ONNX spec examples) and constant-family ops.
final class ResizeConstantOpTests: XCTestCase {
    let img = floats([1, 1, 2, 2], [1, 2, 3, 4])

    func testUpsampleNearestSpecExample() throws {
        let y = try run1("Upsample", [img], ["scales": .floats([1, 1, 2, 3])], opset: 7)
        assertClose(y, [1, 1, 4, 6], [1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4])
    }

    func testResizeLinearAlignCorners() throws {
        // 2 → 3 with align_corners: source coords 0, 0.5, 1
        let y = try run1("Resize", [img, nil, floats([4], [1, 1, 1.5, 1.5])],
                         ["mode": .string("linear"), "coordinate_transformation_mode": .string("align_corners")])
        assertClose(y, [1, 1, 3, 3], [1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4], tol: 1e-6)
    }

    func testResizeLinearHalfPixelUpsample() throws {
        // spec example resize_upsample_scales_linear: 2x2 → 4x4, half_pixel
        let y = try run1("Resize", [img, nil, floats([4], [1, 1, 2, 2])], ["mode": .string("linear")])
        assertClose(y, [1, 1, 4, 4], [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4],
                    tol: 1e-6)
    }

    /// An infinite sample stays infinite where onnxruntime keeps it (taps weighted a·(1 − w) + b·w,
    /// a tap of weight 0 left out): 1×3 → 1×6, half_pixel, as onnxruntime 1.x computes it.
    func testResizeLinearKeepsInfinities() throws {
        let y = try run1("Resize", [floats([1, 1, 1, 3], [-.infinity, 1, 2]), nil, floats([4], [1, 1, 1, 2])], ["mode": .string("linear")])
        XCTAssertEqual(y.floats, [-.infinity, -.infinity, -.infinity, 1.25, 1.75, 2])
    }

    func testResizeNearestSizesAndModes() throws {
        let row = floats([1, 4], [10, 20, 30, 40])
        // asymmetric 4 → 3: scale 0.75, src = 0, 1.333, 2.667
        let floor = try run1("Resize", [row, nil, nil, int64s([1, 3])],
                             ["coordinate_transformation_mode": .string("asymmetric"), "nearest_mode": .string("floor")])
        assertClose(floor, [1, 3], [10, 20, 30])
        let ceil = try run1("Resize", [row, nil, nil, int64s([1, 3])],
                            ["coordinate_transformation_mode": .string("asymmetric"), "nearest_mode": .string("ceil")])
        assertClose(ceil, [1, 3], [10, 30, 40])
        assertOpThrows("unknown mode") {
            try run1("Resize", [row, nil, nil, int64s([1, 3])], ["nearest_mode": .string("nearest")])
        }
        assertOpThrows("unsupported mode 'cubic'") {
            try run1("Resize", [row, nil, nil, int64s([1, 3])], ["mode": .string("cubic")])
        }
    }

    func testConstantAttributes() throws {
        assertClose(try run1("Constant", [], ["value_floats": .floats([1, 2])]), [2], [1, 2])
        XCTAssertEqual(try run1("Constant", [], ["value_int": .int(-3)]).int64s, [-3])
        assertOpThrows("unsupported Constant attribute") { try run1("Constant", [], ["sparse_value": .int(0)]) }
    }

    func testConstantOfShapeCastRangeDropout() throws {
        let c = try run1("ConstantOfShape", [int64s([2, 1])], ["value": .tensor(Tensor(shape: [1], int64s: [7]))])
        XCTAssertEqual(c.shape, [2, 1])
        XCTAssertEqual(c.int64s, [7, 7])
        let cast = try run1("Cast", [floats([4], [-2.7, 2.7, .nan, 300])], ["to": .int(7)])
        XCTAssertEqual(cast.int64s, [-2, 2, 0, 300])
        XCTAssertEqual(try run1("Cast", [floats([2], [0, 0.5])], ["to": .int(9)]).uint8s, [0, 1])
        assertOpThrows("unsupported target type 10") { try run1("Cast", [floats([1], [1])], ["to": .int(10)]) }
        XCTAssertEqual(try run1("Range", [Tensor(shape: [], int64s: [10]), Tensor(shape: [], int64s: [4]),
                                          Tensor(shape: [], int64s: [-3])]).int64s, [10, 7])
        assertClose(try run1("Range", [Tensor(scalar: 0), Tensor(scalar: 1), Tensor(scalar: 0.25)]), [4], [0, 0.25, 0.5, 0.75])
        let d = try runOp("Dropout", [img], opset: 12, outputs: 2)
        assertClose(d[0], [1, 1, 2, 2], [1, 2, 3, 4])
        XCTAssertEqual(d[1].uint8s, [1, 1, 1, 1])
    }
}
