//! S7comm wire enums as newtypes with named constants, so that an unknown
//! value still parses, prints as a number and can raise a finding.
//!
//! Values and names follow Wireshark's `packet-s7comm.c` (the dissector
//! behind the ground truth), in `snake_case`.

wire_enum! {
    /// The PDU type of an S7comm header (ROSCTR).
    Rosctr(u8) {
        /// A request (job with acknowledgement).
        JOB = 0x01 => "job";
        /// An acknowledgement without data.
        ACK = 0x02 => "ack";
        /// A response: acknowledgement with data.
        ACK_DATA = 0x03 => "ack_data";
        /// Userdata: programmer, cyclic, block, CPU, security and time functions.
        USERDATA = 0x07 => "userdata";
    }
}

impl Rosctr {
    /// True for the PDU types whose header carries error class and code (Ack, Ack_Data).
    pub const fn has_error_fields(self) -> bool {
        matches!(self, Rosctr::ACK | Rosctr::ACK_DATA)
    }
}

wire_enum! {
    /// The error class of an Ack or Ack_Data header.
    ErrorClass(u8) {
        /// No error.
        NO_ERROR = 0x00 => "no_error";
        /// Application relationship.
        APPLICATION_RELATIONSHIP = 0x81 => "application_relationship";
        /// Object definition.
        OBJECT_DEFINITION = 0x82 => "object_definition";
        /// No resources available.
        NO_RESOURCES = 0x83 => "no_resources";
        /// Error on service processing.
        SERVICE_PROCESSING = 0x84 => "service_processing";
        /// Error on supplies.
        SUPPLIES = 0x85 => "supplies";
        /// Access error.
        ACCESS = 0x87 => "access";
    }
}

wire_enum! {
    /// A 16-bit S7 error code: the header's error class and code together, the
    /// error field of a userdata parameter, or a block control error. The
    /// codes a detection needs; others print as numbers.
    ErrorCode(u16) {
        /// No error.
        NO_ERROR = 0x0000 => "no_error";
        /// Invalid block number.
        INVALID_BLOCK_NUMBER = 0x0110 => "invalid_block_number";
        /// Invalid request length.
        INVALID_REQUEST_LENGTH = 0x0111 => "invalid_request_length";
        /// Invalid parameter.
        INVALID_PARAMETER = 0x0112 => "invalid_parameter";
        /// Invalid block type.
        INVALID_BLOCK_TYPE = 0x0113 => "invalid_block_type";
        /// Block not found.
        BLOCK_NOT_FOUND = 0x0114 => "block_not_found";
        /// Block already exists.
        BLOCK_ALREADY_EXISTS = 0x0115 => "block_already_exists";
        /// Block is write-protected.
        BLOCK_WRITE_PROTECTED = 0x0116 => "block_write_protected";
        /// The block or operating system update is too large.
        BLOCK_TOO_LARGE = 0x0117 => "block_too_large";
        /// Incorrect password entered.
        INCORRECT_PASSWORD = 0x0119 => "incorrect_password";
        /// PG resource error.
        PG_RESOURCE_ERROR = 0x011A => "pg_resource_error";
        /// PLC resource error.
        PLC_RESOURCE_ERROR = 0x011B => "plc_resource_error";
        /// Protocol error.
        PROTOCOL_ERROR = 0x011C => "protocol_error";
        /// Too many blocks (module-related restriction).
        TOO_MANY_BLOCKS = 0x011D => "too_many_blocks";
        /// Result buffer too small.
        RESULT_BUFFER_TOO_SMALL = 0x011F => "result_buffer_too_small";
        /// End of block list.
        END_OF_BLOCK_LIST = 0x0120 => "end_of_block_list";
        /// Insufficient memory available.
        INSUFFICIENT_MEMORY = 0x0140 => "insufficient_memory";
        /// Job cannot be processed because of a lack of resources.
        LACK_OF_RESOURCES = 0x0141 => "lack_of_resources";
        /// The service cannot be performed while the block is in its current status.
        BLOCK_STATUS_PREVENTS_SERVICE = 0x8001 => "block_status_prevents_service";
        /// Error occurred while transferring the block.
        BLOCK_TRANSFER_ERROR = 0x8003 => "block_transfer_error";
        /// Service unknown to the remote module.
        SERVICE_UNKNOWN = 0x8100 => "service_unknown";
        /// Service not implemented on the module, or a frame error was reported.
        SERVICE_NOT_IMPLEMENTED = 0x8104 => "service_not_implemented";
        /// The type specification for the object is inconsistent.
        INCONSISTENT_OBJECT_TYPE = 0x8204 => "inconsistent_object_type";
        /// Insufficient memory space or work memory on the module.
        INSUFFICIENT_MODULE_MEMORY = 0x8301 => "insufficient_module_memory";
        /// Too few resources available.
        TOO_FEW_RESOURCES = 0x8302 => "too_few_resources";
        /// No further parallel upload possible.
        NO_PARALLEL_UPLOAD = 0x8304 => "no_parallel_upload";
        /// Function not available.
        FUNCTION_NOT_AVAILABLE = 0x8305 => "function_not_available";
        /// Invalid service sequence (for example, loading or uploading a block).
        INVALID_SERVICE_SEQUENCE = 0x8401 => "invalid_service_sequence";
        /// Service cannot execute owing to the status of the addressed object.
        OBJECT_STATUS_PREVENTS_SERVICE = 0x8402 => "object_status_prevents_service";
        /// The function cannot be performed.
        FUNCTION_CANNOT_BE_PERFORMED = 0x8404 => "function_cannot_be_performed";
        /// Wrong frames.
        WRONG_FRAMES = 0x8500 => "wrong_frames";
        /// Error addressing the object on the partner (for example, area length error).
        OBJECT_ADDRESSING_ERROR = 0x8701 => "object_addressing_error";
        /// The requested service is not supported by the module.
        SERVICE_NOT_SUPPORTED = 0x8702 => "service_not_supported";
        /// Access to object refused.
        ACCESS_REFUSED = 0x8703 => "access_refused";
        /// Object damaged.
        OBJECT_DAMAGED = 0x8704 => "object_damaged";
        /// Function not permitted in the current mode.
        NOT_PERMITTED_IN_CURRENT_MODE = 0xD081 => "not_permitted_in_current_mode";
        /// Function not permitted in the current protection level.
        NOT_PERMITTED_IN_PROTECTION_LEVEL = 0xD0A1 => "not_permitted_in_protection_level";
        /// Operating mode already set.
        MODE_ALREADY_SET = 0xD0AD => "mode_already_set";
        /// Protection level specified in the module properties not permitted.
        PROTECTION_LEVEL_NOT_PERMITTED = 0xD217 => "protection_level_not_permitted";
    }
}

