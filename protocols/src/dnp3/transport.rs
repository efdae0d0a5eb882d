//! The DNP3 transport function (IEEE 1815-2012 clause 8): the one-byte
//! segment header and the reassembly of application fragments.
//!
//! ```text
//!   7     6     5..0
//!  FIN | FIR | sequence      then 0-249 bytes of an application fragment
//! ```
//!
//! A segment is the CRC-stripped user data of one link frame. The first
//! segment of a fragment has FIR set, the last FIN; the sequence counts
//! modulo 64 from any start. [`Reassembler`] keeps one fragment in progress
//! for one direction of one link-address pair, bounded by a maximum size.
//!
//! Panic contract: no function here panics, whatever the input.

/// Length of the transport header.
pub const HEADER_LEN: usize = 1;

/// Most application bytes one segment carries: the link's 250 bytes of user
/// data less the transport header.
pub const MAX_SEGMENT_DATA: usize = super::link::MAX_USER_DATA_LEN - HEADER_LEN;

/// The header byte of a transport segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TransportHeader {
    /// FIN: the last segment of a fragment.
    pub fin: bool,
    /// FIR: the first segment of a fragment.
    pub fir: bool,
    /// Sequence number, 0-63.
    pub sequence: u8,
}

impl TransportHeader {
    /// The FIN bit.
    pub const FIN: u8 = 0x80;
    /// The FIR bit.
    pub const FIR: u8 = 0x40;
    /// The sequence bits.
    pub const SEQUENCE: u8 = 0x3F;

    /// Decodes the header byte.
    pub const fn from_byte(byte: u8) -> Self {
        TransportHeader {
            fin: byte & Self::FIN != 0,
            fir: byte & Self::FIR != 0,
            sequence: byte & Self::SEQUENCE,
        }
    }

    /// Encodes the header byte (the sequence taken modulo 64).
    pub const fn to_byte(self) -> u8 {
        let mut byte = self.sequence & Self::SEQUENCE;
        if self.fin {
            byte |= Self::FIN;
        }
        if self.fir {
            byte |= Self::FIR;
        }
        byte
    }
}

/// The sequence number after `sequence`, modulo 64.
pub const fn next_sequence(sequence: u8) -> u8 {
    sequence.wrapping_add(1) & TransportHeader::SEQUENCE
}

/// Splits a segment (the CRC-stripped user data of one link frame) into its
/// header and application bytes; `None` for an empty segment.
pub fn split(segment: &[u8]) -> Option<(TransportHeader, &[u8])> {
    let (&first, rest) = segment.split_first()?;
    Some((TransportHeader::from_byte(first), rest))
}

/// Appends one segment: the header byte and `data`.
pub fn encode(out: &mut Vec<u8>, header: TransportHeader, data: &[u8]) {
    out.push(header.to_byte());
    out.extend_from_slice(data);
}

/// The segments of one fragment: pieces of at most [`MAX_SEGMENT_DATA`]
/// bytes, FIR on the first, FIN on the last, sequence numbers counting from
/// `first_sequence`. An empty fragment gives one empty FIR+FIN segment.
pub fn segments(fragment: &[u8], first_sequence: u8) -> Segments<'_> {
    Segments {
        rest: fragment,
        sequence: first_sequence & TransportHeader::SEQUENCE,
        first: true,
        done: false,
    }
}

/// Iterator of [`segments`].
#[derive(Debug, Clone)]
pub struct Segments<'a> {
    rest: &'a [u8],
    sequence: u8,
    first: bool,
    done: bool,
}

impl<'a> Iterator for Segments<'a> {
    type Item = (TransportHeader, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let (piece, rest) = self.rest.split_at(self.rest.len().min(MAX_SEGMENT_DATA));
        let header = TransportHeader {
            fin: rest.is_empty(),
            fir: self.first,
            sequence: self.sequence,
        };
        self.rest = rest;
        self.done = rest.is_empty();
        self.first = false;
        self.sequence = next_sequence(self.sequence);
        Some((header, piece))
    }
}

/// What one segment did to the fragment in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assembly<'a> {
    /// A fragment is complete (this segment had FIN); it borrows from the
    /// reassembler until the next [`Reassembler::push`].
    Complete(&'a [u8]),
    /// The segment was added; more are expected.
    Pending,
    /// A segment without FIR whose sequence is not the one expected: the
    /// fragment in progress was discarded.
    SequenceError,
    /// The fragment grew past the maximum size: it was discarded.
    Overflow,
    /// A segment without FIR and no fragment in progress: ignored.
    NoStart,
}

impl Assembly<'_> {
    /// The outcome in `snake_case`.
    pub const fn name(&self) -> &'static str {
        match self {
            Assembly::Complete(_) => "complete",
            Assembly::Pending => "pending",
            Assembly::SequenceError => "sequence_error",
            Assembly::Overflow => "overflow",
            Assembly::NoStart => "no_start",
        }
    }
}

/// Bounded reassembly of application fragments from transport segments, for
/// one direction of one link-address pair.
///
/// A segment with FIR starts a new fragment (a fragment in progress is
/// dropped: [`Reassembler::is_pending`] tells beforehand); each following
/// segment must carry the next sequence number. The buffer never grows past
/// `max_fragment` bytes.
#[derive(Debug, Clone, Default)]
pub struct Reassembler {
    buf: Vec<u8>,
    max_fragment: usize,
    /// The sequence the next segment must carry, while a fragment is in progress.
    expected: Option<u8>,
}

