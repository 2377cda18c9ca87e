import NIOCore
import PostgresNIO

/// A one-dimensional PostgreSQL array, in the binary format, whose elements may be NULL —
/// postgres-nio's own `Array` encoding writes none (its header says "no NULLs").
///
/// A commit passes its rows as one such array per column (`unnest` in `karst_commit_v2`):
/// binary, each value length-prefixed, nothing to escape or parse, where JSON cost the database
/// half of what inserting the rows did.
struct NullableArray<Element: PostgresArrayEncodable & PostgresNonThrowingEncodable>: PostgresNonThrowingEncodable {
    var elements: [Element?] = []

    static var psqlType: PostgresDataType { Element.psqlArrayType }
    static var psqlFormat: PostgresFormat { .binary }

    mutating func append(_ element: Element?) { elements.append(element) }
    mutating func reserveCapacity(_ n: Int) { elements.reserveCapacity(n) }

    func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer,
                                                  context: PostgresEncodingContext<JSONEncoder>) {
        buffer.writeInteger(elements.isEmpty ? 0 : 1, as: Int32.self)  // dimensions
        buffer.writeInteger(elements.contains { $0 == nil } ? 1 : 0, as: Int32.self)  // holds NULLs
        buffer.writeInteger(Element.psqlType.rawValue)
        guard !elements.isEmpty else { return }
        buffer.writeInteger(Int32(clamping: elements.count))
        buffer.writeInteger(1, as: Int32.self)  // lower bound
        for element in elements {
            guard let element else {
                buffer.writeInteger(-1, as: Int32.self)
                continue
            }
            let lengthAt = buffer.writerIndex
            buffer.writeInteger(0, as: Int32.self)
            element.encode(into: &buffer, context: context)
            buffer.setInteger(Int32(clamping: buffer.writerIndex - lengthAt - 4), at: lengthAt)
        }
    }
}
