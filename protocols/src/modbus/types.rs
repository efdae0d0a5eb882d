//! Modbus wire enums as newtypes with named constants, so that an unknown
//! value still parses, prints as a number and can raise an anomaly.
//!
//! Values and names follow the MODBUS Application Protocol Specification
//! V1.1b3: section 5 (function codes), section 6 (sub-functions and MEI types),
//! section 7 (exception codes) and Annex A (reserved codes). Names are the
//! specification's, in `snake_case`, ready for JSON output.

/// Declares the named values of a wire newtype once: the constants, the
/// list of every named value and the name lookup all come from one table.
macro_rules! named_values {
    (
        $ty:ident($repr:ty) {
            $( $(#[$doc:meta])* $konst:ident = $value:literal => $text:literal; )*
        }
    ) => {
        impl $ty {
            $( $(#[$doc])* pub const $konst: $ty = $ty($value); )*

            /// Every value the specification names, in numeric order.
            pub const ALL: &'static [$ty] = &[$($ty::$konst),*];

            /// The specification's name of `value`, in `snake_case`.
            const fn name_of(value: $repr) -> Option<&'static str> {
                match value {
                    $( $value => Some($text), )*
                    _ => None,
                }
            }
        }
    };
}

/// The function code of a Modbus PDU (first byte). Bit 7 marks an exception response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FunctionCode(pub u8);

named_values! {
    FunctionCode(u8) {
        /// Read Coils (0x01).
        READ_COILS = 1 => "read_coils";
        /// Read Discrete Inputs (0x02).
        READ_DISCRETE_INPUTS = 2 => "read_discrete_inputs";
        /// Read Holding Registers (0x03).
        READ_HOLDING_REGISTERS = 3 => "read_holding_registers";
        /// Read Input Registers (0x04).
        READ_INPUT_REGISTERS = 4 => "read_input_registers";
        /// Write Single Coil (0x05).
        WRITE_SINGLE_COIL = 5 => "write_single_coil";
        /// Write Single Register (0x06).
        WRITE_SINGLE_REGISTER = 6 => "write_single_register";
        /// Read Exception Status (0x07, serial line only).
        READ_EXCEPTION_STATUS = 7 => "read_exception_status";
        /// Diagnostics (0x08, serial line only), with a sub-function.
        DIAGNOSTICS = 8 => "diagnostics";
        /// Get Comm Event Counter (0x0B, serial line only).
        GET_COMM_EVENT_COUNTER = 11 => "get_comm_event_counter";
        /// Get Comm Event Log (0x0C, serial line only).
        GET_COMM_EVENT_LOG = 12 => "get_comm_event_log";
        /// Write Multiple Coils (0x0F).
        WRITE_MULTIPLE_COILS = 15 => "write_multiple_coils";
        /// Write Multiple Registers (0x10).
        WRITE_MULTIPLE_REGISTERS = 16 => "write_multiple_registers";
        /// Report Server ID (0x11, serial line only).
        REPORT_SERVER_ID = 17 => "report_server_id";
        /// Read File Record (0x14).
        READ_FILE_RECORD = 20 => "read_file_record";
        /// Write File Record (0x15).
        WRITE_FILE_RECORD = 21 => "write_file_record";
        /// Mask Write Register (0x16).
        MASK_WRITE_REGISTER = 22 => "mask_write_register";
        /// Read/Write Multiple Registers (0x17).
        READ_WRITE_MULTIPLE_REGISTERS = 23 => "read_write_multiple_registers";
        /// Read FIFO Queue (0x18).
        READ_FIFO_QUEUE = 24 => "read_fifo_queue";
        /// Encapsulated Interface Transport (0x2B), with an MEI type.
        ENCAPSULATED_INTERFACE_TRANSPORT = 43 => "encapsulated_interface_transport";
    }
}

/// Bit 7 of a function code: set in exception responses.
const EXCEPTION_BIT: u8 = 0x80;

impl FunctionCode {
    /// The function code with the exception bit cleared (7 bits).
    pub const fn code(self) -> u8 {
        self.0 & !EXCEPTION_BIT
    }

    /// True for an exception response (bit 7 set).
    pub const fn is_exception(self) -> bool {
        self.0 & EXCEPTION_BIT != 0
    }

    /// The exception response code for this function (bit 7 set).
    pub const fn to_exception(self) -> FunctionCode {
        FunctionCode(self.0 | EXCEPTION_BIT)
    }

    /// The function code without the exception bit.
    pub const fn without_exception(self) -> FunctionCode {
        FunctionCode(self.code())
    }

    /// The name of the (masked) function code, if it is a public assigned one.
    pub const fn name(self) -> Option<&'static str> {
        Self::name_of(self.code())
    }

    /// Which part of the code space (masked to 7 bits) the code belongs to.
    pub const fn class(self) -> FunctionClass {
        match self.code() {
            0 => FunctionClass::Zero,
            65..=72 | 100..=110 => FunctionClass::UserDefined,
            9 | 10 | 13 | 14 | 41 | 42 | 90 | 91 | 125..=127 => FunctionClass::Reserved,
            code => match Self::name_of(code) {
                Some(_) => FunctionClass::Public,
                None => FunctionClass::Unassigned,
            },
        }
    }
}

/// The part of the function code space a code belongs to (spec section 5 and Annex A).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FunctionClass {
    /// A public function code with an assigned meaning.
    Public,
    /// User-defined codes 65–72 and 100–110, free for vendor use.
    UserDefined,
    /// Codes used by some companies for legacy products (9, 10, 13, 14, 41, 42, 90, 91, 125–127).
    Reserved,
    /// A public code not (yet) assigned by the specification.
    Unassigned,
    /// Code 0, never valid.
    Zero,
}

impl FunctionClass {
    /// The class name in `snake_case`.
    pub const fn name(self) -> &'static str {
        match self {
            FunctionClass::Public => "public",
            FunctionClass::UserDefined => "user_defined",
            FunctionClass::Reserved => "reserved",
            FunctionClass::Unassigned => "unassigned",
            FunctionClass::Zero => "zero",
        }
    }
}

