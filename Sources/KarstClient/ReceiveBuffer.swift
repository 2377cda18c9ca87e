#if canImport(Glibc)
import Glibc
#endif

/// The bytes a connection has read and not yet handed out, in one `malloc`ed block that reads
/// land in directly.
///
/// Nothing is zeroed or copied on the way in: a 64 KiB staging array, zeroed at every
/// connection, was 16 of a `karstctl submit`'s 190 page faults, and copying each read into a
/// growing array touched every page of a 330 kB reply three times. The block grows with
/// `realloc` (which moves large blocks by remapping, not copying) and is compacted when what is
/// left is small.
///
/// Invariant: `0 <= start <= end <= capacity`; bytes `start..<end` are read and not handed out.
final class ReceiveBuffer {
    private var base: UnsafeMutableRawPointer
    private var capacity: Int
    private var start = 0
    private var end = 0
    /// Where the search for the next NUL resumes (bytes before it have none).
    private var scanned = 0

    /// Each read asks for at least this much room.
    static let readSize = 65_536

    init() {
        capacity = Self.readSize
        base = malloc(capacity)!
    }

    deinit { free(base) }

    /// The next NUL-terminated frame without its NUL, if one is complete; the bytes stay valid
    /// until the next call on this buffer.
    func nextFrame() -> UnsafeBufferPointer<UInt8>? {
        guard scanned < end, let nul = memchr(base + scanned, 0, end - scanned) else {
            scanned = end
            return nil
        }
        let at = UnsafeRawPointer(nul) - UnsafeRawPointer(base)
        let frame = UnsafeBufferPointer(start: (base + start).assumingMemoryBound(to: UInt8.self), count: at - start)
        start = at + 1
        scanned = start
        if start == end { start = 0; end = 0; scanned = 0 }
        return frame
    }

    /// Reads once through `read` (given the free room; returns the count, 0 at end of stream)
    /// onto the end of the buffer.
    func fill(_ read: (UnsafeMutableRawBufferPointer) throws(ClientError) -> Int) throws(ClientError) -> Int {
        makeRoom()
        let n = try read(UnsafeMutableRawBufferPointer(start: base + end, count: capacity - end))
        if n > 0 { end += n }
        return n
    }

    private func makeRoom() {
        guard capacity - end < Self.readSize else { return }
        if start > 0 && end - start <= capacity / 2 {
            // Little is left: move it to the front rather than grow.
            memmove(base, base + start, end - start)
            end -= start
            scanned -= start
            start = 0
            if capacity - end >= Self.readSize { return }
        }
        capacity = max(capacity * 2, end + Self.readSize)
        base = realloc(base, capacity)!
    }
}
