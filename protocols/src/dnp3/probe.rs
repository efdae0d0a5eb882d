//! Content recognition of DNP3, on any port, over TCP or UDP.
//!
//! A DNP3 stream or datagram starts with a link header: `05 64`, a length
//! field of at least 5 and a CRC-16/DNP over the eight bytes before it. The
//! CRC makes the check decisive: a random ten bytes pass with probability
//! 2^-32 (start bytes) times 2^-16 (CRC). Modbus/TCP, TPKT, HTTP and TLS fail
//! at the first byte or the length field.
//!
//! Panic contract: no function here panics, whatever the input.

use crate::stream::Probe;

use super::link::{self, HEADER_LEN, MIN_LENGTH, START};

/// Recognises DNP3 by content (ports are only hints).
///
/// [`Probe::Match`] when `buf` starts with a link header whose CRC is valid
/// and whose length field is at least 5; [`Probe::NeedMore`] while every byte
/// present fits a header and the ten bytes are not all there;
/// [`Probe::NoMatch`] from the first byte that does not fit.
pub fn probe(buf: &[u8]) -> Probe {
    match buf {
        [] => Probe::NeedMore,
        [first, ..] if *first != START[0] => Probe::NoMatch,
        [_, second, ..] if *second != START[1] => Probe::NoMatch,
        [_, _, length, ..] if *length < MIN_LENGTH => Probe::NoMatch,
        _ => match buf.get(..HEADER_LEN) {
            None => Probe::NeedMore,
            Some(head) => match link::Header::parse(head) {
                Ok(_) => Probe::Match,
                Err(_) => Probe::NoMatch,
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// dnp3-opendnp3conf-6.6.2.3.pcap frame 4, the link header.
    const HEADER: [u8; 10] = [0x05, 0x64, 0x05, 0xC4, 0x01, 0x04, 0x01, 0x00, 0x27, 0xB9];

    #[test]
    fn recognises_a_link_header() {
        assert_eq!(probe(&HEADER), Probe::Match);
        let mut more = HEADER.to_vec();
        more.extend_from_slice(&[0xC0, 0xC0, 0x01]);
        assert_eq!(probe(&more), Probe::Match);
        for n in 0..HEADER.len() {
            assert_eq!(probe(&HEADER[..n]), Probe::NeedMore, "{n} bytes");
        }
    }

    #[test]
    fn rejects_other_protocols() {
        let mut bad_crc = HEADER;
        bad_crc[8] ^= 1;
        let cases: [&[u8]; 8] = [
            // Modbus/TCP read holding registers, even with transaction id 0x0564
            &[
                0x05, 0x64, 0x00, 0x00, 0x00, 0x06, 0x11, 0x03, 0x00, 0x6B, 0x00, 0x03,
            ],
            &[
                0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x11, 0x03, 0x00, 0x6B, 0x00, 0x03,
            ],
            // TPKT + COTP connection request
            &[
                0x03, 0x00, 0x00, 0x16, 0x11, 0xE0, 0x00, 0x00, 0x00, 0x01, 0x00,
            ],
            b"GET / HTTP/1.1\r\n",
            // TLS ClientHello
            &[
                0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03,
            ],
            // random bytes
            &[
                0x9C, 0x41, 0xE7, 0x02, 0x88, 0x13, 0x5D, 0xF0, 0x3A, 0x6B, 0x11,
            ],
            &bad_crc,
            // length below 5
            &[0x05, 0x64, 0x04],
        ];
        for case in cases {
            assert_eq!(probe(case), Probe::NoMatch, "{case:02x?}");
        }
    }
}
