//! Internal indications (IIN): the two bytes after the function code of
//! every response, and the points of object group 80.
//!
//! The value is IIN1 in the high byte and IIN2 in the low byte, as tshark
//! prints `dnp3.al.iin` (0x8000 = IIN1.7, device restart).

named_flags! {
    /// Internal indications of a response: IIN1 (high byte) and IIN2 (low byte).
    Iin(u16) {
        /// IIN1.0: a broadcast message was received.
        BROADCAST = 0x0100 => "broadcast";
        /// IIN1.1: class 1 events are available.
        CLASS_1_EVENTS = 0x0200 => "class_1_events";
        /// IIN1.2: class 2 events are available.
        CLASS_2_EVENTS = 0x0400 => "class_2_events";
        /// IIN1.3: class 3 events are available.
        CLASS_3_EVENTS = 0x0800 => "class_3_events";
        /// IIN1.4: the outstation needs time synchronisation.
        NEED_TIME = 0x1000 => "need_time";
        /// IIN1.5: some output points are in local control.
        LOCAL_CONTROL = 0x2000 => "local_control";
        /// IIN1.6: an abnormal condition that no other bit describes.
        DEVICE_TROUBLE = 0x4000 => "device_trouble";
        /// IIN1.7: the outstation restarted (set until the master clears it).
        DEVICE_RESTART = 0x8000 => "device_restart";
        /// IIN2.0: the function code is not implemented.
        NO_FUNC_CODE_SUPPORT = 0x0001 => "no_func_code_support";
        /// IIN2.1: an object or variation is unknown, or no such points.
        OBJECT_UNKNOWN = 0x0002 => "object_unknown";
        /// IIN2.2: a parameter (qualifier, range) is invalid or out of range.
        PARAMETER_ERROR = 0x0004 => "parameter_error";
        /// IIN2.3: the event buffer overflowed: events were lost.
        EVENT_BUFFER_OVERFLOW = 0x0008 => "event_buffer_overflow";
        /// IIN2.4: the requested operation is already executing.
        ALREADY_EXECUTING = 0x0010 => "already_executing";
        /// IIN2.5: the configuration is corrupt.
        CONFIG_CORRUPT = 0x0020 => "config_corrupt";
        /// IIN2.6: reserved, always 0.
        RESERVED_2 = 0x0040 => "reserved_2";
        /// IIN2.7: reserved, always 0.
        RESERVED_1 = 0x0080 => "reserved_1";
    }
}

impl Iin {
    /// The IIN from its two wire bytes, IIN1 first.
    pub const fn from_bytes(iin1: u8, iin2: u8) -> Iin {
        Iin::from_bits_retain(u16::from_be_bytes([iin1, iin2]))
    }

    /// The two wire bytes, IIN1 first.
    pub const fn to_bytes(self) -> [u8; 2] {
        self.bits().to_be_bytes()
    }

    /// The flag of point `index` of object group 80 (0-15: IIN1.0 is 0, IIN2.0 is 8).
    pub const fn point(index: u32) -> Option<Iin> {
        if index > 15 {
            return None;
        }
        // Points 0-7 are IIN1 (the high byte), 8-15 IIN2.
        let bit = if index < 8 { index + 8 } else { index - 8 };
        Some(Iin::from_bits_retain(1 << bit))
    }

    /// The indications a detection reads as device health trouble: device
    /// trouble, event buffer overflow, configuration corrupt.
    pub const HEALTH: Iin = Iin::DEVICE_TROUBLE
        .union(Iin::EVENT_BUFFER_OVERFLOW)
        .union(Iin::CONFIG_CORRUPT);

    /// The indications that report a request the outstation could not carry
    /// out: no function code support, object unknown, parameter error, already executing.
    pub const REQUEST_ERRORS: Iin = Iin::NO_FUNC_CODE_SUPPORT
        .union(Iin::OBJECT_UNKNOWN)
        .union(Iin::PARAMETER_ERROR)
        .union(Iin::ALREADY_EXECUTING);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_follow_tsharks_value() {
        // tshark prints 0x8000 for IIN1 = 0x80, IIN2 = 0x00: device restart.
        assert_eq!(Iin::from_bytes(0x80, 0x00), Iin::DEVICE_RESTART);
        assert_eq!(Iin::from_bytes(0x00, 0x20), Iin::CONFIG_CORRUPT);
        assert_eq!(Iin::DEVICE_RESTART.to_bytes(), [0x80, 0x00]);
        assert_eq!(Iin::NAMES.len(), 16);
        assert_eq!(Iin::all().bits(), 0xFFFF);
        let set = Iin::from_bytes(0x90, 0x02);
        assert_eq!(
            set.names().collect::<Vec<_>>(),
            ["need_time", "device_restart", "object_unknown"]
        );
        assert_eq!(Iin::point(7), Some(Iin::DEVICE_RESTART));
        assert_eq!(Iin::point(8), Some(Iin::NO_FUNC_CODE_SUPPORT));
        assert_eq!(Iin::point(16), None);
        assert_eq!(Iin::NEED_TIME.name(), Some("need_time"));
    }
}
