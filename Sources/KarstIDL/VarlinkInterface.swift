/// A parsed Varlink interface description (IDL), following the reference grammar of varlink.org:
/// `interface NAME`, then `type`, `method` and `error` members; `#` comments; types `bool`,
/// `int`, `float`, `string`, `object`, named types, `[]T`, `[string]T`, `?T`, inline structs and
/// enums.
public struct VarlinkInterface: Hashable, Sendable {
    /// A type expression.
    public indirect enum TypeSpec: Hashable, Sendable {
        case bool, int, float, string, object
        case named(String)
        case array(TypeSpec)
        case map(TypeSpec)
        case optional(TypeSpec)
        case structure([Field])
        case enumeration([String])
    }

    /// A named, typed field of a struct, a method's input or output, or an error.
    public struct Field: Hashable, Sendable {
        public var name: String
        public var type: TypeSpec
        /// The `#` comment lines right above the field, without the `#`.
        public var doc: [String] = []

        public init(name: String, type: TypeSpec, doc: [String] = []) {
            self.name = name
            self.type = type
            self.doc = doc
        }
    }

    /// A method: its input and output fields.
    public struct Method: Hashable, Sendable {
        public var name: String
        public var input: [Field]
        public var output: [Field]
    }

    /// What kind of member a name declares.
    public enum MemberKind: String, Hashable, Sendable { case type, method, error }

    /// One member in declaration order, with the comment above it.
    public struct Member: Hashable, Sendable {
        public var kind: MemberKind
        public var name: String
        public var doc: [String]
    }

    public var name: String
    /// The comment lines above `interface`.
    public var doc: [String] = []
    /// Every member in the order the description declares them.
    public var members: [Member] = []
    public var types: [String: TypeSpec] = [:]
    public var methods: [String: Method] = [:]
    public var errors: [String: [Field]] = [:]

    /// Why a description does not parse.
    public struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// Parses a description; every named type a member uses must be defined in it.
    public init(parsing text: String) throws(ParseError) {
        var s = IDLScanner(text)
        // The comment lines before `interface`, blank lines included, describe the interface.
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let t = line.drop { $0 == " " }
            if t.hasPrefix("#") {
                let body = t.dropFirst()
                doc.append(String(body.hasPrefix(" ") ? body.dropFirst() : body))
            } else if !t.isEmpty { break }
        }
        try s.keyword("interface")
        name = try s.interfaceName()
        var memberNames: Set<String> = []
        while !s.atEnd {
            let memberDoc = s.takeDoc()
            let kind = try s.word()
            let member = try s.memberName()
            guard memberNames.insert(member).inserted else { throw s.error("duplicate member \(member)") }
            if let k = MemberKind(rawValue: kind) { members.append(Member(kind: k, name: member, doc: memberDoc)) }
            switch kind {
            case "type":
                types[member] = try s.structOrEnum()
            case "method":
                let input = try s.structFields()
                try s.arrow()
                let output = try s.structFields()
                methods[member] = Method(name: member, input: input, output: output)
            case "error":
                errors[member] = try s.structFields()
            default:
                throw s.error("expected type, method or error, found \(kind)")
            }
        }
        guard !memberNames.isEmpty else { throw s.error("an interface needs at least one member") }
        try checkReferences()
    }

    private func checkReferences() throws(ParseError) {
        func check(_ t: TypeSpec) throws(ParseError) {
            switch t {
            case .named(let n) where types[n] == nil:
                throw ParseError(line: 0, message: "undefined type \(n)")
            case .array(let e), .map(let e), .optional(let e): try check(e)
            case .structure(let fields): for f in fields { try check(f.type) }
            default: break
            }
        }
        for t in types.values { try check(t) }
        for m in methods.values { for f in m.input + m.output { try check(f.type) } }
        for e in errors.values { for f in e { try check(f.type) } }
    }
}

/// Tokeniser for the IDL: skips whitespace and `#` comments.
private struct IDLScanner {
    let chars: [Character]
    var i = 0
    /// Comment lines skipped since the last `takeDoc()`; a blank line starts a new block.
    private var doc: [String] = []

    init(_ text: String) { chars = Array(text) }

    var line: Int { chars[..<min(i, chars.count)].filter { $0 == "\n" }.count + 1 }

    func error(_ message: String) -> VarlinkInterface.ParseError {
        VarlinkInterface.ParseError(line: line, message: message)
    }

    mutating func skip() {
        var newlines = 0
        while i < chars.count {
            if chars[i].isWhitespace {
                if chars[i] == "\n" {
                    newlines += 1
                    if newlines >= 2 { doc = [] }
                }
                i += 1
            } else if chars[i] == "#" {
                let start = i + 1
                while i < chars.count, chars[i] != "\n" { i += 1 }
                var text = String(chars[start..<i])
                if text.hasPrefix(" ") { text.removeFirst() }
                doc.append(text)
                newlines = 0
            } else { break }
        }
    }

