/// A script value. Integers and reals stay distinct (`3` vs `3.0`); lists and records
/// are shared references (like Python); domain objects come in through `DomainObject`.
public enum Value {
    case null
    case bool(Bool)
    case int(Int)
    case real(Double)
    case string(String)
    case list(ListObject)
    case record(RecordObject)
    case range(RangeValue)
    case closure(Closure)
    case builtin(Builtin)
    case method(BoundMethod)
    case object(DomainObject)

    /// The name users see in messages and from `type(x)`.
    public var typeName: String {
        switch self {
        case .null: return "nil"
        case .bool: return "bool"
        case .int: return "int"
        case .real: return "real"
        case .string: return "string"
        case .list: return "list"
        case .record: return "record"
        case .range: return "range"
        case .closure, .builtin, .method: return "function"
        case .object(let o): return o.typeName
        }
    }

    /// The number as a Double for ints and reals.
    public var number: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .real(let r): return r
        default: return nil
        }
    }

    public var isCallable: Bool {
        switch self {
        case .closure, .builtin, .method: return true
        default: return false
        }
    }

    public static func list(_ items: [Value]) -> Value { .list(ListObject(items)) }
}

/// A mutable list shared by reference.
public final class ListObject {
    public var items: [Value]
    public init(_ items: [Value]) { self.items = items }
    deinit { Teardown.release(&items) }
}

/// Frees nested lists and records without recursion: a list nested millions deep (`a = [a]` in
/// a loop) would otherwise be freed by nested deinit calls and overflow the stack.
enum Teardown {
    /// Empties `values`, emptying in turn every list and record only they referenced.
    static func release(_ values: inout [Value]) {
        var lists: [ListObject] = [], records: [RecordObject] = []
        func collect(_ vs: [Value]) {
            for v in vs {
                switch v {
                case .list(let l): lists.append(l)
                case .record(let r): records.append(r)
                default: break
                }
            }
        }
        collect(values)
        guard !lists.isEmpty || !records.isEmpty else { return }
        values = []
        while true {
            if var l = lists.popLast() {
                if isKnownUniquelyReferenced(&l) { let items = l.items; l.items = []; collect(items) }
            } else if var r = records.popLast() {
                if isKnownUniquelyReferenced(&r) { collect(r.removeAll()) }
            } else {
                return
            }
        }
    }
}

/// A mutable record (string keys in insertion order) shared by reference.
public final class RecordObject {
    public private(set) var keys: [String] = []
    private var values: [String: Value] = [:]

    public init(_ pairs: [(String, Value)] = []) {
        for (k, v) in pairs { self[k] = v }
    }

    public subscript(key: String) -> Value? {
        get { values[key] }
        set {
            if let v = newValue {
                if values.updateValue(v, forKey: key) == nil { keys.append(key) }
            } else if values.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    public var pairs: [(String, Value)] { keys.map { ($0, values[$0]!) } }

    /// Empties the record, returning its values.
    func removeAll() -> [Value] {
        let out = Array(values.values)
        values = [:]
        keys = []
        return out
    }

    deinit {
        var rest = Array(values.values)
        values = [:]
        Teardown.release(&rest)
    }
}

/// An integer range `lower..<upper` (a closed range `a...b` is stored as `a..<b+1`) with a step.
public struct RangeValue: Equatable {
    public var lower: Int
    public var upper: Int
    public var step: Int
    public var wasClosed: Bool

    public init(lower: Int, upper: Int, step: Int = 1, wasClosed: Bool = false) {
        self.lower = lower
        self.upper = upper
        self.step = step
        self.wasClosed = wasClosed
    }

    /// A range whose number of elements fits in an `Int` (as `count` requires).
    /// Throws `BindingError.message` for a zero step or a range with more elements.
    public static func checked(lower: Int, upper: Int, step: Int = 1, wasClosed: Bool = false) throws -> RangeValue {
        let r = RangeValue(lower: lower, upper: upper, step: step, wasClosed: wasClosed)
        guard step != 0 else { throw BindingError.message("range step must not be zero") }
        guard r.exactCount <= UInt(Int.max) else {
            throw BindingError.message("\(Format.repr(.range(r))) has \(r.exactCount) elements, more than \(Int.max)")
        }
        return r
    }

    /// The number of elements, computed without overflow (it can reach 2^64 - 1).
    public var exactCount: UInt {
        if step == 0 { return 0 }
        let forward = step > 0
        guard forward ? upper > lower : lower > upper else { return 0 }
        // The distance between two Ints is below 2^64, so it fits in a UInt.
        let distance = forward ? UInt(bitPattern: upper &- lower) : UInt(bitPattern: lower &- upper)
        return (distance - 1) / step.magnitude + 1
    }

    /// The number of elements; ranges made by `checked` (all script ranges) always fit.
    public var count: Int { Int(clamping: exactCount) }

    /// Element `i` (0 ≤ i < count). The result lies between `lower` and `upper`, so the
    /// wrapping arithmetic gives the exact value even when `i * step` alone would overflow.
    public func element(_ i: Int) -> Int { lower &+ i &* step }

    /// The elements as script values; throws when there are more than `Limits.maxListItems`.
    public func values() throws -> [Value] {
        try Limits.checkList(count)
        return (0..<count).map { .int(element($0)) }
    }
}

/// A script function with the frame it was created in.
public final class Closure {
    public let decl: FunctionDecl
    public let frame: Frame?
    public init(decl: FunctionDecl, frame: Frame?) {
        self.decl = decl
        self.frame = frame
    }
}

/// A builtin method bound to its receiver (`xs.append`, `t.sum`): the receiver is
/// passed as the builtin's first positional argument.
public final class BoundMethod {
    public let receiver: Value
    public let builtin: Builtin
    public init(receiver: Value, builtin: Builtin) {
        self.receiver = receiver
        self.builtin = builtin
    }
}

/// The local slots of one function activation (or of a top-level chunk).
public final class Frame {
    public var slots: [Value]
    public let parent: Frame?

    public init(size: Int, parent: Frame?) {
        slots = Array(repeating: .null, count: size)
        self.parent = parent
    }

    @inline(__always)
    func ancestor(_ hops: Int) -> Frame {
        var f = self
        for _ in 0..<hops { f = f.parent! }
        return f
    }
}
