import Foundation
import XCTest
@testable import OctetScript

/// Runs every `Scripts/<feature>/*.octet` file and checks its `# expect` comments.
final class ScriptTests: XCTestCase {
    static var root: URL { Bundle.module.url(forResource: "Scripts", withExtension: nil)! }

    func testAllScripts() throws {
        let scripts = ScriptHarness.scripts(under: Self.root)
        XCTAssertGreaterThan(scripts.count, 20, "script discovery found too few files")
        for url in scripts {
            let name = url.path.replacingOccurrences(of: Self.root.path + "/", with: "")
            for problem in try ScriptHarness.check(url).prefix(6) { XCTFail("\(name): \(problem)") }
        }
    }

    /// Scripts can be filtered while developing: OCTET_SCRIPT=closures swift test ...
    func testSelectedScripts() throws {
        guard let filter = ProcessInfo.processInfo.environment["OCTET_SCRIPT"] else { return }
        for url in ScriptHarness.scripts(under: Self.root) where url.path.contains(filter) {
            let problems = try ScriptHarness.check(url)
            print(url.lastPathComponent, problems.isEmpty ? "ok" : problems.joined(separator: "\n"))
        }
    }
}