wire_enum! {
    /// The function code: first byte of a Job or Ack_Data parameter (and of a
    /// userdata parameter, where 0x00 is CPU services and 0x01 a mode transition).
    Function(u8) {
        /// CPU services (userdata parameter head).
        CPU_SERVICES = 0x00 => "cpu_services";
        /// Mode transition indication (userdata parameter head).
        MODE_TRANSITION = 0x01 => "mode_transition";
        /// Read variables.
        READ_VAR = 0x04 => "read_var";
        /// Write variables.
        WRITE_VAR = 0x05 => "write_var";
        /// Request download (start of a block download).
        REQUEST_DOWNLOAD = 0x1A => "request_download";
        /// Download block.
        DOWNLOAD_BLOCK = 0x1B => "download_block";
        /// Download ended.
        DOWNLOAD_ENDED = 0x1C => "download_ended";
        /// Start upload.
        START_UPLOAD = 0x1D => "start_upload";
        /// Upload.
        UPLOAD = 0x1E => "upload";
        /// End upload.
        END_UPLOAD = 0x1F => "end_upload";
        /// Program invocation service (start, insert, delete, compress...).
        PI_SERVICE = 0x28 => "pi_service";
        /// PLC stop.
        PLC_STOP = 0x29 => "plc_stop";
        /// Setup communication (PDU size negotiation).
        SETUP_COMMUNICATION = 0xF0 => "setup_communication";
    }
}

impl Function {
    /// True for the block control functions that share the upload/download layout (0x1A-0x1F).
    pub const fn is_block_control(self) -> bool {
        matches!(self.0, 0x1A..=0x1F)
    }

    /// True for the download functions (0x1A-0x1C).
    pub const fn is_download(self) -> bool {
        matches!(self.0, 0x1A..=0x1C)
    }
}

