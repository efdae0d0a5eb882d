//! Spec violations of well-framed application fragments, as flags the
//! detections read.

named_flags! {
    /// Spec violations found in an application fragment.
    Anomalies(u32) {
        /// A function code the standard does not define.
        UNKNOWN_FUNCTION = 1 << 0 => "unknown_function";
        /// A group/variation the object catalogue does not know.
        UNKNOWN_OBJECT = 1 << 1 => "unknown_object";
        /// An object whose size cannot be known (unknown group/variation, a
        /// free-format object without a size prefix, variation 0 with values):
        /// iteration ended at its header.
        UNKNOWN_OBJECT_LENGTH = 1 << 2 => "unknown_object_length";
        /// An object header, or the objects it announces, runs past the end of the fragment.
        TRUNCATED_OBJECT = 1 << 3 => "truncated_object";
        /// A reserved prefix or range code, or a virtual-address range: iteration ended.
        UNSUPPORTED_QUALIFIER = 1 << 4 => "unsupported_qualifier";
        /// A start-stop range whose start is above its stop: iteration ended.
        INVALID_RANGE = 1 << 5 => "invalid_range";
        /// A size prefix that disagrees with the catalogue's fixed size.
        OBJECT_SIZE_MISMATCH = 1 << 6 => "object_size_mismatch";
        /// Object values too short for their own fields (a file command
        /// shorter than its name, an attribute longer than its object).
        MALFORMED_OBJECT = 1 << 7 => "malformed_object";
        /// UNS set on a fragment other than an unsolicited response or its
        /// confirm, or clear on an unsolicited response.
        UNS_MISMATCH = 1 << 8 => "uns_mismatch";
        /// A reserved IIN bit (IIN2.6, IIN2.7) is set.
        RESERVED_IIN = 1 << 9 => "reserved_iin";
        /// Objects after a function that takes none (restarts, delay measure,
        /// record current time, initialize data, save configuration).
        UNEXPECTED_OBJECTS = 1 << 10 => "unexpected_objects";
    }
    malformed: [UNKNOWN_OBJECT_LENGTH, TRUNCATED_OBJECT, UNSUPPORTED_QUALIFIER, INVALID_RANGE, OBJECT_SIZE_MISMATCH, MALFORMED_OBJECT];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_flag_names_in_snake_case() {
        assert_eq!(Anomalies::NAMES.len(), Anomalies::all().iter().count());
        for ((flag, name), (bitflags_name, bitflags_flag)) in
            Anomalies::NAMES.iter().zip(Anomalies::all().iter_names())
        {
            assert_eq!(*flag, bitflags_flag);
            assert_eq!(name.to_uppercase(), bitflags_name);
        }
        let set = Anomalies::UNS_MISMATCH | Anomalies::UNKNOWN_FUNCTION;
        assert_eq!(
            set.names().collect::<Vec<_>>(),
            ["unknown_function", "uns_mismatch"]
        );
        assert_eq!(set.name(), None);
    }
}
