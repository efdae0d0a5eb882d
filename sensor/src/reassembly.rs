//! Per-direction TCP reassembly: in-order delivery, a bounded out-of-order
//! hold, retransmission dedupe, and explicit gaps when a hole cannot be filled.

use crate::stats::Stats;

/// Bytes delivered to the application layer, in stream order.
#[derive(Debug, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// The next bytes of the stream.
    Data(&'a [u8]),
    /// Bytes that will never arrive; the stream continues after them.
    Gap {
        /// How many bytes were lost.
        lost: u64,
    },
}

/// Limits of one direction's out-of-order hold.
#[derive(Debug, Clone, Copy)]
pub struct HoldLimits {
    /// Largest distance ahead of the next expected byte a held segment may end at.
    pub window_bytes: usize,
    /// Most segments held.
    pub max_segments: usize,
}

/// The reassembly memory all flows share: out-of-order segments and partial PDUs.
#[derive(Debug)]
pub struct Budget {
    used: usize,
    cap: usize,
}

impl Budget {
    /// A budget of `cap` bytes.
    pub fn new(cap: usize) -> Self {
        Budget { used: 0, cap }
    }

    /// Reserves `n` bytes; false when the budget cannot hold them.
    pub fn take(&mut self, n: usize) -> bool {
        match self.used.checked_add(n) {
            Some(total) if total <= self.cap => {
                self.used = total;
                true
            }
            _ => false,
        }
    }

    /// Returns `n` bytes to the budget.
    pub fn release(&mut self, n: usize) {
        self.used = self.used.saturating_sub(n);
    }

    /// Bytes in use.
    pub fn used(&self) -> usize {
        self.used
    }
}

/// What the reassembler needs from its surroundings: the shared memory
/// budget and its counters. The delivery callback receives the same context,
/// so it can reach the rest of the analysis without a second borrow.
pub trait ReassemblyContext {
    /// The budget held segments are charged to.
    fn budget(&mut self) -> &mut Budget;
    /// The counters to update (`reassembly` and `shed.reassembly_holds`).
    fn stats(&mut self) -> &mut Stats;
}

#[derive(Debug)]
struct Held {
    seq: u32,
    data: Box<[u8]>,
}

/// Reassembly state of one direction of a TCP connection.
#[derive(Debug, Default)]
pub struct Reassembler {
    next_seq: Option<u32>,
    held: Vec<Held>,
    held_bytes: usize,
}

/// Signed distance from `from` to `to` in sequence space.
fn seq_distance(from: u32, to: u32) -> i64 {
    i64::from(to.wrapping_sub(from) as i32)
}

impl Reassembler {
    /// A SYN fixes the initial sequence number: data starts one after it.
    pub fn syn(&mut self, isn: u32, budget: &mut Budget) {
        self.clear(budget);
        self.next_seq = Some(isn.wrapping_add(1));
    }

    /// Whether the stream position is known (a SYN or data was seen).
    pub fn is_started(&self) -> bool {
        self.next_seq.is_some()
    }

    /// Bytes held out of order.
    pub fn held_bytes(&self) -> usize {
        self.held_bytes
    }