/// The exception code of an exception response (spec section 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExceptionCode(pub u8);

named_values! {
    ExceptionCode(u8) {
        /// The function code is not an allowable action for the server.
        ILLEGAL_FUNCTION = 0x01 => "illegal_function";
        /// The data address is not an allowable address for the server.
        ILLEGAL_DATA_ADDRESS = 0x02 => "illegal_data_address";
        /// A value in the query data field is not allowable for the server.
        ILLEGAL_DATA_VALUE = 0x03 => "illegal_data_value";
        /// An unrecoverable error occurred while the server performed the action.
        SERVER_DEVICE_FAILURE = 0x04 => "server_device_failure";
        /// The request was accepted and needs a long time to process.
        ACKNOWLEDGE = 0x05 => "acknowledge";
        /// The server is processing a long-duration command.
        SERVER_DEVICE_BUSY = 0x06 => "server_device_busy";
        /// The extended file area failed a consistency check.
        MEMORY_PARITY_ERROR = 0x08 => "memory_parity_error";
        /// The gateway could not allocate a path to the target.
        GATEWAY_PATH_UNAVAILABLE = 0x0A => "gateway_path_unavailable";
        /// The target device behind the gateway did not respond.
        GATEWAY_TARGET_DEVICE_FAILED_TO_RESPOND = 0x0B => "gateway_target_device_failed_to_respond";
    }
}

impl ExceptionCode {
    /// The specification's name of the code, if it defines one.
    pub const fn name(self) -> Option<&'static str> {
        Self::name_of(self.0)
    }
}

/// A sub-function of Diagnostics (function code 8, spec section 6.8.1).
///
/// `Body::Diagnostics` carries the raw `u16`; wrap it to name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DiagnosticSubFunction(pub u16);

