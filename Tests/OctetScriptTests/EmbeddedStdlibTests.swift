import Foundation
import XCTest
@testable import OctetScript

/// The embedded stdlib must equal stdlib/*.octet (regenerate with scripts/embed-stdlib).
final class EmbeddedStdlibTests: XCTestCase {
    static let stdlib = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("stdlib")

    func testEmbeddedCopyIsCurrent() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.stdlib.path).filter { $0.hasSuffix(".octet") }.sorted()
        XCTAssertFalse(files.isEmpty, "no stdlib/*.octet found at \(Self.stdlib.path)")
        XCTAssertEqual(files, EmbeddedStdlib.generated.keys.sorted(), "stdlib files changed: run scripts/embed-stdlib")
        for name in files {
            var text = try String(contentsOf: Self.stdlib.appendingPathComponent(name), encoding: .utf8)
            if text.hasSuffix("\n") { text.removeLast() }
            XCTAssertEqual(EmbeddedStdlib.generated[name], text, "stdlib/\(name) differs from its embedded copy: run scripts/embed-stdlib")
        }
    }

    /// Every stdlib file parses.
    func testStdlibParses() throws {
        for (name, text) in EmbeddedStdlib.generated {
            let (_, diagnostics) = Parser.parse(text, file: "stdlib/\(name)")
            XCTAssertTrue(diagnostics.isEmpty, "stdlib/\(name): \(diagnostics.map(\.header))")
        }
    }
}
