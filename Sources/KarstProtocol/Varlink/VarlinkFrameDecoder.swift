import NIOCore

/// Splits a byte stream into Varlink messages at each NUL byte.
///
/// Copes with messages split across reads and many messages in one read. A message longer than
/// `maxFrameBytes` is refused as soon as that many bytes have arrived without a NUL — the decoder
/// never buffers more than the limit — by throwing `FrameTooLarge`; the stream cannot be trusted
/// after that, so the connection is answered and closed.
public struct VarlinkFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    /// Thrown when a message exceeds the limit.
    public struct FrameTooLarge: Error, Hashable {
        public var limit: Int
    }

    public let maxFrameBytes: Int
    /// How far the previous call already searched, so a long message is scanned only once.
    private var scanned = 0

    public init(maxFrameBytes: Int) { self.maxFrameBytes = maxFrameBytes }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let readable = buffer.readableBytesView
        let searchFrom = readable.index(readable.startIndex, offsetBy: min(scanned, readable.count))
        guard let nul = readable[searchFrom...].firstIndex(of: 0) else {
            scanned = readable.count
            if readable.count > maxFrameBytes { throw FrameTooLarge(limit: maxFrameBytes) }
            return .needMoreData
        }
        let length = nul - readable.startIndex
        scanned = 0
        if length > maxFrameBytes { throw FrameTooLarge(limit: maxFrameBytes) }
        let frame = buffer.readSlice(length: length)!
        buffer.moveReaderIndex(forwardBy: 1)
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer,
                                    seenEOF: Bool) throws -> DecodingState {
        // A partial message at EOF is dropped: the client went away mid-message.
        while try decode(context: context, buffer: &buffer) == .continue {}
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }
}