impl Reassembler {
    /// A reassembler for fragments of at most `max_fragment` bytes (2048 is
    /// the usual default of masters and outstations).
    pub fn new(max_fragment: usize) -> Self {
        Reassembler {
            buf: Vec::new(),
            max_fragment,
            expected: None,
        }
    }

    /// The largest fragment accepted.
    pub const fn max_fragment(&self) -> usize {
        self.max_fragment
    }

    /// True while a fragment is in progress (FIR seen, FIN not yet).
    pub const fn is_pending(&self) -> bool {
        self.expected.is_some()
    }

    /// Bytes of the fragment in progress (0 when none).
    pub fn pending_len(&self) -> usize {
        if self.is_pending() { self.buf.len() } else { 0 }
    }

    /// Drops any fragment in progress (after a gap in the capture, a link reset).
    pub fn reset(&mut self) {
        self.buf.clear();
        self.expected = None;
    }

    /// Adds one segment's header and application bytes.
    pub fn push<'s>(&'s mut self, header: TransportHeader, data: &[u8]) -> Assembly<'s> {
        if header.fir {
            self.buf.clear();
        } else {
            match self.expected {
                None => return Assembly::NoStart,
                Some(expected) if expected != header.sequence & TransportHeader::SEQUENCE => {
                    self.reset();
                    return Assembly::SequenceError;
                }
                Some(_) => {}
            }
        }
        if self.buf.len().saturating_add(data.len()) > self.max_fragment {
            self.reset();
            return Assembly::Overflow;
        }
        self.buf.extend_from_slice(data);
        if header.fin {
            self.expected = None;
            Assembly::Complete(&self.buf)
        } else {
            self.expected = Some(next_sequence(header.sequence));
            Assembly::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(fir: bool, fin: bool, sequence: u8) -> TransportHeader {
        TransportHeader { fin, fir, sequence }
    }

    #[test]
    fn header_byte_round_trips() {
        // dnp3-iti-full-exchange.pcap: transport 0xC0 = FIN, FIR, sequence 0.
        assert_eq!(TransportHeader::from_byte(0xC0), h(true, true, 0));
        assert_eq!(TransportHeader::from_byte(0x7F), h(true, false, 63));
        for byte in 0..=255u8 {
            assert_eq!(TransportHeader::from_byte(byte).to_byte(), byte);
        }
        assert_eq!(
            split(&[0x81, 1, 2]),
            Some((h(false, true, 1), &[1u8, 2][..]))
        );
        assert_eq!(split(&[]), None);
    }

    #[test]
    fn reassembles_in_sequence() {
        let mut r = Reassembler::new(100);
        assert_eq!(r.push(h(true, false, 62), b"ab"), Assembly::Pending);
        assert!(r.is_pending());
        assert_eq!(r.push(h(false, false, 63), b"cd"), Assembly::Pending);
        assert_eq!(r.pending_len(), 4);
        assert_eq!(
            r.push(h(false, true, 0), b"ef"),
            Assembly::Complete(b"abcdef")
        );
        assert!(!r.is_pending());
        assert_eq!(r.push(h(false, true, 1), b"gh"), Assembly::NoStart);
        assert_eq!(r.push(h(true, true, 5), b"x"), Assembly::Complete(b"x"));
    }

    #[test]
    fn discards_on_errors() {
        let mut r = Reassembler::new(4);
        assert_eq!(r.push(h(true, false, 0), b"ab"), Assembly::Pending);
        assert_eq!(r.push(h(false, false, 2), b"cd"), Assembly::SequenceError);
        assert!(!r.is_pending());
        assert_eq!(r.push(h(true, false, 0), b"ab"), Assembly::Pending);
        assert_eq!(r.push(h(false, false, 1), b"cde"), Assembly::Overflow);
        assert_eq!(r.push(h(false, true, 2), b""), Assembly::NoStart);
        assert_eq!(r.push(h(true, true, 0), b"abcde"), Assembly::Overflow);
        // A new FIR drops the fragment in progress.
        assert_eq!(r.push(h(true, false, 9), b"zz"), Assembly::Pending);
        assert_eq!(r.push(h(true, true, 3), b"ok"), Assembly::Complete(b"ok"));
        r.reset();
        assert_eq!(r.pending_len(), 0);
        assert_eq!(Assembly::Overflow.name(), "overflow");
    }

    #[test]
    fn segments_cover_the_fragment() {
        let fragment: Vec<u8> = (0..=255u8).cycle().take(600).collect();
        let parts: Vec<_> = segments(&fragment, 62).collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0].0, h(true, false, 62));
        assert_eq!(parts[1].0, h(false, false, 63));
        assert_eq!(parts[2].0, h(false, true, 0));
        assert_eq!(
            parts.iter().map(|(_, d)| d.len()).collect::<Vec<_>>(),
            [249, 249, 102]
        );
        let mut r = Reassembler::new(2048);
        let mut done = None;
        for (header, data) in parts {
            if let Assembly::Complete(f) = r.push(header, data) {
                done = Some(f.to_vec());
            }
        }
        assert_eq!(done.as_deref(), Some(&fragment[..]));
        assert_eq!(
            segments(&[], 0).collect::<Vec<_>>(),
            [(h(true, true, 0), &[][..])]
        );
    }
}
