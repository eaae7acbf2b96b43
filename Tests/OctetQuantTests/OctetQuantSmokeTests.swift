import XCTest
@testable import OctetQuant

final class OctetQuantSmokeTests: XCTestCase {
    func testModuleLoads() { XCTAssertTrue(true) }
}
