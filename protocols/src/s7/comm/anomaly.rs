//! Spec violations of well-framed S7comm PDUs, as flags the detections read.

named_flags! {
    /// Spec violations found in a well-framed S7comm PDU.
    Anomalies(u32) {
        /// A ROSCTR other than Job, Ack, Ack_Data and Userdata.
        UNKNOWN_ROSCTR = 1 << 0 => "unknown_rosctr";
        /// A function code Wireshark does not name.
        UNKNOWN_FUNCTION = 1 << 1 => "unknown_function";
        /// The redundancy identification of the header is not 0.
        NONZERO_REDUNDANCY_ID = 1 << 2 => "nonzero_redundancy_id";
        /// Bytes after the parameter and data parts the header announces.
        TRAILING_BYTES = 1 << 3 => "trailing_bytes";
        /// The parameter part ends before the fixed fields of its function; the parameter is `Other`.
        TRUNCATED_PARAM = 1 << 4 => "truncated_param";
        /// Parameter bytes left over after the fields of its function.
        PARAM_LENGTH_MISMATCH = 1 << 5 => "param_length_mismatch";
        /// Fewer decodable items than the item count announces.
        ITEM_COUNT_MISMATCH = 1 << 6 => "item_count_mismatch";
        /// A Read/Write Var item other than an S7ANY address (1200 symbolic, NCK, DBREAD...).
        NON_S7ANY_ITEM = 1 << 7 => "non_s7any_item";
        /// A block control file name that starts like a PLC block name but does not decode.
        INVALID_FILENAME = 1 << 8 => "invalid_filename";
        /// A userdata parameter head other than `00 01 12 04 11` / `00 01 12 08 12`
        /// (or the mode transition head).
        UNEXPECTED_USERDATA_HEAD = 1 << 9 => "unexpected_userdata_head";
        /// A userdata function group outside 0-7.
        UNKNOWN_USERDATA_GROUP = 1 << 10 => "unknown_userdata_group";
        /// A Write Var Job whose data items do not match its item count.
        DATA_ITEM_MISMATCH = 1 << 11 => "data_item_mismatch";
    }
    malformed: [TRAILING_BYTES, TRUNCATED_PARAM, PARAM_LENGTH_MISMATCH, ITEM_COUNT_MISMATCH, DATA_ITEM_MISMATCH, UNEXPECTED_USERDATA_HEAD];
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
        let set = Anomalies::TRAILING_BYTES | Anomalies::UNKNOWN_ROSCTR;
        assert_eq!(
            set.names().collect::<Vec<_>>(),
            ["unknown_rosctr", "trailing_bytes"]
        );
        assert_eq!(set.name(), None);
        assert_eq!(Anomalies::NON_S7ANY_ITEM.name(), Some("non_s7any_item"));
    }
}
