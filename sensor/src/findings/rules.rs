//! The detection catalogue as data: one row per rule, with what it matches,
//! how severe it is, its ATT&CK for ICS techniques, and what to do about it.
//! The parsers only report what they decoded; whether that is a finding is
//! decided here and nowhere else.

pub use faro_firmware_config::Access;

use crate::inventory::{FunctionKey, Protocol};

/// How urgent a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing (inventory facts, engineering activity).
    Info,
    /// Hygiene.
    Low,
    /// Weakens the plant's defence.
    Medium,
    /// Changes the process or exposes it.
    High,
    /// Stops or takes over the process.
    Critical,
}

impl Severity {
    /// The name used in output.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// What a request's content must be for a rule to match.
#[derive(Debug, Clone, Copy)]
pub enum Indicator {
    /// A request with one of these function keys (on the rule's protocol).
    Function(&'static [FunctionKey]),
    /// A request naming an object whose name starts with this prefix
    /// (`pi-` PI service, `download-` block download, `diag-0x0004` Modbus
    /// diagnostics sub-function, `crob-` DNP3 control point).
    Object(&'static str),
    /// A state of the inventory, evaluated over assets and edges.
    State(Condition),
}

/// Conditions over the inventory's state, each evaluated in one place
/// ([`super::evaluate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// S7 CPU without password, at protection level 1, or with the selector on RUN-P.
    S7UnprotectedCpu,
    /// DNP3 control functions on an association without Secure Authentication.
    Dnp3ControlWithoutAuthentication,
    /// DNP3 IIN: configuration corrupt, event buffer overflow or device trouble.
    Dnp3DeviceHealth,
    /// OPC UA secure channel with policy None.
    OpcUaChannelWithoutSecurity,
    /// OPC UA secure channel signed but not encrypted.
    OpcUaSignOnly,
    /// OPC UA deprecated security policy used or offered.
    OpcUaDeprecatedPolicy,
    /// OPC UA server offering an endpoint with mode or policy None.
    OpcUaInsecureEndpoint,
    /// OPC UA anonymous user tokens offered, or anonymous sessions activated.
    OpcUaAnonymousAccess,
    /// OPC UA UserName password sent without encryption.
    OpcUaCleartextCredentials,
    /// A certificate past its validity.
    CertificateExpired,
    /// A certificate not yet valid.
    CertificateNotYetValid,
    /// A self-signed certificate.
    CertificateSelfSigned,
    /// A certificate signed with SHA-1 or MD5.
    CertificateWeakSignature,
    /// A certificate with an RSA key under 2048 bits.
    CertificateWeakKey,
    /// A controller reached by an initiator first seen after the learning period.
    NewInitiatorToController,
    /// Write, program or control from a zone of a higher Purdue level to a
    /// lower one (no policy configured).
    CrossZoneControl,
    /// A path the configured policy does not allow.
    PolicyViolation,
    /// A peer outside the private address ranges reaching an ICS service.
    InternetPeer,
    /// An ICS protocol on a port other than its standard one.
    NonStandardPort,
    /// A host that downloads or uploads programs or changes operating modes.
    EngineeringStation,
}

/// One rule of the catalogue.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// Stable id, `<protocol>.<what>`.
    pub id: &'static str,
    /// The protocol it applies to; `None` for rules across protocols.
    pub protocol: Option<Protocol>,
    /// What matches.
    pub indicator: Indicator,
    /// How urgent.
    pub severity: Severity,
    /// MITRE ATT&CK for ICS technique ids.
    pub attack: &'static [&'static str],
    /// One line for people.
    pub title: &'static str,
    /// What to do about it.
    pub remediation: &'static str,
    /// What kind of exposure it shows (the collector's scoring factor).
    pub exposure: Exposure,
}

