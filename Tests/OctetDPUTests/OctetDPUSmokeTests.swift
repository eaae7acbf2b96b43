import XCTest
@testable import OctetDPU

final class OctetDPUSmokeTests: XCTestCase {
    func testModuleLoads() { XCTAssertTrue(true) }
}