named_values! {
    DiagnosticSubFunction(u16) {
        /// Echo the request data.
        RETURN_QUERY_DATA = 0x0000 => "return_query_data";
        /// Restart the serial line port, optionally clearing the event log.
        RESTART_COMMUNICATIONS_OPTION = 0x0001 => "restart_communications_option";
        /// Return the 16-bit diagnostic register.
        RETURN_DIAGNOSTIC_REGISTER = 0x0002 => "return_diagnostic_register";
        /// Change the ASCII mode message delimiter.
        CHANGE_ASCII_INPUT_DELIMITER = 0x0003 => "change_ascii_input_delimiter";
        /// Force the server into listen-only mode: it stops answering.
        FORCE_LISTEN_ONLY_MODE = 0x0004 => "force_listen_only_mode";
        /// Clear all counters and the diagnostic register.
        CLEAR_COUNTERS_AND_DIAGNOSTIC_REGISTER = 0x000A => "clear_counters_and_diagnostic_register";
        /// Return the bus message count.
        RETURN_BUS_MESSAGE_COUNT = 0x000B => "return_bus_message_count";
        /// Return the bus communication error (CRC) count.
        RETURN_BUS_COMMUNICATION_ERROR_COUNT = 0x000C => "return_bus_communication_error_count";
        /// Return the bus exception error count.
        RETURN_BUS_EXCEPTION_ERROR_COUNT = 0x000D => "return_bus_exception_error_count";
        /// Return the server message count.
        RETURN_SERVER_MESSAGE_COUNT = 0x000E => "return_server_message_count";
        /// Return the server no-response count.
        RETURN_SERVER_NO_RESPONSE_COUNT = 0x000F => "return_server_no_response_count";
        /// Return the server NAK count.
        RETURN_SERVER_NAK_COUNT = 0x0010 => "return_server_nak_count";
        /// Return the server busy count.
        RETURN_SERVER_BUSY_COUNT = 0x0011 => "return_server_busy_count";
        /// Return the bus character overrun count.
        RETURN_BUS_CHARACTER_OVERRUN_COUNT = 0x0012 => "return_bus_character_overrun_count";
        /// Clear the overrun counter and flag.
        CLEAR_OVERRUN_COUNTER_AND_FLAG = 0x0014 => "clear_overrun_counter_and_flag";
    }
}

impl DiagnosticSubFunction {
    /// The specification's name of the sub-function, if it defines one.
    pub const fn name(self) -> Option<&'static str> {
        Self::name_of(self.0)
    }

    /// True for the sub-functions the specification reserves (5–9, 19, 21–65535).
    pub const fn is_reserved(self) -> bool {
        Self::name_of(self.0).is_none()
    }
}

/// The MEI type of an Encapsulated Interface Transport PDU (function code 43).
///
/// Types 0–12 and 15–255 are reserved (spec Annex A).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MeiType(pub u8);

named_values! {
    MeiType(u8) {
        /// CANopen General Reference Request and Response PDU.
        CANOPEN_GENERAL_REFERENCE = 13 => "canopen_general_reference";
        /// Read Device Identification.
        READ_DEVICE_IDENTIFICATION = 14 => "read_device_identification";
    }
}

impl MeiType {
    /// The specification's name of the MEI type, if it defines one.
    pub const fn name(self) -> Option<&'static str> {
        Self::name_of(self.0)
    }
}

/// The Read Device ID code of a Read Device Identification request (spec 6.21).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReadDeviceIdCode(pub u8);

named_values! {
    ReadDeviceIdCode(u8) {
        /// Basic device identification, stream access.
        BASIC = 1 => "basic";
        /// Regular device identification, stream access.
        REGULAR = 2 => "regular";
        /// Extended device identification, stream access.
        EXTENDED = 3 => "extended";
        /// One specific identification object, individual access.
        SPECIFIC = 4 => "specific";
    }
}

impl ReadDeviceIdCode {
    /// The specification's name of the code, if it defines one.
    pub const fn name(self) -> Option<&'static str> {
        Self::name_of(self.0)
    }
}

/// The id of a device identification object (spec 6.21). Ids 0–6 are named;
/// 7–0x7F are reserved, 0x80–0xFF are product dependent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceIdObjectId(pub u8);

named_values! {
    DeviceIdObjectId(u8) {
        /// VendorName (basic, mandatory).
        VENDOR_NAME = 0 => "vendor_name";
        /// ProductCode (basic, mandatory).
        PRODUCT_CODE = 1 => "product_code";
        /// MajorMinorRevision (basic, mandatory).
        MAJOR_MINOR_REVISION = 2 => "major_minor_revision";
        /// VendorUrl (regular, optional).
        VENDOR_URL = 3 => "vendor_url";
        /// ProductName (regular, optional).
        PRODUCT_NAME = 4 => "product_name";
        /// ModelName (regular, optional).
        MODEL_NAME = 5 => "model_name";
        /// UserApplicationName (regular, optional).
        USER_APPLICATION_NAME = 6 => "user_application_name";
    }
}

impl DeviceIdObjectId {
    /// The specification's name of the object, for ids 0–6.
    pub const fn name(self) -> Option<&'static str> {
        Self::name_of(self.0)
    }
}