/// What kind of exposure a finding shows: the factor it feeds in the
/// collector's exposure score (`docs/exposure.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exposure {
    /// Writes or control that need no authentication (Modbus, S7, DNP3
    /// without Secure Authentication, OPC UA without security or anonymous).
    UnauthenticatedControl,
    /// Program download, stop, restart, firmware or configuration transfer.
    DangerousFunction,
    /// Configuration that weakens the device: unprotected CPU, insecure
    /// endpoints, weak or invalid certificates, device trouble.
    ExposedConfiguration,
    /// Who can reach it: new initiators, cross-zone paths, policy
    /// violations, internet peers, services on unexpected ports.
    Reachability,
    /// Worth knowing, not an exposure in itself (reconnaissance, uploads).
    Activity,
}

impl Exposure {
    /// The name used in output.
    pub fn name(self) -> &'static str {
        match self {
            Exposure::UnauthenticatedControl => "unauthenticated_control",
            Exposure::DangerousFunction => "dangerous_function",
            Exposure::ExposedConfiguration => "exposed_configuration",
            Exposure::Reachability => "reachability",
            Exposure::Activity => "activity",
        }
    }
}

/// Function codes as keys. Only used in constants: it runs at compile time,
/// where an index out of range is a build error, not a panic.
#[allow(clippy::indexing_slicing)]
const fn codes<const N: usize>(list: [u32; N]) -> [FunctionKey; N] {
    let mut out = [FunctionKey::Code(0); N];
    let mut i = 0;
    while i < N {
        out[i] = FunctionKey::Code(list[i]);
        i += 1;
    }
    out
}

const MODBUS_WRITES: [FunctionKey; 6] = codes([5, 6, 15, 16, 22, 23]);
const MODBUS_IDENTIFICATION: [FunctionKey; 2] = codes([17, 43]);
const MODBUS_RESERVED: [FunctionKey; 8] = codes([0, 41, 42, 90, 91, 125, 126, 127]);
const MODBUS_USER_DEFINED: [FunctionKey; 19] = codes([
    65, 66, 67, 68, 69, 70, 71, 72, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110,
]);
const S7_DOWNLOAD: [FunctionKey; 3] = codes([0x1A, 0x1B, 0x1C]);
const S7_UPLOAD: [FunctionKey; 3] = codes([0x1D, 0x1E, 0x1F]);
const S7_MODIFY_FORCE: [FunctionKey; 2] = [
    FunctionKey::Userdata {
        group: 1,
        subfunction: 8,
    },
    FunctionKey::Userdata {
        group: 1,
        subfunction: 9,
    },
];
const S7_RECONNAISSANCE: [FunctionKey; 4] = [
    FunctionKey::Userdata {
        group: 4,
        subfunction: 1,
    },
    FunctionKey::Userdata {
        group: 3,
        subfunction: 1,
    },
    FunctionKey::Userdata {
        group: 3,
        subfunction: 2,
    },
    FunctionKey::Userdata {
        group: 3,
        subfunction: 3,
    },
];
const S7_PASSWORD: [FunctionKey; 1] = [FunctionKey::Userdata {
    group: 5,
    subfunction: 1,
}];
const DNP3_CONTROL: [FunctionKey; 4] = codes([3, 4, 5, 6]);
const DNP3_APPLICATION: [FunctionKey; 5] = codes([0x0F, 0x10, 0x11, 0x12, 0x13]);
const DNP3_FILE: [FunctionKey; 7] = codes([0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F]);
const OPCUA_CHANGE: [FunctionKey; 5] = codes([673, 712, 488, 500, 700]);

