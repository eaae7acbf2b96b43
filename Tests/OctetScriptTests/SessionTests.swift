import Foundation
import XCTest
@testable import OctetScript
import OctetTestSupport

final class SessionTests: XCTestCase {
    func makeSession() -> (Session, () -> String, () -> String) {
        var out = "", err = ""
        let interp = Interpreter(output: { out += $0 })
        let session = Session(interpreter: interp) { err += $0 + "\n" }
        return (session, { out }, { err })
    }

    func testBindingsSurviveErrorsAndEchoValues() {
        let (s, out, err) = makeSession()
        XCTAssertTrue(s.execute("let a = 5"))
        XCTAssertFalse(s.execute("let b = a / 0"))
        XCTAssertTrue(err().hasPrefix("<input-2>:1:11: error: division by zero\nlet b = a / 0\n          ^"), err())
        XCTAssertFalse(s.execute("let c = (1 +"))
        XCTAssertTrue(s.execute("a * 2"))
        XCTAssertTrue(s.execute("\"text\""))
        XCTAssertEqual(out(), "10\n\"text\"\n")
        XCTAssertEqual(s.script, "let a = 5\na * 2\n\"text\"\n")
    }

    func testNeedsMoreInputWhileBracketsOpen() {
        XCTAssertTrue(Session.needsMoreInput("fn f(x) {"))
        XCTAssertTrue(Session.needsMoreInput("let xs = [1,"))
        XCTAssertFalse(Session.needsMoreInput("print(\"(\")"))
        XCTAssertFalse(Session.needsMoreInput("let r = {a: 1} # {"))
        XCTAssertFalse(Session.needsMoreInput("fn f(x) {\n  x\n}"))
        // Continuations a script allows: a trailing operator or `\`; a leading `|>` or `.method`.
        XCTAssertTrue(Session.needsMoreInput("let x = 1 +"))
        XCTAssertTrue(Session.needsMoreInput("let y = 3 \\"))
        XCTAssertFalse(Session.needsMoreInput("let x = 1 +\n2"))
        XCTAssertFalse(Session.needsMoreInput("print(1 + 2)"))
        XCTAssertFalse(Session.needsMoreInput("let x = 1\u{301}"))   // the lexer's error comes first: report it now
        XCTAssertFalse(Session.needsMoreInput("let x = 1 + $"))
        // Inside open brackets too, a lexical error is final: reported now, not when they close.
        XCTAssertFalse(Session.needsMoreInput("print(1, 2\u{301}"))
        // Other errors inside open brackets are reported when they close, so the rest of the
        // statement is not run line by line.
        XCTAssertTrue(Session.needsMoreInput("fn f(x) {\n  let y = 1 2"))
        XCTAssertTrue(Session.needsMoreInput("let r = {\n  a: 1,\n  a: 2,"))
        XCTAssertFalse(Session.needsMoreInput("let r = {\n  a: 1,\n  a: 2\n}"))
        XCTAssertFalse(Session.needsMoreInput("print(\"abc"))
        XCTAssertFalse(Session.needsMoreInput("print(\"a\\(1 + )b\")"))   // an interpolation cut short is not the end of input
        XCTAssertTrue(Session.needsMoreInput("fn f(x) {\n  let y = [1,\n  2"))
        XCTAssertTrue(Session.needsMoreInput("let d = {\"a\":"))
        XCTAssertTrue(Session.continues("  |> len"))
        XCTAssertTrue(Session.continues("\t.upper()"))
        XCTAssertFalse(Session.continues("..5"))
        XCTAssertFalse(Session.continues("print(1)"))
        XCTAssertTrue(Session.continues("else {"))
        XCTAssertTrue(Session.continues("  else if x {"))
        XCTAssertFalse(Session.continues("elsewhere = 1"))
    }