/// The name of device identification object `id` (0–6), in `snake_case`.
pub const fn device_id_object_name(id: u8) -> Option<&'static str> {
    DeviceIdObjectId(id).name()
}

/// Which way a PDU travels: client to server, or back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Client to server.
    Request,
    /// Server to client (normal or exception response).
    Response,
}

/// One of the Modbus data tables a request reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    /// Single-bit read/write outputs.
    Coils,
    /// Single-bit read-only inputs.
    DiscreteInputs,
    /// 16-bit read/write registers.
    HoldingRegisters,
    /// 16-bit read-only registers.
    InputRegisters,
    /// Records of the extended file area (function codes 20 and 21).
    FileRecords,
}

impl Table {
    /// The table name in `snake_case`, e.g. `"holding_registers"`.
    pub const fn name(self) -> &'static str {
        match self {
            Table::Coils => "coils",
            Table::DiscreteInputs => "discrete_inputs",
            Table::HoldingRegisters => "holding_registers",
            Table::InputRegisters => "input_registers",
            Table::FileRecords => "file_records",
        }
    }
}

/// Whether a request reads or writes a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Access {
    /// The request reads the table.
    Read,
    /// The request writes the table.
    Write,
}

impl Access {
    /// `"read"` or `"write"`.
    pub const fn name(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_follow_the_specification() {
        let class = |code: u8| FunctionCode(code).class();
        assert_eq!(class(0), FunctionClass::Zero);
        assert_eq!(class(0x80), FunctionClass::Zero);
        for code in [
            1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 15, 16, 17, 20, 21, 22, 23, 24, 43,
        ] {
            assert_eq!(class(code), FunctionClass::Public, "{code}");
            assert_eq!(class(code | 0x80), FunctionClass::Public, "{code}");
        }
        for code in [9, 10, 13, 14, 41, 42, 90, 91, 125, 126, 127] {
            assert_eq!(class(code), FunctionClass::Reserved, "{code}");
        }
        for code in (65..=72).chain(100..=110) {
            assert_eq!(class(code), FunctionClass::UserDefined, "{code}");
        }
        for code in [18, 19, 25, 40, 44, 64, 73, 99, 111, 124] {
            assert_eq!(class(code), FunctionClass::Unassigned, "{code}");
        }
    }

    #[test]
    fn every_public_code_is_named_and_every_named_code_is_public() {
        assert_eq!(FunctionCode::ALL.len(), 19);
        for code in FunctionCode::ALL {
            assert!(code.name().is_some());
            assert_eq!(code.class(), FunctionClass::Public);
        }
        let named = (0..=127u8)
            .filter(|&c| FunctionCode(c).name().is_some())
            .count();
        assert_eq!(named, FunctionCode::ALL.len());
    }

    #[test]
    fn exception_bit_is_masked() {
        let f = FunctionCode(0x83);
        assert!(f.is_exception());
        assert_eq!(f.code(), 3);
        assert_eq!(f.name(), Some("read_holding_registers"));
        assert_eq!(FunctionCode::READ_COILS.to_exception(), FunctionCode(0x81));
        assert_eq!(f.without_exception(), FunctionCode::READ_HOLDING_REGISTERS);
        assert!(!FunctionCode::READ_COILS.is_exception());
    }

    #[test]
    fn names() {
        assert_eq!(
            ExceptionCode::ILLEGAL_DATA_ADDRESS.name(),
            Some("illegal_data_address")
        );
        assert_eq!(ExceptionCode(7).name(), None);
        assert_eq!(ExceptionCode::ALL.len(), 9);
        assert_eq!(device_id_object_name(0), Some("vendor_name"));
        assert_eq!(device_id_object_name(6), Some("user_application_name"));
        assert_eq!(device_id_object_name(7), None);
        assert_eq!(MeiType(14).name(), Some("read_device_identification"));
        assert_eq!(MeiType(15).name(), None);
        assert_eq!(Table::HoldingRegisters.name(), "holding_registers");
        assert_eq!(Access::Write.name(), "write");
        assert!(DiagnosticSubFunction(19).is_reserved());
        assert!(DiagnosticSubFunction(21).is_reserved());
        assert!(!DiagnosticSubFunction::FORCE_LISTEN_ONLY_MODE.is_reserved());
        assert_eq!(
            DiagnosticSubFunction(0x0A).name(),
            Some("clear_counters_and_diagnostic_register")
        );
    }
}
