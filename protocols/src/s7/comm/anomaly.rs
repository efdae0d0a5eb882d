//! Spec violations of well-framed S7comm PDUs, as flags the detections read.

/// Declares the flags and their `snake_case` names from one table.
macro_rules! anomalies {
    ( $( $(#[doc = $doc:tt])* $flag:ident = $bit:literal => $name:literal; )* ) => {
        bitflags::bitflags! {
            /// Spec violations found in a well-framed S7comm PDU.
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
            pub struct Anomalies: u32 {
                $( $(#[doc = $doc])* const $flag = 1 << $bit; )*
            }
        }

        /// Every flag with its `snake_case` name, in bit order.
        const NAMES: &[(Anomalies, &str)] = &[ $( (Anomalies::$flag, $name), )* ];
    };
}

anomalies! {
    /// A ROSCTR other than Job, Ack, Ack_Data and Userdata.
    UNKNOWN_ROSCTR = 0 => "unknown_rosctr";
    /// A function code Wireshark does not name.
    UNKNOWN_FUNCTION = 1 => "unknown_function";
    /// The redundancy identification of the header is not 0.
    NONZERO_REDUNDANCY_ID = 2 => "nonzero_redundancy_id";
    /// Bytes after the parameter and data parts the header announces.
    TRAILING_BYTES = 3 => "trailing_bytes";
    /// The parameter part ends before the fixed fields of its function; the parameter is `Other`.
    TRUNCATED_PARAM = 4 => "truncated_param";
    /// Parameter bytes left over after the fields of its function.
    PARAM_LENGTH_MISMATCH = 5 => "param_length_mismatch";
    /// Fewer decodable items than the item count announces.
    ITEM_COUNT_MISMATCH = 6 => "item_count_mismatch";
    /// A Read/Write Var item other than an S7ANY address (1200 symbolic, NCK, DBREAD...).
    NON_S7ANY_ITEM = 7 => "non_s7any_item";
    /// A block control file name that starts like a PLC block name but does not decode.
    INVALID_FILENAME = 8 => "invalid_filename";
    /// A userdata parameter head other than `00 01 12 04 11` / `00 01 12 08 12`
    /// (or the mode transition head).
    UNEXPECTED_USERDATA_HEAD = 9 => "unexpected_userdata_head";
    /// A userdata function group outside 0-7.
    UNKNOWN_USERDATA_GROUP = 10 => "unknown_userdata_group";
    /// A Write Var Job whose data items do not match its item count.
    DATA_ITEM_MISMATCH = 11 => "data_item_mismatch";
}

impl Anomalies {
    /// The `snake_case` names of the flags set, in bit order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        NAMES
            .iter()
            .filter(move |(flag, _)| self.contains(*flag))
            .map(|&(_, name)| name)
    }

    /// The `snake_case` name of a single flag, `None` for no flag or several.
    pub fn name(self) -> Option<&'static str> {
        NAMES
            .iter()
            .find(|(flag, _)| *flag == self)
            .map(|&(_, name)| name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_flag_names_in_snake_case() {
        assert_eq!(NAMES.len(), Anomalies::all().iter().count());
        for ((flag, name), (bitflags_name, bitflags_flag)) in
            NAMES.iter().zip(Anomalies::all().iter_names())
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
