import Foundation
import XCTest
@testable import OctetTensor

final class QuantParamsTests: XCTestCase {
    func testDPUParams() throws {
        let p = try QuantParams.dpu(fixPos: 3)
        XCTAssertEqual(p.scale, 0.125)
        XCTAssertEqual([p.qmin, p.qmax], [-128, 127])
        XCTAssertTrue(p.isPowerOfTwo)
        XCTAssertTrue(p.isDPUDeployable)
        XCTAssertEqual(try p.withFixPos(-2).scale, 4)
        XCTAssertThrowsError(try QuantParams.dpu(fixPos: 200))
    }

    func testNonDeployableVariants() throws {
        XCTAssertFalse(try QuantParams(bits: 8, narrowRange: true, fixPos: 3).isDPUDeployable)
        XCTAssertFalse(try QuantParams(bits: 16, fixPos: 3).isDPUDeployable)
        XCTAssertFalse(try QuantParams(bits: 8, signed: false, fixPos: 3).isDPUDeployable)
        let fs = try QuantParams(scale: 0.02, zeroPoint: 0)
        XCTAssertFalse(fs.isPowerOfTwo)
        XCTAssertFalse(fs.isDPUDeployable)
        let pc = try QuantParams(axis: 0, fixPos: [4, 6, 5])
        XCTAssertTrue(pc.isPowerOfTwo)
        XCTAssertFalse(pc.isDPUDeployable)
        XCTAssertEqual(pc.fixPos, 4)
        XCTAssertEqual(pc.channels?.scales, [0.0625, 0.015625, 0.03125])
        let u4 = try QuantParams(bits: 4, signed: false, scale: 0.5, zeroPoint: 3)
        XCTAssertEqual([u4.qmin, u4.qmax], [0, 15])
    }

    func testValidation() {
        XCTAssertThrowsError(try QuantParams(bits: 20, fixPos: 3))
        XCTAssertThrowsError(try QuantParams(scale: 0))
        XCTAssertThrowsError(try QuantParams(scale: .nan))
        XCTAssertThrowsError(try QuantParams(scale: 1, zeroPoint: 300))   // outside [−128, 127]
        XCTAssertThrowsError(try QuantParams(axis: 0, fixPos: []))
        XCTAssertThrowsError(try QuantParams(axis: 1, scales: [1, 2], zeroPoints: [0]))
    }

    func testScaleFixPosHelpers() {
        XCTAssertEqual(QuantMath.scale(fixPos: 7), 1.0 / 128)
        XCTAssertEqual(QuantMath.scale(fixPos: -3), 8)
        XCTAssertEqual(QuantMath.fixPos(ofScale: 0.0078125), 7)
        XCTAssertEqual(QuantMath.fixPos(ofScale: 4), -2)
        XCTAssertNil(QuantMath.fixPos(ofScale: 0.1))
        XCTAssertNil(QuantMath.fixPos(ofScale: 0))
    }

    func testCodableRoundTripAndValidatingDecode() throws {
        let all = [try QuantParams.dpu(fixPos: 5), try QuantParams(scale: 0.037, zeroPoint: -3),
                   try QuantParams(axis: 0, fixPos: [1, 2]), try QuantParams(axis: 1, scales: [0.5, 0.25])]
        for p in all {
            let data = try JSONEncoder().encode(p)
            XCTAssertEqual(try JSONDecoder().decode(QuantParams.self, from: data), p)
        }
        let bad = #"{"bits": 8, "signed": true, "fixPos": 3, "scale": 0.5}"#   // 0.5 is not 2^-3
        XCTAssertThrowsError(try JSONDecoder().decode(QuantParams.self, from: Data(bad.utf8)))
        let minimal = #"{"bits": 8, "signed": true, "fixPos": 3, "scale": 0.125}"#
        XCTAssertEqual(try JSONDecoder().decode(QuantParams.self, from: Data(minimal.utf8)), try QuantParams.dpu(fixPos: 3))
    }
}
