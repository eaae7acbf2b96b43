import XCTest
@testable import OctetScript

final class OctetScriptSmokeTests: XCTestCase {
    func testModuleLoads() { XCTAssertTrue(true) }
}
