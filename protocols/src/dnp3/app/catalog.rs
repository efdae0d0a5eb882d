//! The object catalogue: every group/variation Faro knows, with the size of
//! one object on the wire and its name, declared once in one table (IEEE
//! 1815-2012 clause 11 and annex A). The lookups [`object_kind`] and
//! [`object_name`] and the list [`CATALOG`] are all generated from it, so a
//! size is never typed twice; an entry declared twice is an unreachable
//! pattern, which the workspace's `-D warnings` turns into a build failure.
//!
//! The size decides how far the objects of a header reach: without it, a
//! fragment cannot be walked past that header.

/// How the objects of one group/variation occupy the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    /// Variation 0, "any variation": named in requests, never carries values.
    AnyVariation,
    /// No value at all (class data, group 60).
    NoValue,
    /// A fixed number of bytes per object.
    Fixed(u8),
    /// Bit-packed values: this many bits per point (1 or 2), no prefixes.
    Packed(u8),
    /// A device attribute (group 0): data type (1), length (1), value (length bytes).
    Attribute,
    /// The variation is the length in bytes (octet strings, virtual terminal).
    SizedByVariation,
    /// Free format: the size comes only from a size prefix (qualifier 0x5B).
    FreeFormat,
}

/// One catalogue entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CatalogEntry {
    /// Object group.
    pub group: u8,
    /// Variation; `None` when the entry covers every variation of the group.
    pub variation: Option<u8>,
    /// Size on the wire.
    pub kind: ObjectKind,
    /// Name in `snake_case`.
    pub name: &'static str,
}

/// `_` in the table means every variation.
macro_rules! catalog_variation {
    (_) => {
        None
    };
    ($v:literal) => {
        Some($v)
    };
}

/// Generates [`object_kind`], [`object_name`] and [`CATALOG`] from the table.
macro_rules! catalog {
    ( $( $group:literal / $variation:tt => $kind:expr, $name:literal; )* ) => {
        /// How objects of `group`/`variation` occupy the wire; `None` for an
        /// object the catalogue does not know.
        pub const fn object_kind(group: u8, variation: u8) -> Option<ObjectKind> {
            match (group, variation) {
                $( ($group, $variation) => Some($kind), )*
                _ => None,
            }
        }

        /// The object's name in `snake_case`; `None` for an object the catalogue does not know.
        pub const fn object_name(group: u8, variation: u8) -> Option<&'static str> {
            match (group, variation) {
                $( ($group, $variation) => Some($name), )*
                _ => None,
            }
        }

        /// Every catalogue entry, in table order.
        pub const CATALOG: &[CatalogEntry] = &[
            $( CatalogEntry {
                group: $group,
                variation: catalog_variation!($variation),
                kind: $kind,
                name: $name,
            }, )*
        ];
    };
}

use ObjectKind::{AnyVariation, Attribute, Fixed, FreeFormat, NoValue, Packed, SizedByVariation};