wire_enum! {
    /// The memory area of an S7ANY address.
    Area(u8) {
        /// Data record (RDREC, firmware updates on CPs).
        DATA_RECORD = 0x01 => "data_record";
        /// System info of the 200 family.
        SYSTEM_INFO_200 = 0x03 => "system_info_200";
        /// System flags of the 200 family.
        SYSTEM_FLAGS_200 = 0x05 => "system_flags_200";
        /// Analog inputs of the 200 family.
        ANALOG_INPUTS_200 = 0x06 => "analog_inputs_200";
        /// Analog outputs of the 200 family.
        ANALOG_OUTPUTS_200 = 0x07 => "analog_outputs_200";
        /// S7 counters (C).
        COUNTERS = 0x1C => "counters";
        /// S7 timers (T).
        TIMERS = 0x1D => "timers";
        /// IEC counters (200 family).
        IEC_COUNTERS_200 = 0x1E => "iec_counters_200";
        /// IEC timers (200 family).
        IEC_TIMERS_200 = 0x1F => "iec_timers_200";
        /// Direct peripheral access (P).
        PERIPHERAL = 0x80 => "peripheral";
        /// Inputs (I).
        INPUTS = 0x81 => "inputs";
        /// Outputs (Q).
        OUTPUTS = 0x82 => "outputs";
        /// Flags / markers (M).
        FLAGS = 0x83 => "flags";
        /// Data blocks (DB).
        DATA_BLOCKS = 0x84 => "data_blocks";
        /// Instance data blocks (DI).
        INSTANCE_DATA_BLOCKS = 0x85 => "instance_data_blocks";
        /// Local data (L).
        LOCAL = 0x86 => "local";
        /// Previous local data (V).
        PREVIOUS_LOCAL = 0x87 => "previous_local";
    }
}

impl Area {
    /// The short mnemonic Step 7 uses (`I`, `Q`, `M`, `DB`, `C`, `T`...).
    pub const fn short(self) -> Option<&'static str> {
        Some(match self {
            Area::DATA_RECORD => "RECORD",
            Area::SYSTEM_INFO_200 => "SI200",
            Area::SYSTEM_FLAGS_200 => "SF200",
            Area::ANALOG_INPUTS_200 => "AI200",
            Area::ANALOG_OUTPUTS_200 => "AO",
            Area::COUNTERS => "C",
            Area::TIMERS => "T",
            Area::IEC_COUNTERS_200 => "C200",
            Area::IEC_TIMERS_200 => "T200",
            Area::PERIPHERAL => "P",
            Area::INPUTS => "I",
            Area::OUTPUTS => "Q",
            Area::FLAGS => "M",
            Area::DATA_BLOCKS => "DB",
            Area::INSTANCE_DATA_BLOCKS => "DI",
            Area::LOCAL => "L",
            Area::PREVIOUS_LOCAL => "V",
            _ => return None,
        })
    }
}

wire_enum! {
    /// The transport size of an S7ANY address (the element type addressed).
    TransportSize(u8) {
        /// Bit.
        BIT = 1 => "bit";
        /// Byte.
        BYTE = 2 => "byte";
        /// Char.
        CHAR = 3 => "char";
        /// Word.
        WORD = 4 => "word";
        /// Int.
        INT = 5 => "int";
        /// Double word.
        DWORD = 6 => "dword";
        /// Double int.
        DINT = 7 => "dint";
        /// Real.
        REAL = 8 => "real";
        /// Date.
        DATE = 9 => "date";
        /// Time of day.
        TOD = 10 => "tod";
        /// Time.
        TIME = 11 => "time";
        /// S5 time.
        S5TIME = 12 => "s5time";
        /// Date and time.
        DATE_AND_TIME = 15 => "date_and_time";
        /// Counter.
        COUNTER = 28 => "counter";
        /// Timer.
        TIMER = 29 => "timer";
        /// IEC counter.
        IEC_COUNTER = 30 => "iec_counter";
        /// IEC timer.
        IEC_TIMER = 31 => "iec_timer";
        /// High-speed counter.
        HS_COUNTER = 32 => "hs_counter";
    }
}

wire_enum! {
    /// The transport size of a data item (read response, write request,
    /// userdata data): how its length field counts.
    DataTransportSize(u8) {
        /// Null (no data, e.g. after an error return code).
        NULL = 0 => "null";
        /// Bit access: length in bits.
        BIT = 3 => "bit";
        /// Byte/word/dword access: length in bits.
        BYTE_WORD_DWORD = 4 => "byte_word_dword";
        /// Integer access: length in bits.
        INTEGER = 5 => "integer";
        /// Double integer access: length in bytes.
        DINTEGER = 6 => "dinteger";
        /// Real access: length in bytes.
        REAL = 7 => "real";
        /// Octet string: length in bytes.
        OCTET_STRING = 9 => "octet_string";
        /// NCK address description.
        NCK_ADDRESS_1 = 17 => "nck_address_1";
        /// NCK address description.
        NCK_ADDRESS_2 = 18 => "nck_address_2";
    }
}

