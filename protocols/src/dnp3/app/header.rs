//! The application header and [`parse`].
//!
//! ```text
//!  0                     1               2          4
//!  +---------------------+---------------+----------+---------------------+
//!  | control             | function code | IIN1 IIN2| object headers ...  |
//!  | FIR FIN CON UNS SEQ |               | (responses only)               |
//!  +---------------------+---------------+----------+---------------------+
//! ```

use crate::cursor::Reader;
use crate::error::{Error, Layer};

use super::anomaly::Anomalies;
use super::function::FunctionCode;
use super::iin::Iin;
use super::object::Objects;

/// Length of a request header: control and function code.
pub const REQUEST_HEADER_LEN: usize = 2;

/// Length of a response header: control, function code and IIN.
pub const RESPONSE_HEADER_LEN: usize = 4;

/// The header layout, declared once. Offsets are from the start of the fragment.
pub mod field {
    use core::ops::Range;

    /// Application control: FIR, FIN, CON, UNS, sequence.
    pub const CONTROL: usize = 0;
    /// Function code.
    pub const FUNCTION: usize = 1;
    /// Internal indications, IIN1 then IIN2 (responses only).
    pub const IIN: Range<usize> = 2..4;
}

// The layout is contiguous and agrees with the header lengths and with the
// order of the reads in `parse`.
const _: () = {
    assert!(field::CONTROL == 0);
    assert!(field::FUNCTION == field::CONTROL + 1);
    assert!(field::IIN.start == field::FUNCTION + 1);
    assert!(field::IIN.start == REQUEST_HEADER_LEN);
    assert!(field::IIN.end == RESPONSE_HEADER_LEN);
};

/// The application control byte.
///
/// ```text
///   7     6     5     4     3..0
///  FIR | FIN | CON | UNS | sequence
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AppControl(pub u8);

impl AppControl {
    /// FIR: first fragment of a message.
    pub const FIR: u8 = 0x80;
    /// FIN: final fragment of a message.
    pub const FIN: u8 = 0x40;
    /// CON: the receiver must confirm.
    pub const CON: u8 = 0x20;
    /// UNS: unsolicited response, or the confirm of one.
    pub const UNS: u8 = 0x10;
    /// The sequence bits.
    pub const SEQUENCE: u8 = 0x0F;

    /// A control byte from its parts (the sequence taken modulo 16).
    pub const fn new(fir: bool, fin: bool, con: bool, uns: bool, sequence: u8) -> Self {
        let mut byte = sequence & Self::SEQUENCE;
        if fir {
            byte |= Self::FIR;
        }
        if fin {
            byte |= Self::FIN;
        }
        if con {
            byte |= Self::CON;
        }
        if uns {
            byte |= Self::UNS;
        }
        AppControl(byte)
    }

    /// FIR: the first fragment of a message.
    pub const fn fir(self) -> bool {
        self.0 & Self::FIR != 0
    }

    /// FIN: the final fragment of a message.
    pub const fn fin(self) -> bool {
        self.0 & Self::FIN != 0
    }

    /// CON: the receiver must send a confirm.
    pub const fn con(self) -> bool {
        self.0 & Self::CON != 0
    }

    /// UNS: an unsolicited response or its confirm.
    pub const fn uns(self) -> bool {
        self.0 & Self::UNS != 0
    }

    /// The sequence number, 0-15.
    pub const fn sequence(self) -> u8 {
        self.0 & Self::SEQUENCE
    }
}

/// One application fragment, borrowing from the reassembled bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fragment<'a> {
    /// The application control byte.
    pub control: AppControl,
    /// The function code.
    pub function: FunctionCode,
    /// Internal indications: present on responses (function 0x81-0x83).
    pub iin: Option<Iin>,
    /// The object headers after the header.
    pub objects: Objects<'a>,
    /// Spec violations found in the header and the objects.
    pub anomalies: Anomalies,
}

impl Fragment<'_> {
    /// True for a request (function 0x00-0x21, and unknown codes below 0x80).
    pub const fn is_request(&self) -> bool {
        !self.function.is_response()
    }

    /// Bytes of the header: 4 for responses, 2 otherwise.
    pub const fn header_len(&self) -> usize {
        if self.iin.is_some() {
            RESPONSE_HEADER_LEN
        } else {
            REQUEST_HEADER_LEN
        }
    }
}

