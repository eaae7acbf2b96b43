/// Abstract syntax tree. Nodes are classes so the interpreter can cache lookups on them;
/// every node carries the `SourceLocation` of its first (or operator) token.

/// Where a name lives, decided by the parser's scope resolution.
public enum Resolution: Sendable {
    /// Slot `slot` of the frame `hops` function levels out from the current one.
    case local(hops: Int, slot: Int)
    /// The interpreter's global table (top-level bindings and builtins).
    case global
}

/// A use of a name. `globalSlot` caches the global table index once found.
public final class VariableRef {
    public let name: String
    public let resolution: Resolution
    /// Local names visible at the use, for "did you mean" when a global lookup fails.
    public let visibleLocals: [String]
    public var globalSlot: Int = -1

    public init(name: String, resolution: Resolution, visibleLocals: [String] = []) {
        self.name = name
        self.resolution = resolution
        self.visibleLocals = visibleLocals
    }
}

/// Where a declaration (`let`, `fn`, `for` variable) stores its value.
public enum BindingTarget: Sendable {
    case local(slot: Int)
    case global(name: String)
}

public enum Literal: Sendable {
    case int(Int), real(Double), string(String), bool(Bool), null
}

public enum UnaryOp: String, Sendable { case negate = "-", not = "not" }

public enum BinaryOp: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", modulo = "%"
    case equal = "==", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
}

public enum LogicalOp: String, Sendable { case and, or }

/// A call argument: positional when `name` is nil.
public struct CallArgument {
    public var name: String?
    public var value: Expr
    public var location: SourceLocation
}

public enum InterpolationPart {
    case text(String)
    case expr(Expr)
}

public indirect enum ExprKind {
    case literal(Literal)
    case interpolation([InterpolationPart])
    case variable(VariableRef)
    case list([Expr])
    case record(keys: [String], values: [Expr])
    case unary(UnaryOp, Expr)
    case binary(BinaryOp, Expr, Expr)
    case logical(LogicalOp, Expr, Expr)
    case range(Expr, Expr, inclusive: Bool)
    case call(callee: Expr, arguments: [CallArgument])
    case member(Expr, name: String)
    case index(Expr, [Expr])
    case function(FunctionDecl)
}

public final class Expr {
    public let kind: ExprKind
    public let location: SourceLocation

    public init(_ kind: ExprKind, at location: SourceLocation) {
        self.kind = kind
        self.location = location
    }
}

public struct Parameter {
    public var name: String
    public var defaultValue: Expr?
    public var location: SourceLocation
}

/// A named function or closure. Parameters occupy frame slots `0..<parameters.count`.
public final class FunctionDecl {
    public let name: String?
    public let parameters: [Parameter]
    public var body: [Stmt] = []
    /// Slots the function's frame needs (parameters and every local declared inside).
    public var frameSize = 0
    /// A body ending in an expression statement returns that value (closures and named
    /// functions alike) when no `return` ran first.
    public let returnsLastExpression: Bool
    public let location: SourceLocation

    public init(name: String?, parameters: [Parameter], returnsLastExpression: Bool, location: SourceLocation) {
        self.name = name
        self.parameters = parameters
        self.returnsLastExpression = returnsLastExpression
        self.location = location
    }

    public var displayName: String { name ?? "<closure>" }
}

public enum AssignOp: String, Sendable { case assign = "=", add = "+=", subtract = "-=", multiply = "*=", divide = "/=" }

public struct ConditionalBranch {
    public var condition: Expr
    public var body: [Stmt]
}

public enum StmtKind {
    case expression(Expr)
    case letDecl(name: String, target: BindingTarget, value: Expr)
    case assign(target: Expr, op: AssignOp, value: Expr)
    case function(FunctionDecl, target: BindingTarget)
    case ifChain([ConditionalBranch], elseBody: [Stmt]?)
    case forIn(name: String, target: BindingTarget, iterable: Expr, body: [Stmt])
    case whileLoop(condition: Expr, body: [Stmt])
    case breakLoop
    case continueLoop
    case returnValue(Expr?)
    case importFile(path: String)
    case block([Stmt])
}

public final class Stmt {
    public let kind: StmtKind
    public let location: SourceLocation

    public init(_ kind: StmtKind, at location: SourceLocation) {
        self.kind = kind
        self.location = location
    }
}

/// A parsed file or REPL input: top-level statements plus the size of the frame that
/// holds locals declared in nested blocks at top level.
public final class Program {
    public let file: String
    public let statements: [Stmt]
    public let frameSize: Int

    public init(file: String, statements: [Stmt], frameSize: Int) {
        self.file = file
        self.statements = statements
        self.frameSize = frameSize
    }
}
