import NIOCore

/// A `jobs` row read as one composite value (`SELECT ROW(…)`), in PostgreSQL's binary format
/// for records — a count of fields, then each field's type OID, its length (-1: NULL) and its
/// bytes — its fields read one after another.
///
/// The connection's event loop only hands each row's one cell over as it arrives; the fields
/// are read on the threads that decode the specs. Reading fourteen cells a row on the event
/// loop (postgres-nio copies each cell, its buffer and its column name) had made that one
/// thread the bound of a million-job load.
struct PostgresRecord {
    private var bytes: ByteBuffer
    private var remaining: Int
    private var field = 0

    /// A field missing, or one whose bytes do not make the type asked for.
    struct Malformed: Error, CustomStringConvertible {
        var field: Int
        var expected: String
        var description: String {
            expected.hasPrefix("NULL") ? "field \(field): \(expected)" : "field \(field): not \(expected)"
        }
    }

    init(_ bytes: ByteBuffer) throws(Malformed) {
        self.bytes = bytes
        guard let n = self.bytes.readInteger(as: Int32.self), n >= 0 else {
            throw Malformed(field: 0, expected: "a record (its count of fields)")
        }
        remaining = Int(n)
    }

    /// Type OIDs the fields may have (`pg_type`).
    static let integerTypes: Set<UInt32> = [20, 21, 23]  // int8, int2, int4
    static let textTypes: Set<UInt32> = [25, 1043]  // text, varchar

    /// Moves to the next field, which must be of one of `types`: its length, its bytes next to
    /// read; nil for NULL.
    private mutating func advance(_ types: Set<UInt32>, _ kind: String) throws(Malformed) -> Int? {
        guard remaining > 0, let type = bytes.readInteger(as: UInt32.self), let length = bytes.readInteger(as: Int32.self) else {
            throw Malformed(field: field, expected: "present (the record is short)")
        }
        remaining -= 1
        field += 1
        guard length < 0 || bytes.readableBytes >= Int(length) else {
            throw Malformed(field: field - 1, expected: "its \(length) bytes")
        }
        guard types.contains(type) else {
            if length > 0 { bytes.moveReaderIndex(forwardBy: Int(length)) }
            throw Malformed(field: field - 1, expected: "\(kind) (its type is OID \(type))")
        }
        return length < 0 ? nil : Int(length)
    }

    /// An integer field (int2, int4 or int8); nil for NULL.
    mutating func integer() throws(Malformed) -> Int64? {
        guard let n = try advance(Self.integerTypes, "an integer") else { return nil }
        let value: Int64?
        switch n {
        case 8: value = bytes.readInteger(as: Int64.self)
        case 4: value = bytes.readInteger(as: Int32.self).map(Int64.init)
        case 2: value = bytes.readInteger(as: Int16.self).map(Int64.init)
        default:
            value = nil
            bytes.moveReaderIndex(forwardBy: n)
        }
        guard let value else { throw Malformed(field: field - 1, expected: "an integer") }
        return value
    }

    /// A text field; nil for NULL.
    mutating func text() throws(Malformed) -> String? {
        guard let n = try advance(Self.textTypes, "text") else { return nil }
        guard let s = bytes.readString(length: n) else { throw Malformed(field: field - 1, expected: "text") }
        return s
    }

    mutating func requiredInteger() throws(Malformed) -> Int64 {
        guard let v = try integer() else { throw Malformed(field: field - 1, expected: "NULL where an integer is required") }
        return v
    }

    mutating func requiredText() throws(Malformed) -> String {
        guard let v = try text() else { throw Malformed(field: field - 1, expected: "NULL where text is required") }
        return v
    }
}
