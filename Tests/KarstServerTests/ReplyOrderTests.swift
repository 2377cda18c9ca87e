@testable import KarstServer
import Testing

/// The connection's reply order as a value: events in, actions out.
@Suite struct ReplyOrderTests {
    typealias A = ReplyOrder.Action
    let a: [UInt8] = [1], b: [UInt8] = [2], c: [UInt8] = [3]

    @Test func repliesGoOutInCallOrderWhateverOrderTheyArriveIn() {
        var o = ReplyOrder()
        let s0 = o.open(), s1 = o.open(), s2 = o.open()
        #expect(o.replied(s2, c) == [])
        #expect(o.replied(s1, b) == [])
        #expect(o.inFlight == 3)
        #expect(o.replied(s0, a) == [.write(a), .write(b), .write(c)])
        #expect(o.inFlight == 0)
    }

    @Test func aOnewayCallUsesItsPlaceAndWritesNothing() {
        var o = ReplyOrder()
        let s0 = o.open(), s1 = o.open()
        #expect(o.replied(s1, b) == [])
        #expect(o.replied(s0, []) == [.write(b)])
        let s2 = o.open()
        #expect(o.replied(s2, []) == [])
        #expect(o.inFlight == 0)
    }

    @Test func aSecondReplyForOneCallIsIgnored() {
        var o = ReplyOrder()
        let s0 = o.open(), s1 = o.open()
        #expect(o.replied(s1, b) == [])
        #expect(o.replied(s1, c) == [])
        #expect(o.replied(s0, a) == [.write(a), .write(b)])
        #expect(o.replied(s0, a) == [])
        #expect(o.replied(7, a) == [])  // never opened
    }

    @Test func aClosingReplyIsTheLastOneWritten() {
        var o = ReplyOrder()
        let s0 = o.open(), s1 = o.open(), s2 = o.open()
        #expect(o.replied(s2, c) == [])
        #expect(o.replied(s1, b, closing: true) == [])
        #expect(!o.mayRead(limit: 100))
        #expect(o.replied(s0, a) == [.write(a), .write(b), .close])
        // Nothing after the close, even a reply that was due.
        #expect(o.replied(s2, c) == [])
    }

    @Test func backpressureCountsCallsInFlight() {
        var o = ReplyOrder()
        let s0 = o.open()
        _ = o.open()
        #expect(!o.mayRead(limit: 2))
        #expect(o.mayRead(limit: 3))
        _ = o.replied(s0, a)
        #expect(o.mayRead(limit: 2))
    }

    @Test func aWatchStreamsOnlyOnceItIsAtTheHead() {
        var o = ReplyOrder()
        let s0 = o.open(), s1 = o.open()
        o.startWatch(sequence: s1, id: 9)
        // The watch's events wait behind the call before it.
        #expect(o.streamed(b) == [])
        #expect(o.streamed(c) == [])
        #expect(o.replied(s0, a) == [.write(a), .writeStream(b), .writeStream(c)])
        #expect(o.streamed(a) == [.writeStream(a)])
        // Calls after the watch wait for its end.
        let s2 = o.open()
        #expect(o.replied(s2, c) == [])
        #expect(o.replied(s1, b) == [.write(b), .write(c)])
        #expect(o.watch == nil)
        #expect(o.streamed(a) == [])
    }

    @Test func aWatchEndedBeforeTheHeadDropsWhatItHeld() {
        var o = ReplyOrder()
        let s0 = o.open(), s1 = o.open()
        o.startWatch(sequence: s1, id: 9)
        #expect(o.streamed(b) == [])
        #expect(o.replied(s1, c) == [])  // ended (SlowConsumer) while still behind s0
        #expect(o.replied(s0, a) == [.write(a), .write(c)])
    }

    @Test func closingForgetsTheWatch() {
        var o = ReplyOrder()
        let s0 = o.open()
        o.startWatch(sequence: s0, id: 4)
        #expect(o.closed() == 4)
        #expect(o.closed() == nil)
        #expect(o.streamed(a) == [])
    }
}

extension ReplyOrder {
    /// `reply`, its actions collected.
    mutating func replied(_ sequence: UInt64, _ frame: [UInt8], closing: Bool = false) -> [Action] {
        var out: [Action] = []
        reply(sequence, frame, closing: closing) { out.append($0) }
        return out
    }

    /// `stream`, its actions collected.
    mutating func streamed(_ frame: [UInt8]) -> [Action] {
        var out: [Action] = []
        stream(frame) { out.append($0) }
        return out
    }
}