    /// Accepts one segment's payload and delivers whatever is now in order.
    pub fn segment<C: ReassemblyContext>(
        &mut self,
        seq: u32,
        data: &[u8],
        limits: HoldLimits,
        ctx: &mut C,
        sink: &mut impl FnMut(Chunk<'_>, &mut C),
    ) {
        if data.is_empty() {
            return;
        }
        // Mid-stream pickup: the first bytes seen set the position.
        let mut next = *self.next_seq.get_or_insert(seq);
        loop {
            let offset = seq_distance(next, seq);
            if offset <= 0 {
                self.deliver_from(next, seq, data, ctx, sink);
                self.drain(ctx, sink);
                return;
            }
            // Ahead of a hole: hold it, unless this exact segment is already held.
            if self
                .held
                .iter()
                .any(|h| h.seq == seq && h.data.len() >= data.len())
            {
                ctx.stats().reassembly.retransmitted_bytes += data.len() as u64;
                return;
            }
            let end = usize::try_from(offset)
                .unwrap_or(usize::MAX)
                .saturating_add(data.len());
            let fits = end <= limits.window_bytes
                && self.held.len() < limits.max_segments
                && ctx.budget().take(data.len());
            if fits {
                ctx.stats().reassembly.out_of_order_segments += 1;
                self.held.push(Held {
                    seq,
                    data: data.into(),
                });
                self.held_bytes += data.len();
                return;
            }
            // A limit is reached: the earliest hole will not be filled in time.
            ctx.stats().shed.reassembly_holds += 1;
            self.skip_to_earliest(Some(seq), ctx, sink);
            self.drain(ctx, sink);
            match self.next_seq {
                Some(n) => next = n,
                None => return,
            }
        }
    }

    /// Delivers the part of a segment starting at `seq` that lies at or after `next`.
    fn deliver_from<C: ReassemblyContext>(
        &mut self,
        next: u32,
        seq: u32,
        data: &[u8],
        ctx: &mut C,
        sink: &mut impl FnMut(Chunk<'_>, &mut C),
    ) {
        let overlap = usize::try_from(seq_distance(seq, next)).unwrap_or(usize::MAX);
        match data.get(overlap..).filter(|rest| !rest.is_empty()) {
            Some(fresh) => {
                ctx.stats().reassembly.retransmitted_bytes += overlap as u64;
                self.advance(fresh.len());
                sink(Chunk::Data(fresh), ctx);
            }
            None => ctx.stats().reassembly.retransmitted_bytes += data.len() as u64,
        }
    }

    /// The peer acknowledged everything before `ack`. A hole below that was
    /// received by the peer but not captured (tshark's "ACKed unseen segment"):
    /// it will never be filled, so it is declared lost now, as capture loss and
    /// not shedding, and what is held after it is delivered.
    pub fn peer_acked<C: ReassemblyContext>(
        &mut self,
        ack: u32,
        ctx: &mut C,
        sink: &mut impl FnMut(Chunk<'_>, &mut C),
    ) {
        // Only once the acknowledgment reaches held data is the whole hole before
        // it certainly lost: bytes between an earlier ack and the held data may
        // still be captured.
        while let Some(next) = self.next_seq {
            let earliest = self
                .held
                .iter()
                .map(|h| h.seq)
                .min_by_key(|&s| seq_distance(next, s));
            match earliest {
                Some(earliest) if seq_distance(earliest, ack) >= 0 => {
                    self.skip_to_earliest(None, ctx, sink);
                    self.drain(ctx, sink);
                }
                _ => return,
            }
        }
    }

    /// Delivers everything held, declaring every remaining hole lost. Used when
    /// the flow closes or is evicted, so no captured PDU goes uncounted.
    pub fn flush<C: ReassemblyContext>(
        &mut self,
        ctx: &mut C,
        sink: &mut impl FnMut(Chunk<'_>, &mut C),
    ) {
        while !self.held.is_empty() {
            self.skip_to_earliest(None, ctx, sink);
            self.drain(ctx, sink);
        }
    }

    /// Drops held data without delivering it.
    pub fn clear(&mut self, budget: &mut Budget) {
        budget.release(self.held_bytes);
        self.held.clear();
        self.held_bytes = 0;
    }

    fn advance(&mut self, n: usize) {
        if let Some(next) = self.next_seq.as_mut() {
            *next = next.wrapping_add(n as u32);
        }
    }

    /// Jumps the stream position to the earliest held segment (or `extra`, if earlier).
    fn skip_to_earliest<C: ReassemblyContext>(
        &mut self,
        extra: Option<u32>,
        ctx: &mut C,
        sink: &mut impl FnMut(Chunk<'_>, &mut C),
    ) {
        let Some(next) = self.next_seq else { return };
        let target = self
            .held
            .iter()
            .map(|h| h.seq)
            .chain(extra)
            .min_by_key(|&s| seq_distance(next, s));
        if let Some(target) = target {
            let lost = seq_distance(next, target);
            if lost > 0 {
                ctx.stats().reassembly.gaps += 1;
                ctx.stats().reassembly.gap_bytes += lost.unsigned_abs();
                self.next_seq = Some(target);
                sink(
                    Chunk::Gap {
                        lost: lost.unsigned_abs(),
                    },
                    ctx,
                );
            }
        }
    }

    /// Delivers held segments that are now in order.
    fn drain<C: ReassemblyContext>(
        &mut self,
        ctx: &mut C,
        sink: &mut impl FnMut(Chunk<'_>, &mut C),
    ) {
        while let Some(next) = self.next_seq {
            let Some(index) = self
                .held
                .iter()
                .position(|h| seq_distance(next, h.seq) <= 0)
            else {
                break;
            };
            let held = self.held.swap_remove(index);
            self.held_bytes -= held.data.len();
            ctx.budget().release(held.data.len());
            self.deliver_from(next, held.seq, &held.data, ctx, sink);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LIMITS: HoldLimits = HoldLimits {
        window_bytes: 1024,
        max_segments: 4,
    };

    struct Ctx {
        budget: Budget,
        stats: Stats,
        out: Vec<u8>,
        gaps: Vec<u64>,
    }

    impl ReassemblyContext for Ctx {
        fn budget(&mut self) -> &mut Budget {
            &mut self.budget
        }
        fn stats(&mut self) -> &mut Stats {
            &mut self.stats
        }
    }

    fn collect(chunk: Chunk<'_>, ctx: &mut Ctx) {
        match chunk {
            Chunk::Data(d) => ctx.out.extend_from_slice(d),
            Chunk::Gap { lost } => ctx.gaps.push(lost),
        }
    }

    struct Harness {
        r: Reassembler,
        ctx: Ctx,
    }

    impl Harness {
        fn new(budget: usize) -> Self {
            Harness {
                r: Reassembler::default(),
                ctx: Ctx {
                    budget: Budget::new(budget),
                    stats: Stats::default(),
                    out: Vec::new(),
                    gaps: Vec::new(),
                },
            }
        }
        fn push_with(&mut self, seq: u32, data: &[u8], limits: HoldLimits) {
            self.r
                .segment(seq, data, limits, &mut self.ctx, &mut collect);
        }
        fn push(&mut self, seq: u32, data: &[u8]) {
            self.push_with(seq, data, LIMITS);
        }
        fn flush(&mut self) {
            self.r.flush(&mut self.ctx, &mut collect);
        }
    }

    #[test]
    fn in_order_out_of_order_and_retransmission() {
        let mut h = Harness::new(1 << 20);
        h.r.syn(u32::MAX - 2, &mut h.ctx.budget); // wraps around zero
        let base = u32::MAX - 1;
        h.push(base, b"abc");
        h.push(base.wrapping_add(6), b"ghi"); // ahead of a hole
        h.push(base.wrapping_add(3), b"def"); // fills it
        h.push(base.wrapping_add(3), b"def"); // retransmission
        h.push(base.wrapping_add(7), b"hijk"); // overlaps the end
        assert_eq!(h.ctx.out, b"abcdefghijk");
        assert!(h.ctx.gaps.is_empty());
        assert_eq!(h.ctx.stats.reassembly.retransmitted_bytes, 3 + 2); // "def" again, "hi" overlapped
        assert_eq!(h.ctx.budget.used(), 0);
    }

    #[test]
    fn hole_never_filled_becomes_gap_at_flush() {
        let mut h = Harness::new(1 << 20);
        h.push(100, b"ab");
        h.push(110, b"xy");
        h.flush();
        assert_eq!(h.ctx.out, b"abxy");
        assert_eq!(h.ctx.gaps, vec![8]);
        assert_eq!(h.ctx.budget.used(), 0);
    }

    #[test]
    fn full_hold_forces_gap() {
        let mut h = Harness::new(1 << 20);
        h.push(0, b"a");
        for i in 0..5u32 {
            h.push(10 + i * 10, b"z");
        }
        // Four held; the fifth forced the earliest hole closed.
        assert_eq!(h.ctx.stats.shed.reassembly_holds, 1);
        assert_eq!(h.ctx.gaps.first(), Some(&9));
        h.flush();
        assert_eq!(h.ctx.out, b"azzzzz");
    }

    #[test]
    fn a_hole_the_peer_acknowledged_is_lost_at_once() {
        let mut h = Harness::new(1 << 20);
        h.push(0, b"ab");
        h.push(10, b"kl");
        h.r.peer_acked(5, &mut h.ctx, &mut collect); // not past the hole's data yet: 2..10 may come
        assert_eq!(h.ctx.out, b"ab");
        h.r.peer_acked(12, &mut h.ctx, &mut collect);
        assert_eq!(h.ctx.out, b"abkl");
        assert_eq!(h.ctx.gaps, vec![8]);
        assert_eq!(
            h.ctx.stats.shed.reassembly_holds, 0,
            "capture loss is not shedding"
        );
    }

    #[test]
    fn exhausted_budget_forces_gap_instead_of_allocating() {
        let mut h = Harness::new(2);
        h.push(0, b"a");
        h.push(5, b"bbb");
        assert_eq!(h.ctx.budget.used(), 0);
        assert_eq!(h.ctx.out, b"abbb");
        assert_eq!(h.ctx.gaps, vec![4]);
    }

    #[test]
    fn segment_beyond_window_forces_gap() {
        let mut h = Harness::new(1 << 20);
        h.push(0, b"a");
        h.push(5000, b"far");
        assert_eq!(h.ctx.out, b"afar");
        assert_eq!(h.ctx.gaps, vec![4999]);
    }

    proptest! {
        /// Any permutation of segments, with duplicates, reassembles to the original
        /// stream when nothing is lost and the hold is large enough.
        #[test]
        fn permuted_segments_reassemble(
            cuts in proptest::collection::vec(1usize..40, 1..12),
            order in proptest::collection::vec(any::<proptest::sample::Index>(), 1..12),
            isn in any::<u32>(),
        ) {
            let stream: Vec<u8> = (0..cuts.iter().sum::<usize>()).map(|i| i as u8).collect();
            let mut segs = Vec::new();
            let mut at = 0;
            for len in &cuts {
                segs.push((at, *len));
                at += len;
            }
            let mut h = Harness::new(1 << 20);
            let big = HoldLimits { window_bytes: 1 << 16, max_segments: 64 };
            h.r.syn(isn, &mut h.ctx.budget);
            let mut pushes: Vec<(usize, usize)> = order.iter().map(|i| *i.get(&segs)).collect();
            pushes.extend(segs.iter().copied());
            for (start, len) in pushes {
                let seq = isn.wrapping_add(1).wrapping_add(start as u32);
                h.push_with(seq, &stream[start..start + len], big);
            }
            h.flush();
            prop_assert_eq!(&h.ctx.out, &stream);
            prop_assert!(h.ctx.gaps.is_empty());
            prop_assert_eq!(h.ctx.budget.used(), 0);
        }

        /// With tight limits and arbitrary segments, memory stays within the limits
        /// and the budget returns to zero after a flush.
        #[test]
        fn tight_limits_hold_bounded(
            segs in proptest::collection::vec((0u32..5000, proptest::collection::vec(any::<u8>(), 1..300)), 1..40),
        ) {
            let mut h = Harness::new(700);
            for (seq, data) in &segs {
                h.push(*seq, data);
                prop_assert!(h.ctx.budget.used() <= 700);
                prop_assert!(h.r.held_bytes() <= 1024);
            }
            h.flush();
            prop_assert_eq!(h.ctx.budget.used(), 0);
        }
    }
}
