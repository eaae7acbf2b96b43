/// The one escaping loop behind string literals (`repr`), diagnostics, SVG text and Markdown.
/// In Syntax, so the lexer (built alone by scripts/fuzz-parser) can use it too.
enum Escaping {
    /// The scalars with each one `replacement` maps replaced by its text and the others kept.
    static func escaped<S: Sequence<Unicode.Scalar>>(_ scalars: S, _ replacement: (Unicode.Scalar) -> String?) -> String {
        var out = ""
        for u in scalars {
            if let r = replacement(u) { out += r } else { out.unicodeScalars.append(u) }
        }
        return out
    }
}
