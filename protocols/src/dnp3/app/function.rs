//! Application-layer function codes (IEEE 1815-2012 table 4-1).

wire_enum! {
    /// The function code of an application fragment: 0x00-0x21 requests,
    /// 0x81-0x83 responses.
    FunctionCode(u8) {
        /// Confirm: acknowledges a response or unsolicited response that asked for one.
        CONFIRM = 0x00 => "confirm";
        /// Read the objects named by the object headers.
        READ = 0x01 => "read";
        /// Write the objects that follow.
        WRITE = 0x02 => "write";
        /// Select outputs (first step of select-before-operate).
        SELECT = 0x03 => "select";
        /// Operate the outputs selected before.
        OPERATE = 0x04 => "operate";
        /// Operate outputs without a select.
        DIRECT_OPERATE = 0x05 => "direct_operate";
        /// Direct operate, no response.
        DIRECT_OPERATE_NR = 0x06 => "direct_operate_nr";
        /// Freeze counters or analogs.
        IMMED_FREEZE = 0x07 => "immed_freeze";
        /// Immediate freeze, no response.
        IMMED_FREEZE_NR = 0x08 => "immed_freeze_nr";
        /// Freeze and clear.
        FREEZE_CLEAR = 0x09 => "freeze_clear";
        /// Freeze and clear, no response.
        FREEZE_CLEAR_NR = 0x0A => "freeze_clear_nr";
        /// Freeze at a time (g50v2 gives time and interval).
        FREEZE_AT_TIME = 0x0B => "freeze_at_time";
        /// Freeze at time, no response.
        FREEZE_AT_TIME_NR = 0x0C => "freeze_at_time_nr";
        /// Cold restart of the outstation.
        COLD_RESTART = 0x0D => "cold_restart";
        /// Warm restart of the outstation.
        WARM_RESTART = 0x0E => "warm_restart";
        /// Initialize data to defaults (obsolete).
        INITIALIZE_DATA = 0x0F => "initialize_data";
        /// Initialize applications (g90 names them).
        INITIALIZE_APPLICATION = 0x10 => "initialize_application";
        /// Start applications.
        START_APPLICATION = 0x11 => "start_application";
        /// Stop applications.
        STOP_APPLICATION = 0x12 => "stop_application";
        /// Save configuration (deprecated).
        SAVE_CONFIGURATION = 0x13 => "save_configuration";
        /// Enable unsolicited responses for the classes named.
        ENABLE_UNSOLICITED = 0x14 => "enable_unsolicited";
        /// Disable unsolicited responses for the classes named.
        DISABLE_UNSOLICITED = 0x15 => "disable_unsolicited";
        /// Assign points to event classes.
        ASSIGN_CLASS = 0x16 => "assign_class";
        /// Measure the link delay (non-LAN time synchronisation).
        DELAY_MEASURE = 0x17 => "delay_measure";
        /// Record the current time (LAN time synchronisation).
        RECORD_CURRENT_TIME = 0x18 => "record_current_time";
        /// Open a file.
        OPEN_FILE = 0x19 => "open_file";
        /// Close a file.
        CLOSE_FILE = 0x1A => "close_file";
        /// Delete a file.
        DELETE_FILE = 0x1B => "delete_file";
        /// Get file information.
        GET_FILE_INFO = 0x1C => "get_file_info";
        /// Obtain an authentication key for file operations.
        AUTHENTICATE_FILE = 0x1D => "authenticate_file";
        /// Abort a file transfer.
        ABORT_FILE = 0x1E => "abort_file";
        /// Activate a configuration (files or strings named by the objects).
        ACTIVATE_CONFIG = 0x1F => "activate_config";
        /// Secure Authentication request (expects a response).
        AUTHENTICATE_REQ = 0x20 => "authenticate_req";
        /// Secure Authentication request, no acknowledgement (errors).
        AUTH_REQ_NO_ACK = 0x21 => "auth_req_no_ack";
        /// Response to a request.
        RESPONSE = 0x81 => "response";
        /// Unsolicited response (events sent without a request).
        UNSOLICITED_RESPONSE = 0x82 => "unsolicited_response";
        /// Secure Authentication response.
        AUTHENTICATE_RESP = 0x83 => "authenticate_resp";
    }
}

