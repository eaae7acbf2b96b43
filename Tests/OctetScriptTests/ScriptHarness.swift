import Foundation
@testable import OctetScript
import OctetTestSupport

/// Runs one `.octet` test script and compares what it did with its expectation comments:
///
/// - `# expect: <line>` — the next printed line (in order; all printed lines must match)
/// - `# expect error: <file:line:col: error: message>` — the diagnostics, in order
///   (every syntax error, or the one runtime error)
/// - `# expect stack: <line>` — the runtime error's call stack lines, in order
///
/// Files whose name starts with `_` are helpers imported by others and are not run.
struct ScriptHarness {
    struct Expectations {
        var output: [String] = []
        var errors: [String] = []
        var stack: [String] = []
    }

    struct Result {
        var output: [String] = []
        var errors: [String] = []
        var stack: [String] = []
    }

    static func expectations(in text: String) -> Expectations {
        var e = Expectations()
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            guard let r = line.range(of: "# expect") else { continue }
            let rest = line[r.upperBound...]
            if rest.hasPrefix(": ") { e.output.append(String(rest.dropFirst(2))) }
            else if rest == ":" { e.output.append("") }
            else if rest.hasPrefix(" error: ") { e.errors.append(String(rest.dropFirst(8))) }
            else if rest.hasPrefix(" stack: ") { e.stack.append(String(rest.dropFirst(8))) }
        }
        return e
    }

    /// Runs `url` with its directory as base and its file name as display name.
    static func run(_ url: URL) -> Result {
        run(base: url.deletingLastPathComponent().path) { try $0.runFile(url.path, displayName: url.lastPathComponent) }
    }

    /// Runs script text shown as `name` (snippets written inside a test).
    static func run(source: String, name: String) -> Result {
        run(base: FileManager.default.temporaryDirectory.path) { interpreter in
            let (program, diagnostics) = interpreter.parse(source, file: name)
            if diagnostics.isEmpty { try interpreter.run(program) }
            return diagnostics
        }
    }

    /// Runs `body` on a fresh interpreter (seed 0, `base` for imports) in a scratch
    /// directory, collecting what it printed and its diagnostics.
    static func run(base: String, _ body: @escaping (Interpreter) throws -> [Diagnostic]) -> Result {
        Interpreter.onLargeStack {
            var printed = ""
            let interpreter = Interpreter(seed: 0, output: { printed += $0 })
            interpreter.baseDirectory = base
            var result = Result()
            let saved = FileManager.default.currentDirectoryPath
            let scratch = Scratch.directory("script")
            _ = FileManager.default.changeCurrentDirectoryPath(scratch.path)
            defer { _ = FileManager.default.changeCurrentDirectoryPath(saved) }
            do {
                let diagnostics = try body(interpreter)
                result.errors = diagnostics.map(\.header)
            } catch let e as RuntimeError {
                result.errors = [e.diagnostic.header]
                result.stack = e.stack
            } catch {
                result.errors = ["host error: \(error)"]
            }
            result.output = printed.isEmpty ? [] : printed.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if result.output.last == "" { result.output.removeLast() }
            return result
        }
    }

    /// Mismatch descriptions for one script (empty when it passes).
    static func check(_ url: URL) throws -> [String] {
        let text = try String(contentsOf: url, encoding: .utf8)
        return compare(expectations(in: text), run(url))
    }

    /// Mismatch descriptions for script text shown as `name`, checked against its own
    /// `# expect` comments (empty when it passes).
    static func check(source: String, name: String = "snippet.octet") -> [String] {
        compare(expectations(in: source), run(source: source, name: name))
    }

    static func compare(_ want: Expectations, _ got: Result) -> [String] {
        var problems: [String] = []
        compare("output", want.output, got.output, &problems)
        compare("errors", want.errors, got.errors, &problems)
        if !want.stack.isEmpty || !got.stack.isEmpty { compare("stack", want.stack, got.stack, &problems) }
        return problems
    }

    static func compare(_ what: String, _ want: [String], _ got: [String], _ problems: inout [String]) {
        for i in 0..<max(want.count, got.count) {
            let w = i < want.count ? want[i] : "<nothing>"
            let g = i < got.count ? got[i] : "<nothing>"
            if w != g { problems.append("\(what) line \(i + 1): expected \(w.debugDescription), got \(g.debugDescription)") }
        }
    }

    /// Every runnable script under `root`, sorted.
    static func scripts(under root: URL) -> [URL] {
        let files = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
        return files.filter { $0.pathExtension == "octet" && !$0.lastPathComponent.hasPrefix("_") }
            .sorted { $0.path < $1.path }
    }
}