    func testUnclosedBlockAtEndOfInputIsReported() {
        let (s, out, err) = makeSession()
        XCTAssertTrue(s.finish(pending: "  \n"))
        XCTAssertEqual(err(), "")
        XCTAssertFalse(s.finish(pending: "fn f() {\n return 1"))
        XCTAssertTrue(err().contains("error:"), err())
        XCTAssertEqual(out(), "")
        XCTAssertEqual(s.script, "")
    }

    func testCompletion() {
        let (s, _, _) = makeSession()
        s.execute("let model = {bits: 8, method: \"mse\"}")
        s.execute("let t = zeros([2])")
        let c = Completer(interpreter: s.interpreter)
        XCTAssertEqual(c.completions(for: "mod"), ["model"])
        XCTAssertEqual(c.completions(for: "model.b"), ["model.bits"])
        XCTAssertEqual(c.completions(for: "t.sh"), ["t.shape"])
        XCTAssertTrue(c.completions(for: "t.").contains("t.reshape"))
        XCTAssertEqual(c.completions(for: ":no"), [":notebook"])
        XCTAssertTrue(c.completions(for: "sq").contains("sqnr"))
        XCTAssertEqual(c.completions(for: "nothing_here."), [])
    }

    /// A plot or table shown by a `:load`-ed script reaches the notebook as in an input typed at
    /// the prompt; the notebook shows a rendering, not the summary text the terminal showed.
    func testNotebookKeepsRenderingsOfLoadedScriptsWithoutTheirText() throws {
        let (s, out, _) = makeSession()
        let dir = Scratch.directory("session-rich")
        let script = dir.appendingPathComponent("plot.octet").path
        try "show(bar_chart([\"a\"], [1], title: \"loaded\"))\n".write(toFile: script, atomically: true, encoding: .utf8)
        XCTAssertTrue(s.load(script))
        s.execute("table([{k: 1}])")
        XCTAssertTrue(out().contains("Plot"), "the terminal shows the summary")
        let md = s.notebook(title: "n.md").render(baseName: "n", inline: false).markdown
        XCTAssertTrue(md.contains("![loaded](n-1.svg)"), md)
        XCTAssertTrue(md.contains("| k |"), md)
        XCTAssertFalse(md.contains("Plot"), md)
    }

