/// How domain values (tensors, models, datasets, reports, plots, ...) appear in the language.
///
/// An object names its type, prints a one-screen `summary` (REPL and `print`), exposes
/// properties and methods by name, and may render richly in notebooks.
public protocol DomainObject: AnyObject {
    /// Type name shown by `type(x)` and in error messages, e.g. `Tensor`.
    var typeName: String { get }
    /// Plain text, at most one screen, shown in the REPL and by `print`.
    var summary: String { get }
    /// Property value for `x.name`, or nil when there is no such property.
    func property(_ name: String) throws -> Value?
    /// Property names (for completion and suggestions).
    var propertyNames: [String] { get }
    /// Methods callable as `x.name(...)`; each gets the receiver as first argument.
    var methods: BindingTable { get }
    /// Rich rendering for notebooks, or nil to fall back to `summary`.
    func render(in notebook: RenderContext) throws -> RichRendering?
}

extension DomainObject {
    public func property(_ name: String) throws -> Value? { nil }
    public var propertyNames: [String] { [] }
    public var methods: BindingTable { BindingTable(domain: typeName, []) }
    public func render(in notebook: RenderContext) throws -> RichRendering? { nil }

    /// Every member name: properties then methods.
    public var memberNames: [String] { propertyNames + methods.names }
}

/// What a notebook cell shows for a value beyond its printed output.
public enum RichRendering: Equatable {
    /// Markdown placed as is (tables, lists).
    case markdown(String)
    /// An SVG document written to a file beside the notebook and linked as an image.
    case svg(String, title: String)
}

/// Where rich renderings go; notebooks number files to keep them deterministic.
public struct RenderContext {
    public var notebookName: String
    public init(notebookName: String) { self.notebookName = notebookName }
}
