//! CRC-16/DNP, the check of the link header and of every 16-byte block of
//! user data.
//!
//! Polynomial 0x3D65, reflected input and output (so the table is built from
//! 0xA6BC, the polynomial bit-reversed), initial value 0, final complement.
//! The CRC goes on the wire low byte first. Check value: `crc(b"123456789")`
//! is 0xEA82.
//!
//! Panic contract: nothing here panics; the table is built at compile time.

/// The polynomial 0x3D65, bit-reversed for the reflected algorithm.
const POLYNOMIAL_REFLECTED: u16 = 0xA6BC;

/// One CRC step per byte value, built at compile time.
const TABLE: [u16; 256] = table();

// The table is evaluated in a const context: an index out of bounds would
// fail the build, never a run.
#[allow(clippy::indexing_slicing)]
const fn table() -> [u16; 256] {
    let mut table = [0u16; 256];
    let mut byte = 0;
    while byte < 256 {
        let mut crc = byte as u16;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ POLYNOMIAL_REFLECTED
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[byte] = crc;
        byte += 1;
    }
    table
}

/// The CRC-16/DNP of `data`.
pub fn crc(data: &[u8]) -> u16 {
    let crc = data.iter().fold(0u16, |crc, &byte| {
        let index = usize::from((crc & 0x00FF) as u8 ^ byte);
        // `index` is below 256: the lookup always succeeds.
        (crc >> 8) ^ TABLE.get(index).copied().unwrap_or(0)
    });
    !crc
}

/// True when the two bytes after `data` in a frame (`crc`, low byte first) are its CRC.
pub fn check(data: &[u8], crc_bytes: [u8; 2]) -> bool {
    crc(data) == u16::from_le_bytes(crc_bytes)
}

/// Appends `data` and its CRC (low byte first).
pub fn append_with_crc(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(data);
    out.extend_from_slice(&crc(data).to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        // The CRC catalogue's check value for CRC-16/DNP.
        assert_eq!(crc(b"123456789"), 0xEA82);
        assert_eq!(crc(&[]), 0xFFFF);
        // Link header of dnp3-opendnp3conf-6.6.2.3.pcap frame 4: CRC b9 27... on the wire `27 b9`.
        let header = [0x05, 0x64, 0x05, 0xC4, 0x01, 0x04, 0x01, 0x00];
        assert_eq!(crc(&header), 0xB927);
        assert!(check(&header, [0x27, 0xB9]));
        assert!(!check(&header, [0xB9, 0x27]));
    }

    #[test]
    fn table_matches_the_bitwise_algorithm() {
        fn bitwise(data: &[u8]) -> u16 {
            let mut crc = 0u16;
            for &byte in data {
                crc ^= u16::from(byte);
                for _ in 0..8 {
                    crc = if crc & 1 == 1 {
                        (crc >> 1) ^ POLYNOMIAL_REFLECTED
                    } else {
                        crc >> 1
                    };
                }
            }
            !crc
        }
        let data: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        for n in 0..data.len() {
            assert_eq!(crc(&data[..n]), bitwise(&data[..n]), "{n} bytes");
        }
    }

    #[test]
    fn append_then_check() {
        let mut out = Vec::new();
        append_with_crc(&mut out, b"abc");
        assert_eq!(out.len(), 5);
        assert!(check(&out[..3], [out[3], out[4]]));
    }
}