/// Decodes one application fragment (the complete output of
/// [`Reassembler`](crate::dnp3::transport::Reassembler)).
///
/// Request or response is decided by the function code: 0x81-0x83 carry the
/// IIN. Fails with [`Error::Incomplete`] only when the fragment is shorter
/// than its header; everything else, including object headers that cannot be
/// walked, is reported in [`Fragment::anomalies`] (the objects are walked
/// once here to find them, and again lazily by [`Objects::iter`]).
pub fn parse(fragment: &[u8]) -> Result<Fragment<'_>, Error> {
    let mut r = Reader::new(fragment, Layer::Dnp3App);
    let control = AppControl(r.u8()?);
    let function = FunctionCode(r.u8()?);
    let iin = if function.is_response() {
        Some(Iin::from_bits_retain(r.be_u16()?))
    } else {
        None
    };
    let objects = Objects::new(function, r.rest());
    let mut anomalies = objects.anomalies();
    if function.name().is_none() {
        anomalies |= Anomalies::UNKNOWN_FUNCTION;
    }
    let unsolicited = function == FunctionCode::UNSOLICITED_RESPONSE;
    let may_be_unsolicited =
        unsolicited || function == FunctionCode::CONFIRM || function.is_secure_authentication();
    if (unsolicited && !control.uns()) || (control.uns() && !may_be_unsolicited) {
        anomalies |= Anomalies::UNS_MISMATCH;
    }
    if iin.is_some_and(|iin| iin.intersects(Iin::RESERVED_1 | Iin::RESERVED_2)) {
        anomalies |= Anomalies::RESERVED_IIN;
    }
    if function.takes_no_objects() && !objects.is_empty() {
        anomalies |= Anomalies::UNEXPECTED_OBJECTS;
    }
    Ok(Fragment {
        control,
        function,
        iin,
        objects,
        anomalies,
    })
}

/// Appends one fragment: control, function code, the IIN when given (it
/// belongs on responses only, but is written as asked), and `objects` (object
/// headers and their values, as built by the `write_*` helpers).
pub fn encode(
    out: &mut Vec<u8>,
    control: AppControl,
    function: FunctionCode,
    iin: Option<Iin>,
    objects: &[u8],
) {
    out.push(control.0);
    out.push(function.0);
    if let Some(iin) = iin {
        out.extend_from_slice(&iin.to_bytes());
    }
    out.extend_from_slice(objects);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_bits() {
        let c = AppControl(0xC3);
        assert!(c.fir() && c.fin() && !c.con() && !c.uns());
        assert_eq!(c.sequence(), 3);
        assert_eq!(
            AppControl::new(true, true, true, true, 0x1F),
            AppControl(0xFF)
        );
    }

    #[test]
    fn responses_carry_iin_and_requests_do_not() {
        // Unsolicited response, device restart (dnp3-iti-full-exchange.pcap frame 4).
        let f = parse(&[0xF0, 0x82, 0x80, 0x00]).unwrap();
        assert_eq!(f.iin, Some(Iin::DEVICE_RESTART));
        assert!(f.control.uns() && f.control.con());
        assert!(f.anomalies.is_empty(), "{:?}", f.anomalies);
        assert!(f.objects.is_empty() && !f.is_request());
        let f = parse(&[0xC0, 0x0D]).unwrap();
        assert_eq!(f.function, FunctionCode::COLD_RESTART);
        assert_eq!((f.iin, f.header_len()), (None, 2));
        assert!(matches!(
            parse(&[0xC0]),
            Err(Error::Incomplete { needed: 1, .. })
        ));
        assert!(matches!(
            parse(&[0xC0, 0x81, 0x00]),
            Err(Error::Incomplete { offset: 3, .. })
        ));
    }

    #[test]
    fn header_anomalies() {
        let f = parse(&[0xC0, 0x82, 0x00, 0x00]).unwrap();
        assert_eq!(f.anomalies, Anomalies::UNS_MISMATCH);
        let f = parse(&[0xD0, 0x01, 0x3C, 0x01, 0x06]).unwrap();
        assert_eq!(f.anomalies, Anomalies::UNS_MISMATCH);
        let f = parse(&[0xC0, 0x81, 0x00, 0xC0]).unwrap();
        assert_eq!(f.anomalies, Anomalies::RESERVED_IIN);
        let f = parse(&[0xC0, 0x50]).unwrap();
        assert_eq!(f.anomalies, Anomalies::UNKNOWN_FUNCTION);
        let f = parse(&[0xC0, 0x0E, 0x3C, 0x01, 0x06]).unwrap();
        assert_eq!(f.anomalies, Anomalies::UNEXPECTED_OBJECTS);
        let mut out = Vec::new();
        encode(
            &mut out,
            AppControl(0xC0),
            FunctionCode::RESPONSE,
            Some(Iin::NEED_TIME),
            &[],
        );
        assert_eq!(out, [0xC0, 0x81, 0x10, 0x00]);
    }
}
