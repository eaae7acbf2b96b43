import Foundation
import OctetTensor

/// An interactive session over one interpreter: runs inputs, echoes values, keeps the
/// inputs that ran (for `:save`) with their output and renderings (for `:notebook`).
///
/// Errors never end the session: bindings made before an error stay.
public final class Session {
    public struct Record {
        public var input: String
        public var output: String
        public var renderings: [RichRendering]
    }

    public let interpreter: Interpreter
    public private(set) var records: [Record] = []
    /// Receives diagnostics (rendered with source line and caret).
    public var errors: (String) -> Void
    private var counter = 0
    private var captured = ""
    private var renderings: [RichRendering] = []

    public init(interpreter: Interpreter, errors: @escaping (String) -> Void) {
        self.interpreter = interpreter
        self.errors = errors
        let terminal = interpreter.output
        interpreter.output = { [unowned self] text in
            self.captured += text
            terminal(text)
        }
        interpreter.display = { [unowned self] value in
            let text = Session.echoText(value) + "\n"
            if case .object(let o) = value, let r = try? o.render(in: RenderContext(notebookName: "session")) {
                self.renderings.append(r)
                terminal(text)  // the notebook shows the rendering instead of the text, as `octet run --notebook` does
            } else {
                self.interpreter.output(text)
            }
        }
    }

    /// REPL echo: strings quoted, domain objects as their summary.
    public static func echoText(_ value: Value) -> String {
        if case .object(let o) = value { return o.summary }
        return Format.repr(value)
    }

    /// True when `text` is cut short (the REPL keeps reading): a final `\` line continuation, or
    /// text the parser found ending too soon — an open `(`, `[` or `{`, an expression ending in an
    /// operator — without a lexical error. A lexical error (an unexpected character, an
    /// unterminated string) is reported at once, inside open brackets too: more input cannot mend
    /// it. Other errors inside open brackets (a duplicate record key) are reported when they close.
    public static func needsMoreInput(_ text: String) -> Bool {
        if text.hasSuffix("\\") { return true }
        var lexer = Lexer(text, file: "<input>")
        let tokens = lexer.tokenize()
        guard lexer.diagnostics.isEmpty else { return false }
        var parser = Parser(tokens: tokens, file: "<input>")
        _ = parser.parseProgram()
        return parser.diagnostics.contains { $0.message.hasSuffix("found end of file") }
    }

    /// Whether `line`, continuing a complete statement (`continues(line)`), leaves it open: the
    /// answer `needsMoreInput(statement + "\n" + line)` gives, found with a one-token stand-in for
    /// the statement (an `if` for `else`), so a chain of continuation lines is checked in linear time.
    public static func continuationNeedsMore(_ line: String) -> Bool {
        let t = line.drop { $0 == " " || $0 == "\t" }
        return needsMoreInput((t.hasPrefix("else") ? "if x {}" : "x") + "\n" + line)
    }

    /// True for a line holding only a `#` comment.
    public static func isComment(_ line: String) -> Bool {
        line.drop { $0 == " " || $0 == "\t" }.first == "#"
    }

    /// True when a line starting with `line` continues the statement before it, as in a script:
    /// a leading `|>`, `.method` or `else`.
    public static func continues(_ line: String) -> Bool {
        let t = line.drop { $0 == " " || $0 == "\t" }
        if t.hasPrefix("|>") { return true }
        if t.hasPrefix("else"), t.dropFirst(4).first.map({ !($0.isLetter || $0.isNumber || $0 == "_") }) ?? true { return true }
        guard t.first == ".", let c = t.dropFirst().first else { return false }
        return c.isLetter || c == "_"
    }

    /// Parses and runs one input. Returns false on a syntax or runtime error (reported
    /// through `errors`); the session continues either way.
    @discardableResult
    public func execute(_ input: String, record: Bool = true) -> Bool {
        counter += 1
        let name = "<input-\(counter)>"
        let (program, diagnostics) = interpreter.parse(input, file: name)
        if !diagnostics.isEmpty {
            for d in diagnostics { errors(interpreter.render(d)) }
            return false
        }
        captured = ""
        renderings = []
        interpreter.cancellation.reset()
        var ok = true
        do {
            try onLargeStack { try self.interpreter.run(program) { value, _ in try self.interpreter.show(value) } }
        } catch let e as RuntimeError {
            errors(interpreter.render(e.diagnostic))
            ok = false
        } catch {
            errors("error: \(error)")
            ok = false
        }
        if ok && record { records.append(Record(input: input, output: captured, renderings: renderings)) }
        return ok
    }