impl DataTransportSize {
    /// True when the length field counts bits rather than bytes.
    pub const fn length_in_bits(self) -> bool {
        matches!(
            self,
            DataTransportSize::BIT
                | DataTransportSize::BYTE_WORD_DWORD
                | DataTransportSize::INTEGER
        )
    }
}

wire_enum! {
    /// The return code of a data item in a response.
    ReturnCode(u8) {
        /// Reserved (seen as "no error" in some responses).
        RESERVED = 0x00 => "reserved";
        /// Hardware error.
        HARDWARE_FAULT = 0x01 => "hardware_fault";
        /// Accessing the object not allowed.
        ACCESS_FAULT = 0x03 => "access_fault";
        /// Invalid address: beyond the limits of this PLC.
        ADDRESS_OUT_OF_RANGE = 0x05 => "address_out_of_range";
        /// Data type not supported.
        DATA_TYPE_NOT_SUPPORTED = 0x06 => "data_type_not_supported";
        /// Data type inconsistent.
        DATA_TYPE_INCONSISTENT = 0x07 => "data_type_inconsistent";
        /// Object does not exist (e.g. a missing DB).
        OBJECT_DOES_NOT_EXIST = 0x0A => "object_does_not_exist";
        /// Success.
        SUCCESS = 0xFF => "success";
    }
}

wire_enum! {
    /// The syntax id of a variable specification.
    SyntaxId(u8) {
        /// S7ANY pointer (classic 300/400 addressing, DB1.DBX10.2).
        S7ANY = 0x10 => "s7any";
        /// Parameter short.
        SHORT = 0x11 => "parameter_short";
        /// Parameter extended.
        EXT = 0x12 => "parameter_extended";
        /// PBC R_ID.
        PBC_ID = 0x13 => "pbc_r_id";
        /// Alarm lock/free dataset.
        ALARM_LOCKFREE = 0x15 => "alarm_lockfree";
        /// Alarm indication dataset.
        ALARM_IND = 0x16 => "alarm_ind";
        /// Alarm acknowledge dataset.
        ALARM_ACK = 0x19 => "alarm_ack";
        /// Alarm query request dataset.
        ALARM_QUERYREQ = 0x1A => "alarm_queryreq";
        /// Notify indication dataset.
        NOTIFY_IND = 0x1C => "notify_ind";
        /// Sinumerik NCK access.
        NCK = 0x82 => "nck";
        /// Sinumerik NCK access, metric units.
        NCK_METRIC = 0x83 => "nck_metric";
        /// Sinumerik NCK access, inch units.
        NCK_INCH = 0x84 => "nck_inch";
        /// Drive ES routed access.
        DRIVEESANY = 0xA2 => "driveesany";
        /// S7-400 DB read.
        DBREAD = 0xB0 => "dbread";
        /// S7-1200 symbolic addressing.
        SYM1200 = 0xB2 => "1200sym";
    }
}

wire_enum! {
    /// A block type, as the two ASCII hex digits of a block file name decode
    /// (`_0A00001P` is DB 1).
    BlockType(u8) {
        /// Organisation block.
        OB = 0x08 => "ob";
        /// CMod.
        CMOD = 0x09 => "cmod";
        /// Data block.
        DB = 0x0A => "db";
        /// System data block.
        SDB = 0x0B => "sdb";
        /// Function.
        FC = 0x0C => "fc";
        /// System function.
        SFC = 0x0D => "sfc";
        /// Function block.
        FB = 0x0E => "fb";
        /// System function block.
        SFB = 0x0F => "sfb";
    }
}

impl BlockType {
    /// Decodes the two ASCII hex digits of a block type (`b"0A"` is DB).
    pub fn from_ascii(digits: [u8; 2]) -> Option<BlockType> {
        let [high, low] = digits;
        let value = |d: u8| char::from(d).to_digit(16);
        let byte = value(high)?.checked_mul(16)?.checked_add(value(low)?)?;
        u8::try_from(byte).ok().map(BlockType)
    }

