import Foundation
import OctetTensor

/// A Markdown notebook: per cell its title, code, printed output and rich renderings
/// (Markdown tables, SVG plots written as files beside the `.md`).
public struct Notebook {
    public struct Entry {
        public var title: String
        public var code: String?
        public var markdown: String?
        public var output: String = ""
        public var renderings: [RichRendering] = []

        public init(title: String, code: String? = nil, markdown: String? = nil) {
            self.title = title
            self.code = code
            self.markdown = markdown
        }
    }

    public var title: String
    public var subtitle: String
    /// The subtitle of a notebook of a REPL session.
    public static let replSubtitle = "Octet REPL session"
    public var entries: [Entry] = []

    public init(title: String, subtitle: String = "") {
        self.title = title
        self.subtitle = subtitle
    }

    /// Markdown text plus the SVG files (name → contents) it links, named
    /// `<base>-<n>.svg` in order of appearance so output is deterministic. With `inline` the
    /// images are embedded as `data:image/svg+xml;base64,` links and no files are returned.
    public func render(baseName: String, inline: Bool = false) -> (markdown: String, files: [(String, String)]) {
        var md = "# \(title)\n\n"
        if !subtitle.isEmpty { md += "_\(subtitle)_\n\n" }
        var files: [(String, String)] = []
        for (i, e) in entries.enumerated() {
            if let text = e.markdown {
                if !e.title.isEmpty { md += "## \(e.title)\n\n" }
                md += text + "\n\n"
                continue
            }
            md += "## \(e.title.isEmpty ? "Cell \(i + 1)" : e.title)\n\n"
            if let code = e.code, !code.isEmpty { md += Notebook.fenced(code, info: "octet") }
            if !e.output.isEmpty { md += Notebook.fenced(e.output.hasSuffix("\n") ? String(e.output.dropLast()) : e.output) }
            for r in e.renderings {
                switch r {
                case .markdown(let text): md += text.trimmingCharacters(in: .newlines) + "\n\n"
                case .svg(let svg, let title) where inline:
                    md += "![\(Notebook.altText(title))](data:image/svg+xml;base64,\(Data(svg.utf8).base64EncodedString()))\n\n"
                case .svg(let svg, let title):
                    let name = "\(baseName)-\(files.count + 1).svg"
                    files.append((name, svg))
                    md += "![\(Notebook.altText(title))](\(name))\n\n"
                }
            }
        }
        return (md.trimmingCharacters(in: .newlines) + "\n", files)
    }

    /// `text` in a fenced code block whose fence is longer than any backtick run inside it
    /// (CommonMark §4.5), so printed backticks cannot close it early.
    static func fenced(_ text: String, info: String = "") -> String {
        var longest = 0, run = 0
        for c in text { if c == "`" { run += 1; longest = max(longest, run) } else { run = 0 } }
        let fence = String(repeating: "`", count: max(3, longest + 1))
        return "\(fence)\(info)\n\(text)\n\(fence)\n\n"
    }

    /// A plot title as Markdown image alt text: one line, brackets and backslashes escaped, so the
    /// link stays one image whatever the title holds.
    static func altText(_ title: String) -> String {
        Escaping.escaped(title.unicodeScalars) { u in
            switch u {
            case "[", "]", "\\": return "\\" + String(u)
            case _ where u.properties.generalCategory == .control: return " "
            default: return nil
            }
        }
    }

    /// Writes the notebook and its SVG files atomically; SVGs go beside `path`. A missing
    /// output folder is created. Plot files the replaced notebook at `path` linked and this one
    /// does not are removed, so none is left stale. Into a device or FIFO (e.g. /dev/stdout) the SVGs are embedded
    /// in the Markdown instead, so nothing is written beside it.
    /// - Parameter protected: the input file a path names, if any (`Interpreter.readFile(at:)`);
    ///   nothing is written when the notebook or one of its SVGs would replace one.
    /// - Throws: `SessionError.wouldReplaceSource`, or `OctetTensorError.writeFailed` (also for a
    ///   plot's path that names a FIFO or device).
    public func write(to path: String, protected: (String) -> String? = { _ in nil }) throws {
        let url = URL(fileURLWithPath: path)
        let base = url.deletingPathExtension().lastPathComponent
        let dir = url.deletingLastPathComponent()
        let stream = AtomicFile.isStream(path)
        let (markdown, files) = render(baseName: base, inline: stream)
        let plots = files.map { dir.appendingPathComponent($0.0).path }
        for p in [path] + plots {
            if let source = protected(p) { throw SessionError.wouldReplaceSource(path: p, source: source) }
            if !stream { try AtomicFile.checkTarget(p) }
        }
        for p in plots where AtomicFile.isStream(p) {  // a plot is a file of its own; a FIFO there would block
            throw OctetTensorError.writeFailed(path: p, reason: "it is a FIFO or device, not a file; the notebook's plots are written as files beside it")
        }
        if !stream { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }
        let previous = stream ? [] : FileManager.default.contents(atPath: path).map { Notebook.linkedPlots(in: String(decoding: $0, as: UTF8.self), baseName: base) } ?? []
        for (name, svg) in files {
            try AtomicFile.write(Data(svg.utf8), to: dir.appendingPathComponent(name).path)
        }
        try AtomicFile.write(Data(markdown.utf8), to: path)
        for name in previous.subtracting(files.map(\.0)).sorted() {  // plots the replaced notebook showed and this one does not
            let p = dir.appendingPathComponent(name).path
            var info = stat()
            guard protected(p) == nil, lstat(p, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { continue }
            try? FileManager.default.removeItem(atPath: p)
        }
    }

    /// The plot files (`<baseName>-<n>.svg`) a notebook's Markdown links as images, outside code
    /// blocks; none when the Markdown is not a notebook Octet wrote (its subtitle line says so).
    static func linkedPlots(in markdown: String, baseName: String) -> Set<String> {
        let lines = markdown.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count > 2, lines[2].hasPrefix("_Generated by octet run ") || lines[2] == "_\(Notebook.replSubtitle)_" else { return [] }
        var names = Set<String>(), fence: Substring?
        for line in lines {
            if let f = fence {
                if line == f { fence = nil }
                continue
            }
            if line.hasPrefix("```") { fence = line.prefix { $0 == "`" }; continue }
            guard line.hasPrefix("!["), line.hasSuffix(".svg)"), let open = line.range(of: "](", options: .backwards) else { continue }
            let name = line[open.upperBound...].dropLast()
            let number = name.dropFirst(baseName.count + 1).dropLast(4)
            if name.hasPrefix(baseName + "-"), !number.isEmpty, number.allSatisfy(\.isASCII), Int(number).map({ $0 > 0 }) == true {
                names.insert(String(name))
            }
        }
        return names
    }
}