    func testSessionNotebookAndSave() throws {
        let (s, _, _) = makeSession()
        s.execute("print(\"hi\")")
        s.execute("bar_chart([\"a\", \"b\"], [1, 2], title: \"bars\")")
        let dir = Scratch.directory("session")
        try s.notebook(title: "session.md").write(to: dir.appendingPathComponent("session.md").path)
        let md = try String(contentsOf: dir.appendingPathComponent("session.md"), encoding: .utf8)
        XCTAssertTrue(md.contains("## In [1]\n\n```octet\nprint(\"hi\")\n```\n\n```\nhi\n```"), md)
        XCTAssertTrue(md.contains("![bars](session-1.svg)"), md)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("session-1.svg").path))
        try s.save(to: dir.appendingPathComponent("s.octet").path)
        XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent("s.octet"), encoding: .utf8), s.script)
    }

    /// `:save` and `:notebook` refuse a file the session read (`:load`, a model, data): the saved
    /// session would import or read it again.
    func testSaveRefusesAFileTheSessionRead() throws {
        let (s, _, _) = makeSession()
        let dir = Scratch.directory("session-read")
        defer { try? FileManager.default.removeItem(at: dir) }
        let work = dir.appendingPathComponent("work.octet").path
        try "let x = 1\n".write(toFile: work, atomically: true, encoding: .utf8)
        XCTAssertTrue(s.load(work))
        XCTAssertThrowsError(try s.save(to: work)) { XCTAssertTrue("\($0)".contains("an input read here"), "\($0)") }
        XCTAssertThrowsError(try s.checkNotSource(dir.appendingPathComponent("./work.octet").path))
        XCTAssertEqual(try String(contentsOfFile: work, encoding: .utf8), "let x = 1\n")
        try s.save(to: dir.appendingPathComponent("other.octet").path)
    }

    /// `:save` writes .octet files and `:notebook` .md files only: a slip of the path must not
    /// replace a model or data file, which stays as it was.
    func testSaveAndNotebookRefuseOtherExtensions() throws {
        let (s, _, _) = makeSession()
        let dir = Scratch.directory("session-ext")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = dir.appendingPathComponent("model.onnx").path
        try "keep".write(toFile: model, atomically: true, encoding: .utf8)
        s.execute("let x = 1")
        XCTAssertThrowsError(try s.save(to: model)) {
            XCTAssertEqual("\($0)", "\(model): a script is written to a path ending in .octet; give such a path")
        }
        XCTAssertThrowsError(try s.notebook(title: "t").write(to: model)) {
            XCTAssertEqual("\($0)", "\(model): a notebook is written to a path ending in .md; give such a path")
        }
        XCTAssertEqual(try String(contentsOfFile: model, encoding: .utf8), "keep")
        try s.notebook(title: "t").write(to: dir.appendingPathComponent("n.MD").path)
    }

    /// `:load` is saved as the code it ran, each time it ran, whatever the file's extension and
    /// wherever the script is saved.
    func testSavedLoadHoldsTheLoadedCode() throws {
        let (s, out, _) = makeSession()
        let dir = Scratch.directory("session-load")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("sub"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let notes = dir.appendingPathComponent("notes.txt").path
        try "print(\"loaded\")\n".write(toFile: notes, atomically: true, encoding: .utf8)
        XCTAssertTrue(s.load(notes))
        XCTAssertTrue(s.load(notes))
        XCTAssertEqual(out(), "loaded\nloaded\n")
        let saved = dir.appendingPathComponent("sub/s.octet").path
        try s.save(to: saved)
        XCTAssertEqual(s.script, "# :load \(notes)\nprint(\"loaded\")\n# :load \(notes)\nprint(\"loaded\")\n")
        let (t, again, _) = makeSession()
        XCTAssertTrue(t.load(saved))
        XCTAssertEqual(again(), "loaded\nloaded\n")
    }

    /// A continuation line is checked against a one-token stand-in for the complete statement
    /// before it; the answer matches the check of the whole text.
    func testContinuationNeedsMoreMatchesTheWholeText() {
        let statement = "let w = [1, 2]\n  |> len"
        for (line, open) in [("  |> f(", true), ("  |> str", false), ("  .upper()", false), ("  .map(fn(v) {", true),
                             ("else {", true), ("else { 1 }", false), ("else if y {", true)] {
            let before = line.hasPrefix("else") ? "if a { 1 }" : statement
            XCTAssertEqual(Session.continuationNeedsMore(line), open, line)
            XCTAssertEqual(Session.needsMoreInput(before + "\n" + line), open, line)
        }
    }

    func testCancellationStopsLoops() {
        let (s, _, err) = makeSession()
        s.interpreter.cancellation.cancel()
        let (program, _) = s.interpreter.parse("let n = 0\nwhile true { n += 1 }", file: "loop.octet")
        XCTAssertThrowsError(try s.interpreter.run(program)) { e in
            XCTAssertEqual((e as? RuntimeError)?.isInterruption, true)
            XCTAssertEqual((e as? RuntimeError)?.diagnostic.header, "loop.octet:2:1: error: interrupted")
        }
        XCTAssertTrue(s.execute("n"), err())
    }

    func testProgressLine() {
        var clock = 0.0
        var written: [String] = []
        let p = TerminalProgress(width: 10, clock: { clock }, write: { written.append($0) })
        p.begin("calibrate", total: 4)
        XCTAssertEqual(p.line(completed: 1, elapsed: 2), "calibrate [##........]  25%  1/4  ETA 6s")
        clock = 1
        p.update(completed: 4)
        XCTAssertEqual(written.last, "\rcalibrate [##########] 100%  4/4\u{1B}[K")
        p.finish()
        XCTAssertEqual(written.last, "\r\u{1B}[K")
    }
}