    /// The two upper-case ASCII hex digits of the block type.
    pub fn to_ascii(self) -> [u8; 2] {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let digit = |n: u8| HEX.get(usize::from(n & 0x0F)).copied().unwrap_or(b'0');
        [digit(self.0 >> 4), digit(self.0)]
    }
}

wire_enum! {
    /// The function group of a userdata parameter (low nibble of the type/group byte).
    UserdataGroup(u8) {
        /// Mode transition indications (STOP, RUN, restarts).
        MODE_TRANSITION = 0 => "mode_transition";
        /// Programmer commands: test and installation functions (modify, force...).
        PROGRAMMER = 1 => "programmer_commands";
        /// Cyclic data services.
        CYCLIC = 2 => "cyclic_services";
        /// Block functions (list blocks, block info).
        BLOCK = 3 => "block_functions";
        /// CPU functions (Read SZL, alarms, diagnostics).
        CPU = 4 => "cpu_functions";
        /// Security (PLC password).
        SECURITY = 5 => "security";
        /// Programmable block communication (BSEND).
        PBC = 6 => "pbc_bsend";
        /// Time functions (read and set the clock).
        TIME = 7 => "time_functions";
    }
}

wire_enum! {
    /// The type of a userdata parameter (high nibble of the type/group byte).
    UserdataKind(u8) {
        /// Push / indication (unsolicited, from the PLC).
        PUSH = 0x0 => "push";
        /// Request.
        REQUEST = 0x4 => "request";
        /// Response.
        RESPONSE = 0x8 => "response";
    }
}

/// Userdata subfunction names per group, from Wireshark's tables; group 0's
/// subfunction is the mode entered.
const SUBFUNCTIONS: &[(u8, &[(u8, &str)])] = &[
    (
        0,
        &[
            (0x00, "stop"),
            (0x01, "warm_restart"),
            (0x02, "run"),
            (0x03, "hot_restart"),
            (0x04, "hold"),
            (0x06, "cold_restart"),
            (0x09, "run_r"),
            (0x0B, "link_up"),
            (0x0C, "update"),
        ],
    ),
    (
        1,
        &[
            (0x01, "block_status"),
            (0x02, "variable_status"),
            (0x03, "output_istack"),
            (0x04, "output_bstack"),
            (0x05, "output_lstack"),
            (0x06, "time_measurement"),
            (0x07, "force_selection"),
            (0x08, "modify_variable"),
            (0x09, "force"),
            (0x0A, "breakpoint"),
            (0x0B, "exit_hold"),
            (0x0C, "memory_reset"),
            (0x0D, "disable_job"),
            (0x0E, "enable_job"),
            (0x0F, "delete_job"),
            (0x10, "read_job_list"),
            (0x11, "read_job"),
            (0x12, "replace_job"),
            (0x13, "block_status_v2"),
            (0x16, "flash_led"),
        ],
    ),
    (
        2,
        &[
            (0x01, "cyclic_transfer"),
            (0x04, "unsubscribe"),
            (0x05, "change_driven_transfer"),
            (0x07, "change_driven_transfer_modify"),
            (0x08, "rdrec"),
        ],
    ),
    (
        3,
        &[
            (0x01, "list_blocks"),
            (0x02, "list_blocks_of_type"),
            (0x03, "get_block_info"),
        ],
    ),
    (
        4,
        &[
            (0x01, "read_szl"),
            (0x02, "message_service"),
            (0x03, "diagnostic_message"),
            (0x05, "alarm8_indication"),
            (0x06, "notify_indication"),
            (0x07, "alarm8_lock"),
            (0x08, "alarm8_unlock"),
            (0x09, "scan_indication"),
            (0x0B, "alarm_ack"),
            (0x0C, "alarm_ack_indication"),
            (0x0D, "alarm_lock_indication"),
            (0x0E, "alarm_unlock_indication"),
            (0x10, "ar_send_indication"),
            (0x11, "alarm_sq_indication"),
            (0x12, "alarm_s_indication"),
            (0x13, "alarm_query"),
            (0x16, "notify8_indication"),
        ],
    ),
    (5, &[(0x01, "plc_password")]),
    (
        7,
        &[
            (0x01, "read_clock"),
            (0x02, "set_clock"),
            (0x03, "read_clock_following"),
            (0x04, "set_clock_2"),
        ],
    ),
];