    /// Runs `body` on a thread with a large stack (`Interpreter.onLargeStack`: deep script
    /// recursion reports an error instead of overflowing), so the caller's thread (the REPL's main
    /// thread, where libedit reads lines and signals arrive) keeps its own.
    private func onLargeStack(_ body: @escaping () throws -> Void) throws {
        let failure: Error? = Interpreter.onLargeStack {
            do { try body(); return nil } catch { return error }
        }
        if let failure { throw failure }
    }

    /// Ends the input: `pending` is what was still buffered because a bracket or block was
    /// open (`fn f() {` without its `}`). Reports it as the syntax error `octet run` gives for
    /// the same text and returns false; returns true when nothing was pending.
    @discardableResult
    public func finish(pending: String) -> Bool {
        if pending.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return true }
        return execute(pending)
    }

    /// Runs a script file in the session (`:load`).
    @discardableResult
    public func load(_ path: String) -> Bool {
        let full = interpreter.resolvePath(path)
        let text: String
        do { text = try ScriptFile.read(full) } catch {
            errors("error: cannot load '\(path)': \(error)")
            return false
        }
        interpreter.noteRead(full)
        counter += 1
        let (program, diagnostics) = interpreter.parse(text, file: path)
        if !diagnostics.isEmpty {
            for d in diagnostics { errors(interpreter.render(d)) }
            return false
        }
        captured = ""
        renderings = []
        interpreter.cancellation.reset()
        interpreter.importing.append(interpreter.importKey(full))  // the file importing itself is circular
        defer { interpreter.importing.removeLast() }
        do { try onLargeStack { try self.interpreter.run(program) } } catch let e as RuntimeError {
            errors(interpreter.render(e.diagnostic))
            return false
        } catch {
            errors("error: \(error)")
            return false
        }
        // The saved session holds the code that ran, as often as it ran: an import would run once,
        // and would resolve against the saved file's folder.
        let code = text.trimmingCharacters(in: .newlines)
        records.append(Record(input: "# :load \(path)" + (code.isEmpty ? "" : "\n" + code), output: captured, renderings: renderings))
        return true
    }

    /// The inputs that ran, as a script (`:save`).
    public var script: String {
        records.map(\.input).joined(separator: "\n") + (records.isEmpty ? "" : "\n")
    }

    /// - Throws: `SessionError.wouldReplaceSource` when `path` is a file the session read
    ///   (`:load`, import, a model or data file): the saved session reads it again.
    public func save(to path: String) throws {
        try checkNotSource(path)
        try SessionError.checkExtension(path, kind: "a script", ".octet")
        try AtomicFile.write(Data(script.utf8), to: interpreter.resolvePath(path))
    }

    /// - Throws: `SessionError.wouldReplaceSource` when `path` names a file the session read.
    public func checkNotSource(_ path: String) throws {
        if let f = interpreter.readFile(at: path) { throw SessionError.wouldReplaceSource(path: path, source: f) }
    }

    /// The session as a notebook: one cell per input with its output (`:notebook`).
    public func notebook(title: String) -> Notebook {
        var book = Notebook(title: title, subtitle: Notebook.replSubtitle)
        for (i, r) in records.enumerated() {
            var e = Notebook.Entry(title: "In [\(i + 1)]", code: r.input)
            e.output = r.output
            e.renderings = r.renderings
            book.entries.append(e)
        }
        return book
    }
}

/// Errors of the session commands.
public enum SessionError: Error, CustomStringConvertible {
    case wouldReplaceSource(path: String, source: String)
    /// A file written by kind (a Markdown notebook, a saved script) whose path ends otherwise:
    /// refused, so that a slip of the path does not replace a model or data file.
    case wrongExtension(path: String, kind: String, expected: String)

    public var description: String {
        switch self {
        case .wouldReplaceSource(let p, let s): return "\(p) would replace \(s), an input read here; give another path"
        case .wrongExtension(let p, let k, let e): return "\(p): \(k) is written to a path ending in \(e); give such a path"
        }
    }

    /// - Throws: `.wrongExtension` unless `path` ends in `ext` (any case) or is a device or FIFO.
    public static func checkExtension(_ path: String, kind: String, _ ext: String) throws {
        guard !AtomicFile.isStream(path), !path.lowercased().hasSuffix(ext) else { return }
        throw SessionError.wrongExtension(path: path, kind: kind, expected: ext)
    }
}
