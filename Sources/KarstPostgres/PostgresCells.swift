import NIOCore
import PostgresNIO
import KarstStore

/// A row's cells read one after another straight from their bytes, in the formats PostgreSQL
/// sends (binary, as postgres-nio asks for them, or text). postgres-nio's generic `decode` of a
/// tuple costs about 3 µs for a `jobs` row — most of a million-job load; this, a tenth of it.
struct PostgresCells {
    private var cells: PostgresRow.Iterator
    private var column = 0

    init(_ row: PostgresRow) { cells = row.makeIterator() }

    /// The cells a row lacked, or one whose bytes do not make the type asked for.
    struct Malformed: Error, CustomStringConvertible {
        var column: Int
        var expected: String
        var description: String {
            expected.hasPrefix("NULL") ? "column \(column): \(expected)" : "column \(column): not \(expected)"
        }
    }

    private mutating func next() throws(Malformed) -> PostgresCell {
        guard let cell = cells.next() else { throw Malformed(column: column, expected: "present (the row is short)") }
        column += 1
        return cell
    }

    /// An integer column (int2, int4 or int8); nil for NULL.
    mutating func integer() throws(Malformed) -> Int64? {
        let cell = try next()
        guard let bytes = cell.bytes else { return nil }
        if cell.format == .binary {
            switch bytes.readableBytes {
            case 8: if let v = bytes.getInteger(at: bytes.readerIndex, as: Int64.self) { return v }
            case 4: if let v = bytes.getInteger(at: bytes.readerIndex, as: Int32.self) { return Int64(v) }
            case 2: if let v = bytes.getInteger(at: bytes.readerIndex, as: Int16.self) { return Int64(v) }
            default: break
            }
        } else if let v = Int64(String(buffer: bytes)) {
            return v
        }
        throw Malformed(column: column - 1, expected: "an integer")
    }

    /// A text column; nil for NULL.
    mutating func text() throws(Malformed) -> String? {
        let cell = try next()
        return cell.bytes.map { String(buffer: $0) }
    }

    mutating func requiredInteger() throws(Malformed) -> Int64 {
        guard let v = try integer() else { throw Malformed(column: column - 1, expected: "NULL where an integer is required") }
        return v
    }

    mutating func requiredText() throws(Malformed) -> String {
        guard let v = try text() else { throw Malformed(column: column - 1, expected: "NULL where text is required") }
        return v
    }
}