/// The name of userdata subfunction `sub` in function group `group`, in
/// `snake_case` (group 4 sub 1 is `read_szl`, group 0 sub 0 `stop`).
pub fn subfunction_name(group: UserdataGroup, sub: u8) -> Option<&'static str> {
    SUBFUNCTIONS
        .iter()
        .find(|(g, _)| *g == group.0)
        .and_then(|(_, subs)| subs.iter().find(|(s, _)| *s == sub))
        .map(|&(_, name)| name)
}

/// Well-known userdata subfunctions, by group, for matching in detections.
pub mod subfunction {
    /// Group 0: the CPU entered STOP.
    pub const MODE_STOP: u8 = 0x00;
    /// Group 0: warm restart.
    pub const MODE_WARM_RESTART: u8 = 0x01;
    /// Group 0: the CPU entered RUN.
    pub const MODE_RUN: u8 = 0x02;
    /// Group 0: hot restart.
    pub const MODE_HOT_RESTART: u8 = 0x03;
    /// Group 0: cold restart.
    pub const MODE_COLD_RESTART: u8 = 0x06;
    /// Group 1: modify variable.
    pub const MODIFY_VARIABLE: u8 = 0x08;
    /// Group 1: force.
    pub const FORCE: u8 = 0x09;
    /// Group 1: memory reset.
    pub const MEMORY_RESET: u8 = 0x0C;
    /// Group 3: list blocks.
    pub const LIST_BLOCKS: u8 = 0x01;
    /// Group 3: list blocks of type.
    pub const LIST_BLOCKS_OF_TYPE: u8 = 0x02;
    /// Group 3: get block info.
    pub const GET_BLOCK_INFO: u8 = 0x03;
    /// Group 4: Read SZL.
    pub const READ_SZL: u8 = 0x01;
    /// Group 5: PLC password.
    pub const PLC_PASSWORD: u8 = 0x01;
    /// Group 7: set clock.
    pub const SET_CLOCK: u8 = 0x02;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(Rosctr::USERDATA.name(), Some("userdata"));
        assert_eq!(Rosctr(9).name(), None);
        assert!(Rosctr::ACK_DATA.has_error_fields());
        assert!(!Rosctr::JOB.has_error_fields());
        assert_eq!(Function::PLC_STOP.name(), Some("plc_stop"));
        assert!(Function::START_UPLOAD.is_block_control());
        assert!(!Function::START_UPLOAD.is_download());
        assert_eq!(Area::DATA_BLOCKS.short(), Some("DB"));
        assert_eq!(Area(0x99).short(), None);
        assert_eq!(ReturnCode(0x0A).name(), Some("object_does_not_exist"));
        assert_eq!(ErrorCode(0x0119).name(), Some("incorrect_password"));
        assert!(DataTransportSize::BYTE_WORD_DWORD.length_in_bits());
        assert!(!DataTransportSize::OCTET_STRING.length_in_bits());
        assert_eq!(UserdataKind(0x8).name(), Some("response"));
    }

    #[test]
    fn subfunctions() {
        assert_eq!(subfunction_name(UserdataGroup::CPU, 1), Some("read_szl"));
        assert_eq!(
            subfunction_name(UserdataGroup::PROGRAMMER, 8),
            Some("modify_variable")
        );
        assert_eq!(
            subfunction_name(UserdataGroup::MODE_TRANSITION, 2),
            Some("run")
        );
        assert_eq!(
            subfunction_name(UserdataGroup::SECURITY, 1),
            Some("plc_password")
        );
        assert_eq!(subfunction_name(UserdataGroup::PBC, 1), None);
        assert_eq!(subfunction_name(UserdataGroup(9), 1), None);
        for (group, subs) in SUBFUNCTIONS {
            assert!(UserdataGroup(*group).name().is_some());
            for (i, (sub, _)) in subs.iter().enumerate() {
                assert!(subs.iter().skip(i + 1).all(|(other, _)| other != sub));
            }
        }
    }

    #[test]
    fn block_types_from_ascii() {
        assert_eq!(BlockType::from_ascii(*b"0A"), Some(BlockType::DB));
        assert_eq!(BlockType::from_ascii(*b"08"), Some(BlockType::OB));
        assert_eq!(BlockType::from_ascii(*b"0e"), Some(BlockType::FB));
        assert_eq!(BlockType::from_ascii(*b"0G"), None);
        assert_eq!(BlockType::SFB.to_ascii(), *b"0F");
        for t in BlockType::ALL {
            assert_eq!(BlockType::from_ascii(t.to_ascii()), Some(*t));
        }
    }
}