impl FunctionCode {
    /// True for the request codes 0x00-0x21 (sent by a master).
    pub const fn is_request(self) -> bool {
        self.0 <= 0x21
    }

    /// True for the response codes 0x81-0x83 (sent by an outstation; they carry IIN).
    pub const fn is_response(self) -> bool {
        matches!(self.0, 0x81..=0x83)
    }

    /// True for the functions that operate outputs: select, operate, direct
    /// operate (with and without response).
    pub const fn is_control(self) -> bool {
        matches!(self.0, 0x03..=0x06)
    }

    /// True for the file functions 0x19-0x1F.
    pub const fn is_file(self) -> bool {
        matches!(self.0, 0x19..=0x1F)
    }

    /// True for the Secure Authentication functions (0x20, 0x21, 0x83).
    pub const fn is_secure_authentication(self) -> bool {
        matches!(self.0, 0x20 | 0x21 | 0x83)
    }

    /// True for the functions whose object headers carry no values, only
    /// ranges or index lists: confirm, read, the freezes, assign class,
    /// enable and disable unsolicited. (Freeze-at-time still carries the
    /// values of its g50 time object: see [`FunctionCode::carries_values`].)
    pub const fn is_header_only(self) -> bool {
        matches!(
            self,
            FunctionCode::CONFIRM
                | FunctionCode::READ
                | FunctionCode::IMMED_FREEZE
                | FunctionCode::IMMED_FREEZE_NR
                | FunctionCode::FREEZE_CLEAR
                | FunctionCode::FREEZE_CLEAR_NR
                | FunctionCode::FREEZE_AT_TIME
                | FunctionCode::FREEZE_AT_TIME_NR
                | FunctionCode::ASSIGN_CLASS
                | FunctionCode::ENABLE_UNSOLICITED
                | FunctionCode::DISABLE_UNSOLICITED
        )
    }

    /// True when objects of `group` carry values after their header in a
    /// fragment with this function.
    pub const fn carries_values(self, group: u8) -> bool {
        match self {
            FunctionCode::FREEZE_AT_TIME | FunctionCode::FREEZE_AT_TIME_NR => group == 50,
            _ => !self.is_header_only(),
        }
    }

    /// True for the functions that take no objects at all: cold and warm
    /// restart, delay measure, record current time, initialize data, save
    /// configuration. (Confirm and the responses may be empty too, but need not be.)
    pub const fn takes_no_objects(self) -> bool {
        matches!(
            self,
            FunctionCode::COLD_RESTART
                | FunctionCode::WARM_RESTART
                | FunctionCode::DELAY_MEASURE
                | FunctionCode::RECORD_CURRENT_TIME
                | FunctionCode::INITIALIZE_DATA
                | FunctionCode::SAVE_CONFIGURATION
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_covers_every_standard_code() {
        let requests = FunctionCode::ALL.iter().filter(|f| f.is_request()).count();
        let responses = FunctionCode::ALL.iter().filter(|f| f.is_response()).count();
        assert_eq!((requests, responses), (0x22, 3));
        for code in 0..=0x21u8 {
            assert!(FunctionCode(code).name().is_some(), "{code:#x}");
        }
        assert_eq!(FunctionCode(0x1E).name(), Some("abort_file"));
        assert_eq!(FunctionCode(0x1F).name(), Some("activate_config"));
        assert_eq!(FunctionCode(0x22).name(), None);
        assert!(!FunctionCode(0x80).is_request() && !FunctionCode(0x80).is_response());
    }

    #[test]
    fn value_carrying_follows_the_function() {
        assert!(!FunctionCode::READ.carries_values(30));
        assert!(FunctionCode::WRITE.carries_values(50));
        assert!(FunctionCode::FREEZE_AT_TIME.carries_values(50));
        assert!(!FunctionCode::FREEZE_AT_TIME.carries_values(20));
        assert!(FunctionCode::RESPONSE.carries_values(1));
        assert!(FunctionCode::DIRECT_OPERATE.is_control());
        assert!(FunctionCode::COLD_RESTART.takes_no_objects());
    }
}
