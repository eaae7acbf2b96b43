import Foundation
import OctetGraph
import OctetQuant
import OctetTensor
import OctetTestSupport
import XCTest

/// Calibration wall time on effnet_lite0 with its 64 calibration images (release build;
/// the target is ≤ 2.2 s on a 2-core machine). Prints the float forward time for comparison.
final class CalibrationBenchTests: XCTestCase {
    func testEffnetCalibrationTime() throws {
        let sm = try SharedModels.require("effnet_lite0")
        let model = try Model.load(path: sm.modelPath)
        let calib = try sm.input("calib")
        let saved = KernelConfig.threads
        defer { KernelConfig.threads = saved }
        for threads in [1, 2] {
            KernelConfig.threads = threads
            let t0 = Date()
            _ = try model.run([sm.inputName: calib])
            print("effnet_lite0 float forward, \(calib.shape[0]) images, \(threads) thread(s): \(String(format: "%.2f", Date().timeIntervalSince(t0))) s")
        }
        let t1 = Date()
        let q = try Calibrator(model: model).calibrate([sm.inputName: calib])
        let dt = Date().timeIntervalSince(t1)
        print("effnet_lite0 calibration (diffs, \(calib.shape[0]) images): \(String(format: "%.2f", dt)) s; \(q.annotations.adjustments.count) adjustments")
    }
}
