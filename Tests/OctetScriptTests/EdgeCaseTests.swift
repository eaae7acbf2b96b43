import XCTest
@testable import OctetScript

/// Edge cases that once crashed the process or gave wrong answers silently, as snippets
/// checked against their own `# expect` comments (one runtime error per snippet).
final class EdgeCaseTests: XCTestCase {
    func expect(_ source: String, file: StaticString = #filePath, line: UInt = #line) {
        for problem in ScriptHarness.check(source: source) { XCTFail(problem, file: file, line: line) }
    }

    func testCyclicListsAsTensorDataAreErrors() {
        expect("""
        let a = [1]
        a.append(a)
        sum(a)
        # expect error: snippet.octet:3:1: error: sum: nested list is more than 64 levels deep (or contains itself): cannot make a tensor
        """)
    }
}