catalog! {
    // Device attributes: data type, length, value.
    0 / _ => Attribute, "device_attribute";
    // Binary inputs.
    1 / 0 => AnyVariation, "binary_input";
    1 / 1 => Packed(1), "binary_input_packed";
    1 / 2 => Fixed(1), "binary_input_with_flags";
    2 / 0 => AnyVariation, "binary_input_event";
    2 / 1 => Fixed(1), "binary_input_event_without_time";
    2 / 2 => Fixed(7), "binary_input_event_with_absolute_time";
    2 / 3 => Fixed(3), "binary_input_event_with_relative_time";
    3 / 0 => AnyVariation, "double_bit_binary_input";
    3 / 1 => Packed(2), "double_bit_binary_input_packed";
    3 / 2 => Fixed(1), "double_bit_binary_input_with_flags";
    4 / 0 => AnyVariation, "double_bit_binary_input_event";
    4 / 1 => Fixed(1), "double_bit_binary_input_event_without_time";
    4 / 2 => Fixed(7), "double_bit_binary_input_event_with_absolute_time";
    4 / 3 => Fixed(3), "double_bit_binary_input_event_with_relative_time";
    // Binary outputs.
    10 / 0 => AnyVariation, "binary_output";
    10 / 1 => Packed(1), "binary_output_packed";
    10 / 2 => Fixed(1), "binary_output_status_with_flags";
    11 / 0 => AnyVariation, "binary_output_event";
    11 / 1 => Fixed(1), "binary_output_event_without_time";
    11 / 2 => Fixed(7), "binary_output_event_with_time";
    12 / 0 => AnyVariation, "binary_output_command";
    12 / 1 => Fixed(11), "control_relay_output_block";
    12 / 2 => Fixed(11), "pattern_control_block";
    12 / 3 => Packed(1), "pattern_mask";
    13 / 0 => AnyVariation, "binary_output_command_event";
    13 / 1 => Fixed(1), "binary_output_command_event_without_time";
    13 / 2 => Fixed(7), "binary_output_command_event_with_time";
    // Counters.
    20 / 0 => AnyVariation, "counter";
    20 / 1 => Fixed(5), "counter_32_bit_with_flag";
    20 / 2 => Fixed(3), "counter_16_bit_with_flag";
    20 / 3 => Fixed(5), "delta_counter_32_bit_with_flag";
    20 / 4 => Fixed(3), "delta_counter_16_bit_with_flag";
    20 / 5 => Fixed(4), "counter_32_bit_without_flag";
    20 / 6 => Fixed(2), "counter_16_bit_without_flag";
    20 / 7 => Fixed(4), "delta_counter_32_bit_without_flag";
    20 / 8 => Fixed(2), "delta_counter_16_bit_without_flag";
    21 / 0 => AnyVariation, "frozen_counter";
    21 / 1 => Fixed(5), "frozen_counter_32_bit_with_flag";
    21 / 2 => Fixed(3), "frozen_counter_16_bit_with_flag";
    21 / 3 => Fixed(5), "frozen_delta_counter_32_bit_with_flag";
    21 / 4 => Fixed(3), "frozen_delta_counter_16_bit_with_flag";
    21 / 5 => Fixed(11), "frozen_counter_32_bit_with_flag_and_time";
    21 / 6 => Fixed(9), "frozen_counter_16_bit_with_flag_and_time";
    21 / 7 => Fixed(11), "frozen_delta_counter_32_bit_with_flag_and_time";
    21 / 8 => Fixed(9), "frozen_delta_counter_16_bit_with_flag_and_time";
    21 / 9 => Fixed(4), "frozen_counter_32_bit_without_flag";
    21 / 10 => Fixed(2), "frozen_counter_16_bit_without_flag";
    21 / 11 => Fixed(4), "frozen_delta_counter_32_bit_without_flag";
    21 / 12 => Fixed(2), "frozen_delta_counter_16_bit_without_flag";
    22 / 0 => AnyVariation, "counter_event";
    22 / 1 => Fixed(5), "counter_event_32_bit_with_flag";
    22 / 2 => Fixed(3), "counter_event_16_bit_with_flag";
    22 / 3 => Fixed(5), "delta_counter_event_32_bit_with_flag";
    22 / 4 => Fixed(3), "delta_counter_event_16_bit_with_flag";
    22 / 5 => Fixed(11), "counter_event_32_bit_with_flag_and_time";
    22 / 6 => Fixed(9), "counter_event_16_bit_with_flag_and_time";
    22 / 7 => Fixed(11), "delta_counter_event_32_bit_with_flag_and_time";
    22 / 8 => Fixed(9), "delta_counter_event_16_bit_with_flag_and_time";
    23 / 0 => AnyVariation, "frozen_counter_event";
    23 / 1 => Fixed(5), "frozen_counter_event_32_bit_with_flag";
    23 / 2 => Fixed(3), "frozen_counter_event_16_bit_with_flag";
    23 / 3 => Fixed(5), "frozen_delta_counter_event_32_bit_with_flag";
    23 / 4 => Fixed(3), "frozen_delta_counter_event_16_bit_with_flag";
    23 / 5 => Fixed(11), "frozen_counter_event_32_bit_with_flag_and_time";
    23 / 6 => Fixed(9), "frozen_counter_event_16_bit_with_flag_and_time";
    23 / 7 => Fixed(11), "frozen_delta_counter_event_32_bit_with_flag_and_time";
    23 / 8 => Fixed(9), "frozen_delta_counter_event_16_bit_with_flag_and_time";
    // Analog inputs.
    30 / 0 => AnyVariation, "analog_input";
    30 / 1 => Fixed(5), "analog_input_32_bit_with_flag";
    30 / 2 => Fixed(3), "analog_input_16_bit_with_flag";
    30 / 3 => Fixed(4), "analog_input_32_bit_without_flag";
    30 / 4 => Fixed(2), "analog_input_16_bit_without_flag";
    30 / 5 => Fixed(5), "analog_input_single_precision_with_flag";
    30 / 6 => Fixed(9), "analog_input_double_precision_with_flag";
    31 / 0 => AnyVariation, "frozen_analog_input";
    31 / 1 => Fixed(5), "frozen_analog_input_32_bit_with_flag";
    31 / 2 => Fixed(3), "frozen_analog_input_16_bit_with_flag";
    31 / 3 => Fixed(11), "frozen_analog_input_32_bit_with_time_of_freeze";
    31 / 4 => Fixed(9), "frozen_analog_input_16_bit_with_time_of_freeze";
    31 / 5 => Fixed(4), "frozen_analog_input_32_bit_without_flag";
    31 / 6 => Fixed(2), "frozen_analog_input_16_bit_without_flag";
    31 / 7 => Fixed(5), "frozen_analog_input_single_precision_with_flag";
    31 / 8 => Fixed(9), "frozen_analog_input_double_precision_with_flag";
    32 / 0 => AnyVariation, "analog_input_event";
    32 / 1 => Fixed(5), "analog_input_event_32_bit_without_time";
    32 / 2 => Fixed(3), "analog_input_event_16_bit_without_time";
    32 / 3 => Fixed(11), "analog_input_event_32_bit_with_time";
    32 / 4 => Fixed(9), "analog_input_event_16_bit_with_time";
    32 / 5 => Fixed(5), "analog_input_event_single_precision_without_time";
    32 / 6 => Fixed(9), "analog_input_event_double_precision_without_time";
    32 / 7 => Fixed(11), "analog_input_event_single_precision_with_time";
    32 / 8 => Fixed(15), "analog_input_event_double_precision_with_time";
    33 / 0 => AnyVariation, "frozen_analog_input_event";
    33 / 1 => Fixed(5), "frozen_analog_input_event_32_bit_without_time";
    33 / 2 => Fixed(3), "frozen_analog_input_event_16_bit_without_time";
    33 / 3 => Fixed(11), "frozen_analog_input_event_32_bit_with_time";
    33 / 4 => Fixed(9), "frozen_analog_input_event_16_bit_with_time";
    33 / 5 => Fixed(5), "frozen_analog_input_event_single_precision_without_time";
    33 / 6 => Fixed(9), "frozen_analog_input_event_double_precision_without_time";
    33 / 7 => Fixed(11), "frozen_analog_input_event_single_precision_with_time";
    33 / 8 => Fixed(15), "frozen_analog_input_event_double_precision_with_time";
    34 / 0 => AnyVariation, "analog_input_deadband";
    34 / 1 => Fixed(2), "analog_input_deadband_16_bit";
    34 / 2 => Fixed(4), "analog_input_deadband_32_bit";
    34 / 3 => Fixed(4), "analog_input_deadband_single_precision";
    // Analog outputs.
    40 / 0 => AnyVariation, "analog_output_status";
    40 / 1 => Fixed(5), "analog_output_status_32_bit_with_flag";
    40 / 2 => Fixed(3), "analog_output_status_16_bit_with_flag";
    40 / 3 => Fixed(5), "analog_output_status_single_precision_with_flag";
    40 / 4 => Fixed(9), "analog_output_status_double_precision_with_flag";
    41 / 0 => AnyVariation, "analog_output";
    41 / 1 => Fixed(5), "analog_output_32_bit";
    41 / 2 => Fixed(3), "analog_output_16_bit";
    41 / 3 => Fixed(5), "analog_output_single_precision";
    41 / 4 => Fixed(9), "analog_output_double_precision";
    42 / 0 => AnyVariation, "analog_output_event";
    42 / 1 => Fixed(5), "analog_output_event_32_bit_without_time";
    42 / 2 => Fixed(3), "analog_output_event_16_bit_without_time";
    42 / 3 => Fixed(11), "analog_output_event_32_bit_with_time";
    42 / 4 => Fixed(9), "analog_output_event_16_bit_with_time";
    42 / 5 => Fixed(5), "analog_output_event_single_precision_without_time";
    42 / 6 => Fixed(9), "analog_output_event_double_precision_without_time";
    42 / 7 => Fixed(11), "analog_output_event_single_precision_with_time";
    42 / 8 => Fixed(15), "analog_output_event_double_precision_with_time";
    43 / 0 => AnyVariation, "analog_output_command_event";
    43 / 1 => Fixed(5), "analog_output_command_event_32_bit_without_time";
    43 / 2 => Fixed(3), "analog_output_command_event_16_bit_without_time";
    43 / 3 => Fixed(11), "analog_output_command_event_32_bit_with_time";
    43 / 4 => Fixed(9), "analog_output_command_event_16_bit_with_time";
    43 / 5 => Fixed(5), "analog_output_command_event_single_precision_without_time";
    43 / 6 => Fixed(9), "analog_output_command_event_double_precision_without_time";
    43 / 7 => Fixed(11), "analog_output_command_event_single_precision_with_time";
    43 / 8 => Fixed(15), "analog_output_command_event_double_precision_with_time";
    // Time.
    50 / 0 => AnyVariation, "time_and_date";
    50 / 1 => Fixed(6), "absolute_time";
    50 / 2 => Fixed(10), "absolute_time_and_interval";
    50 / 3 => Fixed(6), "absolute_time_at_last_recorded_time";
    50 / 4 => Fixed(11), "indexed_absolute_time_and_long_interval";
    51 / 1 => Fixed(6), "common_time_of_occurrence";
    51 / 2 => Fixed(6), "unsynchronized_common_time_of_occurrence";
    52 / 1 => Fixed(2), "time_delay_coarse";
    52 / 2 => Fixed(2), "time_delay_fine";
    // Class data.
    60 / 1 => NoValue, "class_0_data";
    60 / 2 => NoValue, "class_1_data";
    60 / 3 => NoValue, "class_2_data";
    60 / 4 => NoValue, "class_3_data";
    // Files.
    70 / 1 => FreeFormat, "file_identifier";
    70 / 2 => FreeFormat, "file_authentication";
    70 / 3 => FreeFormat, "file_command";
    70 / 4 => FreeFormat, "file_command_status";
    70 / 5 => FreeFormat, "file_transport";
    70 / 6 => FreeFormat, "file_transport_status";
    70 / 7 => FreeFormat, "file_descriptor";
    70 / 8 => FreeFormat, "file_specification_string";
    // Devices.
    80 / 1 => Packed(1), "internal_indications";
    // Data sets.
    85 / 1 => FreeFormat, "data_set_prototype";
    86 / 1 => FreeFormat, "data_set_descriptor_contents";
    86 / 2 => Fixed(1), "data_set_descriptor_characteristics";
    86 / 3 => FreeFormat, "data_set_descriptor_point_index_attributes";
    87 / 1 => FreeFormat, "data_set_present_value";
    88 / 1 => FreeFormat, "data_set_snapshot";
    // Applications.
    90 / 1 => FreeFormat, "application_identifier";
    // Numeric.
    101 / 1 => Fixed(2), "bcd_small";
    101 / 2 => Fixed(4), "bcd_medium";
    101 / 3 => Fixed(8), "bcd_large";
    102 / 1 => Fixed(1), "unsigned_integer_8_bit";
    // Strings and virtual terminals: the variation is the length.
    110 / _ => SizedByVariation, "octet_string";
    111 / _ => SizedByVariation, "octet_string_event";
    112 / _ => SizedByVariation, "virtual_terminal_output_block";
    113 / _ => SizedByVariation, "virtual_terminal_event_data";
    // Secure Authentication.
    120 / 1 => FreeFormat, "authentication_challenge";
    120 / 2 => FreeFormat, "authentication_reply";
    120 / 3 => Fixed(6), "authentication_aggressive_mode_request";
    120 / 4 => Fixed(2), "authentication_session_key_status_request";
    120 / 5 => FreeFormat, "authentication_session_key_status";
    120 / 6 => FreeFormat, "authentication_session_key_change";
    120 / 7 => FreeFormat, "authentication_error";
    120 / 8 => FreeFormat, "authentication_user_certificate";
    120 / 9 => FreeFormat, "authentication_mac";
    120 / 10 => FreeFormat, "authentication_user_status_change";
    120 / 11 => FreeFormat, "authentication_update_key_change_request";
    120 / 12 => FreeFormat, "authentication_update_key_change_reply";
    120 / 13 => FreeFormat, "authentication_update_key_change";
    120 / 14 => FreeFormat, "authentication_update_key_change_signature";
    120 / 15 => FreeFormat, "authentication_update_key_change_confirmation";
    121 / 0 => AnyVariation, "security_statistic";
    121 / 1 => Fixed(7), "security_statistic_32_bit_with_flag";
    122 / 0 => AnyVariation, "security_statistic_event";
    122 / 1 => Fixed(7), "security_statistic_event_32_bit_with_flag";
    122 / 2 => Fixed(13), "security_statistic_event_32_bit_with_flag_and_time";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_agree_with_the_list() {
        for entry in CATALOG {
            let variation = entry.variation.unwrap_or(7);
            assert_eq!(object_kind(entry.group, variation), Some(entry.kind));
            assert_eq!(object_name(entry.group, variation), Some(entry.name));
        }
        let mut names: Vec<_> = CATALOG.iter().map(|e| e.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CATALOG.len(), "names are unique");
    }

    #[test]
    fn sizes_the_brief_relies_on() {
        assert_eq!(object_kind(12, 1), Some(Fixed(11)));
        assert_eq!(object_kind(41, 4), Some(Fixed(9)));
        assert_eq!(object_kind(50, 4), Some(Fixed(11)));
        assert_eq!(object_kind(60, 2), Some(NoValue));
        assert_eq!(object_kind(110, 12), Some(SizedByVariation));
        assert_eq!(object_kind(0, 242), Some(Attribute));
        assert_eq!(object_kind(70, 3), Some(FreeFormat));
        assert_eq!(object_kind(120, 3), Some(Fixed(6)));
        assert_eq!(object_kind(127, 1), None);
        assert_eq!(object_kind(60, 5), None);
        assert_eq!(object_name(80, 1), Some("internal_indications"));
    }
}