    /// The comment block just skipped (and forget it).
    mutating func takeDoc() -> [String] {
        defer { doc = [] }
        return doc
    }

    var atEnd: Bool { mutating get { skip(); return i >= chars.count } }

    mutating func take(_ c: Character) -> Bool {
        skip()
        if i < chars.count, chars[i] == c { i += 1; return true }
        return false
    }

    mutating func expect(_ c: Character) throws(VarlinkInterface.ParseError) {
        guard take(c) else { throw error("expected '\(c)'") }
    }

    mutating func ident(_ allowed: (Character) -> Bool) -> String {
        skip()
        let start = i
        while i < chars.count, allowed(chars[i]) { i += 1 }
        return String(chars[start..<i])
    }

    mutating func word() throws(VarlinkInterface.ParseError) -> String {
        let w = ident { $0.isLetter && $0.isASCII }
        guard !w.isEmpty else { throw error("expected a keyword") }
        return w
    }

    mutating func keyword(_ k: String) throws(VarlinkInterface.ParseError) {
        guard try word() == k else { throw error("expected '\(k)'") }
    }

    /// Reverse-domain name: letters first, dot-separated segments of letters, digits and dashes.
    mutating func interfaceName() throws(VarlinkInterface.ParseError) -> String {
        let n = ident { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "." || $0 == "-" }
        let parts = n.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 2, let first = n.first, first.isLetter,
              parts.allSatisfy({ !$0.isEmpty && !$0.hasPrefix("-") && !$0.hasSuffix("-") })
        else { throw error("invalid interface name '\(n)'") }
        return n
    }

    /// Member names start with an upper-case letter.
    mutating func memberName() throws(VarlinkInterface.ParseError) -> String {
        let n = ident { $0.isASCII && ($0.isLetter || $0.isNumber) }
        guard let f = n.first, f.isUppercase else { throw error("invalid member name '\(n)'") }
        return n
    }

    /// Field names start with a letter; letters, digits and underscores follow.
    mutating func fieldName() throws(VarlinkInterface.ParseError) -> String {
        let n = ident { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        guard let f = n.first, f.isLetter else { throw error("invalid field name '\(n)'") }
        return n
    }

    mutating func arrow() throws(VarlinkInterface.ParseError) {
        try expect("-")
        guard i < chars.count, chars[i] == ">" else { throw error("expected '->'") }
        i += 1
    }

    mutating func structFields() throws(VarlinkInterface.ParseError) -> [VarlinkInterface.Field] {
        guard case .structure(let fields) = try structOrEnum(), true else { throw error("expected a struct") }
        return fields
    }

    /// `( a: T, b: U )` or `( x, y, z )` or `()`.
    mutating func structOrEnum() throws(VarlinkInterface.ParseError) -> VarlinkInterface.TypeSpec {
        try expect("(")
        if take(")") { return .structure([]) }
        var fields: [VarlinkInterface.Field] = []
        var cases: [String] = []
        repeat {
            skip()
            let fieldDoc = takeDoc()
            let name = try fieldName()
            if take(":") {
                guard cases.isEmpty else { throw error("mixed enum and struct") }
                guard !fields.contains(where: { $0.name == name }) else { throw error("duplicate field \(name)") }
                fields.append(.init(name: name, type: try typeSpec(), doc: fieldDoc))
            } else {
                guard fields.isEmpty else { throw error("expected ':' after \(name)") }
                guard !cases.contains(name) else { throw error("duplicate enum value \(name)") }
                cases.append(name)
            }
        } while take(",")
        try expect(")")
        doc = []
        return cases.isEmpty ? .structure(fields) : .enumeration(cases)
    }

    mutating func typeSpec() throws(VarlinkInterface.ParseError) -> VarlinkInterface.TypeSpec {
        skip()
        if take("?") {
            let inner = try typeSpec()
            if case .optional = inner { throw error("'??' is not allowed") }
            return .optional(inner)
        }
        if take("[") {
            if take("]") { return .array(try typeSpec()) }
            let k = ident { $0.isLetter }
            guard k == "string", take("]") else { throw error("expected '[]' or '[string]'") }
            return .map(try typeSpec())
        }
        skip()
        if i < chars.count, chars[i] == "(" { return try structOrEnum() }
        let w = ident { $0.isASCII && ($0.isLetter || $0.isNumber) }
        switch w {
        case "bool": return .bool
        case "int": return .int
        case "float": return .float
        case "string": return .string
        case "object": return .object
        default:
            guard let f = w.first, f.isUppercase else { throw error("unknown type '\(w)'") }
            return .named(w)
        }
    }
}
