import XCTest
@testable import OctetGraph

final class OctetGraphSmokeTests: XCTestCase {
    func testModuleLoads() { XCTAssertTrue(true) }
}