/// The catalogue (../shared/DESIGN.md §2), in output order within a severity.
pub const RULES: &[Rule] = &[
    // Modbus/TCP
    Rule {
        id: "modbus.write",
        exposure: Exposure::UnauthenticatedControl,
        protocol: Some(Protocol::Modbus),
        indicator: Indicator::Function(&MODBUS_WRITES),
        severity: Severity::High,
        attack: &["T0836", "T0855"],
        title: "Unauthenticated Modbus write to a controller",
        remediation: "Restrict which hosts may write (firewall or Modbus-aware gateway); confirm the writer is an authorised HMI or engineering station.",
    },
    Rule {
        id: "modbus.file_record_write",
        exposure: Exposure::DangerousFunction,
        protocol: Some(Protocol::Modbus),
        indicator: Indicator::Function(&codes([21])),
        severity: Severity::High,
        attack: &["T0843"],
        title: "Modbus file record write (program or configuration transfer)",
        remediation: "Allow file record writes only from the engineering station, during change windows.",
    },
    Rule {
        id: "modbus.restart_communications",
        exposure: Exposure::DangerousFunction,
        protocol: Some(Protocol::Modbus),
        indicator: Indicator::Object("diag-0x0001"),
        severity: Severity::High,
        attack: &["T0816"],
        title: "Modbus diagnostics: restart communications option",
        remediation: "Block diagnostics function 8 from hosts other than maintenance tools.",
    },
    Rule {
        id: "modbus.listen_only",
        exposure: Exposure::DangerousFunction,
        protocol: Some(Protocol::Modbus),
        indicator: Indicator::Object("diag-0x0004"),
        severity: Severity::Critical,
        attack: &["T0814", "T0881"],
        title: "Modbus diagnostics: force listen-only mode (device stops answering)",
        remediation: "Block diagnostics function 8; investigate the sender.",
    },
    Rule {
        id: "modbus.clear_counters",
        exposure: Exposure::DangerousFunction,
        protocol: Some(Protocol::Modbus),
        indicator: Indicator::Object("diag-0x000a"),
        severity: Severity::Low,
        attack: &[],
        title: "Modbus diagnostics: clear counters and diagnostic register",
        remediation: "Clearing counters hides evidence; allow it only from maintenance tools.",
    },
    Rule {
        id: "modbus.identification",
        exposure: Exposure::Activity,
        protocol: Some(Protocol::Modbus),
        indicator: Indicator::Function(&MODBUS_IDENTIFICATION),
        severity: Severity::Low,
        attack: &["T0888", "T0846"],
        title: "Modbus device identification (report server id, read device identification)",
        remediation: "Expected from asset management tools only; otherwise treat as reconnaissance.",
    },
    Rule {
        id: "modbus.reserved_function",
        exposure: Exposure::Activity,
        protocol: Some(Protocol::Modbus),
        indicator: Indicator::Function(&MODBUS_RESERVED),
        severity: Severity::Medium,
        attack: &["T0855"],
        title: "Modbus request with a reserved function code",
        remediation: "Find the sender; reserved codes are not used by standard clients.",
    },
    Rule {
        id: "modbus.user_defined_function",
        exposure: Exposure::Activity,
        protocol: Some(Protocol::Modbus),
        indicator: Indicator::Function(&MODBUS_USER_DEFINED),
        severity: Severity::Medium,
        attack: &["T0855"],
        title: "Modbus request with a user-defined (vendor) function code",
        remediation: "Confirm the vendor function is expected from this client (programming tools use them).",
    },
    // S7comm
    Rule {
        id: "s7.plc_stop",
        exposure: Exposure::DangerousFunction,
        protocol: Some(Protocol::S7comm),
        indicator: Indicator::Function(&codes([0x29])),
        severity: Severity::Critical,
        attack: &["T0858", "T0816"],
        title: "S7 PLC stop",
        remediation: "Set the CPU protection level (password) and the mode selector to RUN; allow stop only from the engineering station.",
    },
    Rule {
        id: "s7.plc_control",
        exposure: Exposure::DangerousFunction,
        protocol: Some(Protocol::S7comm),
        indicator: Indicator::Object("pi-"),
        severity: Severity::High,
        attack: &["T0858", "T0889"],
        title: "S7 PLC control (PI service: start, insert, delete, compress blocks)",
        remediation: "Protect the CPU with a password; allow PLC control only from the engineering station.",
    },
    Rule {
        id: "s7.program_download",
        exposure: Exposure::DangerousFunction,
        protocol: Some(Protocol::S7comm),
        indicator: Indicator::Function(&S7_DOWNLOAD),
        severity: Severity::Critical,
        attack: &["T0843", "T0889"],
        title: "S7 program download to the PLC",
        remediation: "Verify the change against the change plan; protect the CPU with write protection.",
    },
    Rule {
        id: "s7.program_upload",
        exposure: Exposure::Activity,
        protocol: Some(Protocol::S7comm),
        indicator: Indicator::Function(&S7_UPLOAD),
        severity: Severity::Medium,
        attack: &["T0845"],
        title: "S7 program upload from the PLC",
        remediation: "Uploads copy the plant's logic: allow them only from the engineering station; protect the CPU with read protection.",
    },
    Rule {
        id: "s7.variable_write",
        exposure: Exposure::UnauthenticatedControl,
        protocol: Some(Protocol::S7comm),
        indicator: Indicator::Function(&codes([0x05])),
        severity: Severity::High,
        attack: &["T0836"],
        title: "S7 variable write",
        remediation: "Restrict writers to the HMIs and engineering stations that need them.",
    },
    Rule {
        id: "s7.modify_force",
        exposure: Exposure::UnauthenticatedControl,
        protocol: Some(Protocol::S7comm),
        indicator: Indicator::Function(&S7_MODIFY_FORCE),
        severity: Severity::High,
        attack: &["T0836"],
        title: "S7 modify or force of variables (programming functions)",
        remediation: "Forcing overrides the process logic: allow it only during commissioning, from the engineering station.",
    },
    Rule {
        id: "s7.reconnaissance",
        exposure: Exposure::Activity,
        protocol: Some(Protocol::S7comm),
        indicator: Indicator::Function(&S7_RECONNAISSANCE),
        severity: Severity::Low,
        attack: &["T0888", "T0846", "T0861"],
        title: "S7 system information read (SZL) or block listing",
        remediation: "Expected from engineering and asset tools; from anything else it is reconnaissance.",
    },
    Rule {
        id: "s7.password_activity",
        exposure: Exposure::Activity,
        protocol: Some(Protocol::S7comm),
        indicator: Indicator::Function(&S7_PASSWORD),
        severity: Severity::Medium,
        attack: &["T0859"],
        title: "S7 password sent to the PLC",
        remediation: "S7 passwords are weakly protected on the wire: rotate them and restrict who can reach the CPU.",
    },
    Rule {
        id: "s7.unprotected_cpu",
        exposure: Exposure::ExposedConfiguration,
        protocol: Some(Protocol::S7comm),
        indicator: Indicator::State(Condition::S7UnprotectedCpu),
        severity: Severity::High,
        attack: &[],
        title: "S7 CPU without protection (no password, protection level 1, or selector at RUN-P)",
        remediation: "Configure a protection level with a password and set the selector to RUN.",
    },
    Rule {
        id: "s7plus.set_variable",
        exposure: Exposure::UnauthenticatedControl,
        protocol: Some(Protocol::S7commPlus),
        indicator: Indicator::Function(&codes([0x04F2])),
        severity: Severity::Medium,
        attack: &["T0836"],
        title: "S7comm-plus SetVariable",
        remediation: "Confirm the writer is an authorised HMI or engineering station.",
    },
    // DNP3
    Rule {
        id: "dnp3.restart",
        exposure: Exposure::DangerousFunction,
        protocol: Some(Protocol::Dnp3),
        indicator: Indicator::Function(&codes([0x0D, 0x0E])),
        severity: Severity::High,
        attack: &["T0816"],
        title: "DNP3 cold or warm restart",
        remediation: "Allow restarts only from the SCADA master; enable Secure Authentication.",
    },
    Rule {
        id: "dnp3.application_control",
        exposure: Exposure::DangerousFunction,
        protocol: Some(Protocol::Dnp3),
        indicator: Indicator::Function(&DNP3_APPLICATION),
        severity: Severity::High,
        attack: &["T0881", "T0858"],
        title: "DNP3 application stop, start, initialise or save configuration",
        remediation: "Allow application control only from the master; enable Secure Authentication.",
    },
    Rule {
        id: "dnp3.disable_unsolicited",
        exposure: Exposure::DangerousFunction,
        protocol: Some(Protocol::Dnp3),
        indicator: Indicator::Function(&codes([0x15])),
        severity: Severity::Medium,
        attack: &["T0878"],
        title: "DNP3 disable unsolicited responses (event suppression)",
        remediation: "Confirm the master disabled reporting on purpose; otherwise events are being hidden.",
    },
    Rule {
        id: "dnp3.control",
        exposure: Exposure::UnauthenticatedControl,
        protocol: Some(Protocol::Dnp3),
        indicator: Indicator::Function(&DNP3_CONTROL),
        severity: Severity::High,
        attack: &["T0855"],
        title: "DNP3 control (select, operate, direct operate)",
        remediation: "Controls must come from the SCADA master only; enable Secure Authentication.",
    },
    Rule {
        id: "dnp3.write",
        exposure: Exposure::UnauthenticatedControl,
        protocol: Some(Protocol::Dnp3),
        indicator: Indicator::Function(&codes([0x02])),
        severity: Severity::Medium,
        attack: &["T0836"],
        title: "DNP3 write",
        remediation: "Confirm the writer is the master (time sync and IIN clear are normal).",
    },
    Rule {
        id: "dnp3.file_transfer",
        exposure: Exposure::DangerousFunction,
        protocol: Some(Protocol::Dnp3),
        indicator: Indicator::Function(&DNP3_FILE),
        severity: Severity::High,
        attack: &["T0843"],
        title: "DNP3 file transfer (configuration or firmware)",
        remediation: "Allow file transfer only from the engineering station during change windows.",
    },
    Rule {
        id: "dnp3.unauthenticated_control",
        exposure: Exposure::UnauthenticatedControl,
        protocol: Some(Protocol::Dnp3),
        indicator: Indicator::State(Condition::Dnp3ControlWithoutAuthentication),
        severity: Severity::High,
        attack: &["T0855"],
        title: "DNP3 controls on an association without Secure Authentication",
        remediation: "Enable DNP3 Secure Authentication (IEEE 1815 SAv5/SAv6) on the association.",
    },
    Rule {
        id: "dnp3.device_health",
        exposure: Exposure::ExposedConfiguration,
        protocol: Some(Protocol::Dnp3),
        indicator: Indicator::State(Condition::Dnp3DeviceHealth),
        severity: Severity::Low,
        attack: &[],
        title: "DNP3 outstation reports trouble (configuration corrupt, event buffer overflow, device trouble)",
        remediation: "Check the outstation's configuration and event buffers.",
    },
    // OPC UA
    Rule {
        id: "opcua.channel_without_security",
        exposure: Exposure::UnauthenticatedControl,
        protocol: Some(Protocol::OpcUa),
        indicator: Indicator::State(Condition::OpcUaChannelWithoutSecurity),
        severity: Severity::Medium,
        attack: &["T0855"],
        title: "OPC UA secure channel without security (policy None)",
        remediation: "Use an endpoint with Basic256Sha256 or newer and SignAndEncrypt; disable the None endpoint.",
    },
    Rule {
        id: "opcua.sign_only",
        exposure: Exposure::ExposedConfiguration,
        protocol: Some(Protocol::OpcUa),
        indicator: Indicator::State(Condition::OpcUaSignOnly),
        severity: Severity::Low,
        attack: &[],
        title: "OPC UA channel signed but not encrypted",
        remediation: "Prefer SignAndEncrypt: values and credentials travel in clear with Sign.",
    },
    Rule {
        id: "opcua.deprecated_policy",
        exposure: Exposure::ExposedConfiguration,
        protocol: Some(Protocol::OpcUa),
        indicator: Indicator::State(Condition::OpcUaDeprecatedPolicy),
        severity: Severity::Medium,
        attack: &[],
        title: "OPC UA deprecated security policy (Basic128Rsa15 or Basic256)",
        remediation: "Disable Basic128Rsa15 and Basic256 (SHA-1); use Basic256Sha256 or the Aes policies.",
    },
    Rule {
        id: "opcua.insecure_endpoint",
        exposure: Exposure::ExposedConfiguration,
        protocol: Some(Protocol::OpcUa),
        indicator: Indicator::State(Condition::OpcUaInsecureEndpoint),
        severity: Severity::Medium,
        attack: &[],
        title: "OPC UA server offers an endpoint without security",
        remediation: "Remove the None endpoint from the server's configuration.",
    },
    Rule {
        id: "opcua.anonymous_access",
        exposure: Exposure::UnauthenticatedControl,
        protocol: Some(Protocol::OpcUa),
        indicator: Indicator::State(Condition::OpcUaAnonymousAccess),
        severity: Severity::Medium,
        attack: &["T0859"],
        title: "OPC UA anonymous access offered or used",
        remediation: "Disable the anonymous user token policy; require user or certificate authentication.",
    },
    Rule {
        id: "opcua.cleartext_credentials",
        exposure: Exposure::UnauthenticatedControl,
        protocol: Some(Protocol::OpcUa),
        indicator: Indicator::State(Condition::OpcUaCleartextCredentials),
        severity: Severity::High,
        attack: &["T0859"],
        title: "OPC UA user password sent in clear",
        remediation: "Change the password; require an encrypted channel or a user token policy with a security policy.",
    },
    Rule {
        id: "opcua.change_activity",
        exposure: Exposure::UnauthenticatedControl,
        protocol: Some(Protocol::OpcUa),
        indicator: Indicator::Function(&OPCUA_CHANGE),
        severity: Severity::Medium,
        attack: &["T0836", "T0855"],
        title: "OPC UA change activity (Write, Call, AddNodes, DeleteNodes, HistoryUpdate)",
        remediation: "Confirm the client is authorised to change values, call methods or edit the address space.",
    },
    // Certificates (OPC UA today)
    Rule {
        id: "certificate.expired",
        exposure: Exposure::ExposedConfiguration,
        protocol: None,
        indicator: Indicator::State(Condition::CertificateExpired),
        severity: Severity::Medium,
        attack: &[],
        title: "Certificate expired",
        remediation: "Renew the certificate and trust the new one on its peers.",
    },
    Rule {
        id: "certificate.not_yet_valid",
        exposure: Exposure::ExposedConfiguration,
        protocol: None,
        indicator: Indicator::State(Condition::CertificateNotYetValid),
        severity: Severity::Low,
        attack: &[],
        title: "Certificate not yet valid (clock or issuance problem)",
        remediation: "Check the device clocks and the certificate's validity dates.",
    },
    Rule {
        id: "certificate.self_signed",
        exposure: Exposure::ExposedConfiguration,
        protocol: None,
        indicator: Indicator::State(Condition::CertificateSelfSigned),
        severity: Severity::Low,
        attack: &[],
        title: "Self-signed certificate",
        remediation: "Issue device certificates from the plant's CA so peers can verify them.",
    },
    Rule {
        id: "certificate.weak_signature",
        exposure: Exposure::ExposedConfiguration,
        protocol: None,
        indicator: Indicator::State(Condition::CertificateWeakSignature),
        severity: Severity::Medium,
        attack: &[],
        title: "Certificate signed with SHA-1 or MD5",
        remediation: "Reissue the certificate with SHA-256 or stronger.",
    },
    Rule {
        id: "certificate.weak_key",
        exposure: Exposure::ExposedConfiguration,
        protocol: None,
        indicator: Indicator::State(Condition::CertificateWeakKey),
        severity: Severity::Medium,
        attack: &[],
        title: "Certificate with an RSA key under 2048 bits",
        remediation: "Reissue the certificate with RSA 2048+ or an EC key.",
    },
    // Across protocols
    Rule {
        id: "ics.new_initiator",
        exposure: Exposure::Reachability,
        protocol: None,
        indicator: Indicator::State(Condition::NewInitiatorToController),
        severity: Severity::Medium,
        attack: &["T0848"],
        title: "New initiator to a controller (first seen after the learning period)",
        remediation: "Confirm the new client is authorised; if not, isolate it.",
    },
    Rule {
        id: "ics.cross_zone_control",
        exposure: Exposure::Reachability,
        protocol: None,
        indicator: Indicator::State(Condition::CrossZoneControl),
        severity: Severity::High,
        attack: &["T0855"],
        title: "Write, program or control path from a higher Purdue level to a lower one",
        remediation: "Route control through the supervisory level (jump host, DMZ); block the direct path.",
    },
    Rule {
        id: "ics.policy_violation",
        exposure: Exposure::Reachability,
        protocol: None,
        indicator: Indicator::State(Condition::PolicyViolation),
        severity: Severity::High,
        attack: &["T0855"],
        title: "Communication not allowed by the configured policy",
        remediation: "Block the path, or add it to the policy if it is authorised.",
    },
    Rule {
        id: "ics.internet_peer",
        exposure: Exposure::Reachability,
        protocol: None,
        indicator: Indicator::State(Condition::InternetPeer),
        severity: Severity::Critical,
        attack: &["T0883"],
        title: "Non-private (internet) address reaching an ICS service",
        remediation: "Remove the exposure: no ICS service should be reachable from public addresses.",
    },
    Rule {
        id: "ics.nonstandard_port",
        exposure: Exposure::Reachability,
        protocol: None,
        indicator: Indicator::State(Condition::NonStandardPort),
        severity: Severity::Low,
        attack: &[],
        title: "ICS protocol on a non-standard port",
        remediation: "Document the service, or find why it hides on another port.",
    },
    Rule {
        id: "ics.engineering_station",
        exposure: Exposure::DangerousFunction,
        protocol: None,
        indicator: Indicator::State(Condition::EngineeringStation),
        severity: Severity::Info,
        attack: &["T0843", "T0858"],
        title: "Engineering-workstation behaviour: downloads, uploads or changes operating modes",
        remediation: "Make sure this host is a known, hardened engineering station.",
    },
];

