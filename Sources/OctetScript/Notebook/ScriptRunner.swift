import Foundation
import OctetTensor

/// Runs script files for `octet run`: whole-file, or cell by cell into a notebook.
public enum ScriptRunner {
    /// Exit codes (sysexits.h): usage 64, syntax error 65, runtime error 70.
    public enum ExitCode {
        public static let ok: Int32 = 0
        public static let usage: Int32 = 64
        public static let syntax: Int32 = 65
        public static let runtime: Int32 = 70
    }

    /// Runs `path`. Output goes to `interpreter.output`; diagnostics (rendered with
    /// source line and caret) to `errors`. With `notebook`, writes the Markdown notebook
    /// (also when a cell fails, up to that cell). Returns the exit code.
    public static func run(path: String, displayName: String? = nil, notebook: String? = nil,
                           interpreter: Interpreter, errors: (String) -> Void) -> Int32 {
        let text: String
        do { text = try ScriptFile.read(path) } catch {
            errors("octet: cannot run '\(path)': \(error)")
            return ExitCode.usage
        }
        if let notebook {
            guard !notebook.isEmpty else { errors("octet: the notebook path is empty"); return ExitCode.usage }
            if !AtomicFile.isStream(notebook) {
                do { try AtomicFile.checkTarget(notebook) } catch {
                    errors("octet: cannot write notebook \(notebook): \(error)")
                    return ExitCode.usage
                }
            }
            guard !AtomicFile.sameFile(notebook, path) else {
                errors("octet: the notebook \(notebook) is the script itself; give another path (e.g. a .md file)")
                return ExitCode.usage
            }
            do { try SessionError.checkExtension(notebook, kind: "a notebook", ".md") } catch {
                errors("octet: --notebook \(error)")
                return ExitCode.usage
            }
        }
        interpreter.noteRead(interpreter.resolvePath(path))
        interpreter.importing.append(interpreter.importKey(path))  // the script importing itself is circular
        defer { interpreter.importing.removeLast() }
        let name = displayName ?? path
        let (program, diagnostics) = interpreter.parse(text, file: name)
        if !diagnostics.isEmpty {
            for d in diagnostics { errors(interpreter.render(d)) }
            let n = diagnostics.count
            errors("\(n) error\(n == 1 ? "" : "s") in \(name)")
            return ExitCode.syntax
        }
        guard let notebook else {
            do { try interpreter.run(program) } catch let e as RuntimeError {
                errors(interpreter.render(e.diagnostic))
                return e.isSyntaxError ? ExitCode.syntax : ExitCode.runtime
            } catch {
                errors("\(name): error: \(error)")
                return ExitCode.runtime
            }
            return ExitCode.ok
        }
        return runNotebook(program, text: text, name: name, to: notebook, interpreter: interpreter, errors: errors)
    }

    /// A notebook that could not be written, with the exit code to end with.
    private struct NotebookNotWritten: Error { let code: Int32 }

    static func runNotebook(_ program: Program, text: String, name: String, to path: String,
                            interpreter: Interpreter, errors: (String) -> Void) -> Int32 {
        func run() throws -> Int32 { try runCells(program, text: text, name: name, to: path, interpreter: interpreter, errors: errors) }
        // The notebook's folder is made before the script runs, so an unusable path costs no run;
        // a folder made for it goes again when the notebook is not written or a signal ends the run.
        let dir = (path as NSString).deletingLastPathComponent
        do {
            return try AtomicFile.isStream(path) ? run() : AtomicFile.withFolder(dir.isEmpty ? "." : dir, run)
        } catch let e as NotebookNotWritten {
            return e.code
        } catch {
            errors("octet: cannot write notebook \(path): cannot create the folder \(dir)")
            return ExitCode.usage
        }
    }

    /// Runs the script cell by cell into a notebook and writes it to `path`.
    /// - Throws: `NotebookNotWritten` after reporting why the notebook was not written.
    private static func runCells(_ program: Program, text: String, name: String, to path: String,
                                 interpreter: Interpreter, errors: (String) -> Void) throws -> Int32 {
        let seedNote = interpreter.seedDescription
        var book = Notebook(title: (name as NSString).lastPathComponent, subtitle: Notebook.runSubtitlePrefix + "\((name as NSString).lastPathComponent)\(seedNote)")
        var code = ExitCode.ok
        let originalOutput = interpreter.output
        defer { interpreter.output = originalOutput; interpreter.display = nil }
        for cell in Cell.split(text) {
            if cell.kind == .markdown {
                book.entries.append(Notebook.Entry(title: cell.title, markdown: cell.markdown))
                continue
            }
            var entry = Notebook.Entry(title: cell.title, code: cell.source.trimmingCharacters(in: .newlines))
            let statements = program.statements.filter { cell.firstLine...max(cell.firstLine, cell.lastLine) ~= $0.location.line }
            var captured = "", renderings: [RichRendering] = [], echoing = false
            // What the script prints goes to stdout too; a top-level expression's value only to the notebook,
            // so stdout is the same with or without --notebook.
            interpreter.output = { captured += $0; if !echoing { originalOutput($0) } }
            interpreter.display = { value in
                if case .object(let o) = value, let r = try o.render(in: RenderContext(notebookName: path)) {
                    renderings.append(r)
                    if !echoing { originalOutput(Format.display(value) + "\n") }  // stdout shows what `show` shows without a notebook
                } else {
                    interpreter.output(Format.display(value) + "\n")
                }
            }
            do {
                try interpreter.run(statements, frameSize: program.frameSize) { value, _ in
                    echoing = true
                    defer { echoing = false }
                    try interpreter.show(value)
                }
            } catch {
                let message = (error as? RuntimeError).map { interpreter.render($0.diagnostic) } ?? "\(name): error: \(error)"
                errors(message)
                captured += message + "\n"
                code = (error as? RuntimeError)?.isSyntaxError == true ? ExitCode.syntax : ExitCode.runtime
            }
            entry.output = captured
            entry.renderings = renderings
            if !(entry.code ?? "").isEmpty || !captured.isEmpty || !renderings.isEmpty || !cell.title.isEmpty {
                book.entries.append(entry)
            }
            if code != ExitCode.ok { break }
        }
        do { try book.write(to: path, protected: interpreter.readFile(at:)) } catch let e as SessionError {
            errors("octet: notebook not written: \(e)")
            throw NotebookNotWritten(code: ExitCode.usage)
        } catch {
            errors("octet: cannot write notebook \(path): \((error as? OctetTensorError)?.description ?? error.localizedDescription)")
            throw NotebookNotWritten(code: code == ExitCode.ok ? ExitCode.runtime : code)
        }
        return code
    }
}
