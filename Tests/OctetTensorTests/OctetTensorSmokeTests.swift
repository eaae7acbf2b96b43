import XCTest
@testable import OctetTensor

final class OctetTensorSmokeTests: XCTestCase {
    func testModuleLoads() { XCTAssertTrue(true) }
}