/// The ids of every rule, for validating configurations.
pub fn ids() -> Vec<&'static str> {
    RULES.iter().map(|r| r.id).collect()
}

/// The access class of a request, for zone policies: `read`, `write`,
/// `program` or `control`. One table for every protocol.
pub fn access_class(protocol: Protocol, key: FunctionKey) -> Access {
    let code = match key {
        FunctionKey::Code(code) => code,
        FunctionKey::Userdata { group, .. } => {
            return match group {
                1 => Access::Write,       // programmer commands (modify, force)
                0 | 5 => Access::Control, // mode transitions, security
                _ => Access::Read,
            };
        }
    };
    match protocol {
        Protocol::Modbus => match code {
            5 | 6 | 15 | 16 | 22 | 23 => Access::Write,
            21 => Access::Program,
            8 => Access::Control,
            _ => Access::Read,
        },
        Protocol::S7comm => match code {
            0x05 => Access::Write,
            0x1A..=0x1F => Access::Program,
            0x28 | 0x29 => Access::Control,
            _ => Access::Read,
        },
        // Every S7comm-plus session creates and deletes objects and sets
        // session variables: only a variable write is told apart here.
        Protocol::S7commPlus => match code {
            0x04F2 => Access::Write,
            _ => Access::Read,
        },
        Protocol::Dnp3 => match code {
            0x02 => Access::Write,
            0x19..=0x1F => Access::Program,
            0x03..=0x06 | 0x0D..=0x15 => Access::Control,
            _ => Access::Read,
        },
        Protocol::OpcUa => match code {
            673 | 700 => Access::Write,
            488 | 494 | 500 | 506 => Access::Program,
            712 => Access::Control,
            _ => Access::Read,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_unique_and_namespaced() {
        let mut ids = ids();
        let count = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), count, "duplicate rule id");
        for rule in RULES {
            let (namespace, name) = rule.id.split_once('.').unwrap();
            assert!(!name.is_empty());
            if let Some(protocol) = rule.protocol {
                let expected = match protocol {
                    Protocol::S7commPlus => "s7plus",
                    Protocol::S7comm => "s7",
                    other => other.name(),
                };
                assert_eq!(namespace, expected, "{}", rule.id);
            }
            for technique in rule.attack {
                assert!(
                    technique.starts_with("T0") && technique.len() == 5,
                    "{}",
                    rule.id
                );
            }
        }
    }
}
