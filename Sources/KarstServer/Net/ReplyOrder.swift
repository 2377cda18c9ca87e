/// The order of one connection's replies, as a value: events in, actions out (handed to the
/// caller's `emit`, in order, so the hot path builds no arrays), no I/O.
///
/// Every call read gets a sequence number (`open`); its reply may be ready at any time, from the
/// connection itself or from the engine, and is written only once every earlier one has been.
/// A `Watch` holds its place while it streams: frames it streams before it reaches the head of
/// the order are held, and go out the moment it does. After a reply marked `closing` is written,
/// the connection closes and nothing more is read.
///
/// Invariants: `nextToWrite ≤ nextSequence`; `ready` holds only keys in
/// `nextToWrite..<nextSequence`; frames are written in sequence order, each exactly once.
struct ReplyOrder {
    /// What the connection must do, in order.
    enum Action: Equatable {
        /// Write this reply (consecutive ones may share a buffer).
        case write([UInt8])
        /// Write this frame of the active watch's stream.
        case writeStream([UInt8])
        /// Flush what was written, then close the connection.
        case close
    }

    private(set) var nextSequence: UInt64 = 0
    private(set) var nextToWrite: UInt64 = 0
    private var ready: [UInt64: [UInt8]] = [:]
    /// The active watch: its call's sequence number and id, and stream frames held until its
    /// place reaches the head.
    private(set) var watch: (sequence: UInt64, id: UInt64)?
    private var heldStream: [[UInt8]] = []
    /// Close after this call's reply is written.
    private(set) var closeAfter: UInt64?
    /// `close` was emitted: nothing more is written.
    private var done = false

    /// Calls read whose replies are not written yet.
    var inFlight: Int { Int(nextSequence - nextToWrite) }

    /// Whether the connection may read more: fewer than `limit` calls in flight and not closing.
    func mayRead(limit: Int) -> Bool { inFlight < limit && closeAfter == nil }

    /// Whether the connection is closing (reads are ignored).
    var isClosing: Bool { closeAfter != nil }

    /// A call was read: its place in the order.
    mutating func open() -> UInt64 {
        defer { nextSequence += 1 }
        return nextSequence
    }

    /// The call at `sequence` starts a watch with `id`.
    mutating func startWatch(sequence: UInt64, id: UInt64) {
        watch = (sequence, id)
        heldStream.removeAll()
    }

    /// The reply of `sequence` is ready (an empty frame: a oneway call, nothing to write).
    /// `closing`: close once it is written. A reply to the active watch's call ends the watch,
    /// and drops frames it held (a later watch must not inherit them).
    mutating func reply(_ sequence: UInt64, _ frame: [UInt8], closing: Bool = false, emit: (Action) -> Void) {
        guard !done, sequence >= nextToWrite, sequence < nextSequence, ready[sequence] == nil else { return }
        if let w = watch, w.sequence == sequence {
            watch = nil
            heldStream.removeAll()
        }
        if closing, closeAfter == nil { closeAfter = sequence }
        ready[sequence] = frame
        drain(emit)
    }

    /// A frame streamed by the active watch: written now if the watch is at the head, else held.
    mutating func stream(_ frame: [UInt8], emit: (Action) -> Void) {
        guard let w = watch, closeAfter == nil else { return }
        if w.sequence == nextToWrite { return emit(.writeStream(frame)) }
        heldStream.append(frame)
    }

    /// The connection is gone: the watch to end, if one was active. Nothing more is written.
    mutating func closed() -> UInt64? {
        defer {
            watch = nil
            heldStream.removeAll()
            ready.removeAll()
        }
        return watch?.id
    }

    private mutating func drain(_ emit: (Action) -> Void) {
        while let frame = ready.removeValue(forKey: nextToWrite) {
            if !frame.isEmpty { emit(.write(frame)) }
            nextToWrite += 1
            if closeAfter == nextToWrite - 1 {
                done = true
                emit(.close)
                ready.removeAll()
                return
            }
        }
        if let w = watch, w.sequence == nextToWrite, !heldStream.isEmpty {
            for frame in heldStream { emit(.writeStream(frame)) }
            heldStream.removeAll()
        }
    }
}
