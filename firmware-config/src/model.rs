//! The validated configuration and the questions the sensor asks of it.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;

use ipnet::IpNet;

use crate::CapacityLimits;

/// The appliance configuration, validated: every name it refers to exists,
/// every address parses, every number is in range and the files it names exist.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The file it was read from (`None` for [`Config::for_analyze`]).
    pub path: Option<PathBuf>,
    /// Who this sensor is.
    pub sensor: SensorSection,
    /// Interfaces captured live (empty: none configured).
    pub interfaces: Vec<Interface>,
    /// Network zones, which never overlap.
    pub zones: Vec<Zone>,
    /// Assets the operator knows about.
    pub assets: Vec<KnownAsset>,
    /// Allowed communications; empty means there is no policy.
    pub policy: Vec<PolicyRule>,
    /// Rules silenced for addresses or networks.
    pub silence: Vec<Silence>,
    /// How findings are raised.
    pub findings: FindingSettings,
    /// Where summaries are sent (`None`: the sensor keeps them local).
    pub uplink: Option<Uplink>,
    /// Sizes of the sensor's tables and buffers.
    pub limits: CapacityLimits,
}

/// `[sensor]`: the sensor's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SensorSection {
    /// The sensor's id, unique within the collector (1–64 of `A-Za-z0-9._-`).
    pub id: String,
    /// The site the sensor watches (1–64 of `A-Za-z0-9._-`).
    pub site: String,
}

/// `[[interfaces]]`: a network interface captured live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// The interface name, e.g. `eth1`.
    pub name: String,
    /// A BPF filter expression, compiled by libpcap when capture starts.
    pub bpf: Option<String>,
    /// Bytes captured per packet (64–262144, default 65535).
    pub snaplen: u32,
    /// Kernel capture buffer in MiB (1–1024, default 32).
    pub buffer_mib: u32,
    /// Whether the interface is put in promiscuous mode (default true).
    pub promiscuous: bool,
}

impl Interface {
    /// The default snap length.
    pub const DEFAULT_SNAPLEN: u32 = 65_535;
    /// The default capture buffer size in MiB.
    pub const DEFAULT_BUFFER_MIB: u32 = 32;
}

/// `[[zones]]`: a named part of the network at one Purdue level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    /// The zone's name, unique; policy rules refer to it.
    pub name: String,
    /// The networks in the zone (IPv4 and IPv6).
    pub cidrs: Vec<IpNet>,
    /// The zone's level in the Purdue model.
    pub purdue_level: PurdueLevel,
    /// How much the plant depends on the zone.
    pub criticality: Criticality,
}

/// How much the plant depends on a zone or an asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Criticality {
    /// Loss is an inconvenience.
    Low,
    /// The default.
    #[default]
    Medium,
    /// Loss stops production.
    High,
    /// Loss endangers people, equipment or the environment.
    Critical,
}

impl Criticality {
    /// Every criticality, lowest first.
    pub const ALL: [Criticality; 4] = [
        Criticality::Low,
        Criticality::Medium,
        Criticality::High,
        Criticality::Critical,
    ];

    /// The name used in the configuration file.
    pub fn name(self) -> &'static str {
        match self {
            Criticality::Low => "low",
            Criticality::Medium => "medium",
            Criticality::High => "high",
            Criticality::Critical => "critical",
        }
    }
}

/// A level of the Purdue model: 0, 1, 2, 3, 3.5 (the industrial DMZ), 4 or 5,
/// held in tenths so it can be compared and hashed exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PurdueLevel(u8);

impl PurdueLevel {
    /// Level 0: the physical process (sensors, actuators).
    pub const PROCESS: PurdueLevel = PurdueLevel(0);
    /// Level 1: basic control (PLCs, RTUs, safety controllers).
    pub const CONTROL: PurdueLevel = PurdueLevel(10);
    /// Level 2: supervisory control (HMIs, SCADA).
    pub const SUPERVISORY: PurdueLevel = PurdueLevel(20);
    /// Level 3: site operations (historians, engineering).
    pub const OPERATIONS: PurdueLevel = PurdueLevel(30);
    /// Level 3.5: the industrial DMZ.
    pub const DMZ: PurdueLevel = PurdueLevel(35);
    /// Level 4: enterprise business network.
    pub const ENTERPRISE: PurdueLevel = PurdueLevel(40);
    /// Level 5: enterprise and internet-facing services.
    pub const INTERNET: PurdueLevel = PurdueLevel(50);

    /// Every level, lowest first.
    pub const ALL: [PurdueLevel; 7] = [
        PurdueLevel::PROCESS,
        PurdueLevel::CONTROL,
        PurdueLevel::SUPERVISORY,
        PurdueLevel::OPERATIONS,
        PurdueLevel::DMZ,
        PurdueLevel::ENTERPRISE,
        PurdueLevel::INTERNET,
    ];

    /// The level from tenths (10 is level 1, 35 the DMZ), if it is one.
    pub fn from_tenths(tenths: u8) -> Option<PurdueLevel> {
        PurdueLevel::ALL.into_iter().find(|l| l.0 == tenths)
    }

    /// The level from its number (1.0, 3.5), if it is one.
    pub fn from_number(level: f64) -> Option<PurdueLevel> {
        let tenths = level * 10.0;
        if !(0.0..=50.0).contains(&tenths) || tenths.fract() != 0.0 {
            return None;
        }
        // In range and integral, so the cast is exact.
        PurdueLevel::from_tenths(tenths as u8)
    }

    /// The level in tenths (10 is level 1, 35 the DMZ).
    pub fn tenths(self) -> u8 {
        self.0
    }

    /// The level as written in the configuration: `"1"`, `"3.5"`.
    pub fn name(self) -> &'static str {
        match self.0 {
            0 => "0",
            10 => "1",
            20 => "2",
            30 => "3",
            35 => "3.5",
            40 => "4",
            _ => "5",
        }
    }
}

impl fmt::Display for PurdueLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `[[assets]]`: an asset the operator knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownAsset {
    /// How the asset is recognised on the wire.
    pub address: AssetAddress,
    /// The operator's name for it.
    pub name: String,
    /// Who is responsible for it.
    pub owner: Option<String>,
    /// How much the plant depends on it (else its zone's).
    pub criticality: Option<Criticality>,
    /// Its role, overriding what the sensor infers from traffic.
    pub role: Option<AssetRole>,
    /// Rule ids silenced for this asset, as initiator or responder.
    pub silence: Vec<String>,
}

/// The address a known asset is recognised by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssetAddress {
    /// An IPv4 or IPv6 address.
    Ip(IpAddr),
    /// An Ethernet MAC address.
    Mac([u8; 6]),
}

impl fmt::Display for AssetAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AssetAddress::Ip(ip) => write!(f, "{ip}"),
            AssetAddress::Mac([a, b, c, d, e, g]) => {
                write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
            }
        }
    }
}

impl FromStr for AssetAddress {
    type Err = ();

    /// An IP address, or a MAC as six pairs of hex digits separated by `:`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(AssetAddress::Ip(ip));
        }
        let mut mac = [0u8; 6];
        let mut parts = s.split(':');
        for byte in &mut mac {
            let part = parts.next().ok_or(())?;
            if part.len() != 2 || !part.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(());
            }
            *byte = u8::from_str_radix(part, 16).map_err(|_| ())?;
        }
        if parts.next().is_some() {
            return Err(());
        }
        Ok(AssetAddress::Mac(mac))
    }
}

/// An asset's role in the plant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssetRole {
    /// Programmable logic controller.
    Plc,
    /// Remote terminal unit.
    Rtu,
    /// Human-machine interface.
    Hmi,
    /// Engineering workstation (programs controllers).
    EngineeringStation,
    /// Process historian.
    Historian,
    /// SCADA server.
    ScadaServer,
    /// OPC UA server.
    OpcuaServer,
    /// Protocol gateway.
    Gateway,
    /// Safety instrumented system controller.
    SafetyController,
    /// Anything else.
    Other,
}

impl AssetRole {
    /// Every role.
    pub const ALL: [AssetRole; 10] = [
        AssetRole::Plc,
        AssetRole::Rtu,
        AssetRole::Hmi,
        AssetRole::EngineeringStation,
        AssetRole::Historian,
        AssetRole::ScadaServer,
        AssetRole::OpcuaServer,
        AssetRole::Gateway,
        AssetRole::SafetyController,
        AssetRole::Other,
    ];

    /// The name used in the configuration file.
    pub fn name(self) -> &'static str {
        match self {
            AssetRole::Plc => "plc",
            AssetRole::Rtu => "rtu",
            AssetRole::Hmi => "hmi",
            AssetRole::EngineeringStation => "engineering_station",
            AssetRole::Historian => "historian",
            AssetRole::ScadaServer => "scada_server",
            AssetRole::OpcuaServer => "opcua_server",
            AssetRole::Gateway => "gateway",
            AssetRole::SafetyController => "safety_controller",
            AssetRole::Other => "other",
        }
    }
}

/// What a communication does to its target, as far as policy is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Access {
    /// Reads values, diagnostics or identity.
    Read,
    /// Writes values or parameters.
    Write,
    /// Downloads, uploads or modifies programs and configuration.
    Program,
    /// Changes operating mode, restarts, operates control points.
    Control,
}

impl Access {
    /// Every access kind.
    pub const ALL: [Access; 4] = [
        Access::Read,
        Access::Write,
        Access::Program,
        Access::Control,
    ];

    /// The name used in the configuration file.
    pub fn name(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
            Access::Program => "program",
            Access::Control => "control",
        }
    }
}

/// The protocols a policy rule can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyProtocol {
    /// Every protocol.
    Any,
    /// Modbus/TCP.
    Modbus,
    /// S7comm.
    S7comm,
    /// S7comm-plus.
    S7commPlus,
    /// DNP3.
    Dnp3,
    /// OPC UA binary.
    Opcua,
}

impl PolicyProtocol {
    /// Every choice, `any` first.
    pub const ALL: [PolicyProtocol; 6] = [
        PolicyProtocol::Any,
        PolicyProtocol::Modbus,
        PolicyProtocol::S7comm,
        PolicyProtocol::S7commPlus,
        PolicyProtocol::Dnp3,
        PolicyProtocol::Opcua,
    ];

    /// The name used in the configuration file (and by the sensor for the protocol).
    pub fn name(self) -> &'static str {
        match self {
            PolicyProtocol::Any => "any",
            PolicyProtocol::Modbus => "modbus",
            PolicyProtocol::S7comm => "s7comm",
            PolicyProtocol::S7commPlus => "s7comm_plus",
            PolicyProtocol::Dnp3 => "dnp3",
            PolicyProtocol::Opcua => "opcua",
        }
    }

    /// Whether this choice covers the protocol named `protocol`.
    pub fn matches(self, protocol: &str) -> bool {
        self == PolicyProtocol::Any || self.name() == protocol
    }
}

macro_rules! from_name {
    ($($ty:ty),*) => {$(
        impl FromStr for $ty {
            type Err = ();

            /// Parses the configuration file's name for it.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <$ty>::ALL.into_iter().find(|v| v.name() == s).ok_or(())
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    )*};
}

from_name!(Criticality, AssetRole, Access, PolicyProtocol);

/// One end of a policy rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ZoneMatch {
    /// Any host, in a zone or not.
    Any,
    /// The zone of this name.
    Zone(String),
}

impl ZoneMatch {
    /// Whether a host in `zone` (or in none) is covered.
    pub fn matches(&self, zone: Option<&Zone>) -> bool {
        match self {
            ZoneMatch::Any => true,
            ZoneMatch::Zone(name) => zone.is_some_and(|z| &z.name == name),
        }
    }
}

/// `[[policy]]`: one allowed kind of communication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRule {
    /// Where the initiator is.
    pub from: ZoneMatch,
    /// Where the responder is.
    pub to: ZoneMatch,
    /// Which protocol.
    pub protocol: PolicyProtocol,
    /// What the initiator may do (never empty).
    pub access: Vec<Access>,
}

/// `[[silence]]`: a rule silenced for an address or a network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Silence {
    /// The rule id.
    pub rule: String,
    /// The address (as a host network) or network silenced.
    pub address: IpNet,
    /// Why: who accepted the risk, which compensating control.
    pub reason: String,
}

/// `[findings]`: how findings are raised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingSettings {
    /// Seconds after the sensor starts during which new initiators are
    /// learned, not reported as new (default 900).
    pub learning_period_secs: u64,
    /// Findings kept at once (16–1,000,000, default 4096).
    pub max_findings: usize,
}

impl Default for FindingSettings {
    fn default() -> Self {
        FindingSettings {
            learning_period_secs: 900,
            max_findings: 4096,
        }
    }
}

/// `[uplink]`: where summaries go, and the keys that protect them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uplink {
    /// The collector's `https://` URL.
    pub collector_url: String,
    /// CA certificate(s) that the collector's certificate must chain to.
    pub ca: PathBuf,
    /// The sensor's TLS client certificate.
    pub client_certificate: PathBuf,
    /// The sensor's TLS client private key (mode 600).
    pub client_key: PathBuf,
    /// The key that signs summaries (mode 600).
    pub signing_key: PathBuf,
    /// Seconds between summaries (1–86400, default 60).
    pub interval_secs: u64,
    /// Most MiB of unsent summaries kept on disk (1–65536, default 256).
    pub spool_max_mib: u64,
}

impl Uplink {
    /// The default interval between summaries, in seconds.
    pub const DEFAULT_INTERVAL_SECS: u64 = 60;
    /// The default spool size in MiB.
    pub const DEFAULT_SPOOL_MAX_MIB: u64 = 256;
}

impl Config {
    /// The configuration `analyze` uses when given no file: sensor `analyze`
    /// at site `offline`, one zone `plant` (Purdue level 2, medium) holding
    /// the private ranges 10/8, 172.16/12, 192.168/16 and fc00::/7, no
    /// policy, defaults elsewhere.
    pub fn for_analyze() -> Config {
        let cidrs = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]
            .into_iter()
            .filter_map(|c| c.parse().ok())
            .collect();
        Config {
            path: None,
            sensor: SensorSection {
                id: "analyze".into(),
                site: "offline".into(),
            },
            interfaces: Vec::new(),
            zones: vec![Zone {
                name: "plant".into(),
                cidrs,
                purdue_level: PurdueLevel::SUPERVISORY,
                criticality: Criticality::Medium,
            }],
            assets: Vec::new(),
            policy: Vec::new(),
            silence: Vec::new(),
            findings: FindingSettings::default(),
            uplink: None,
            limits: CapacityLimits::default(),
        }
    }

    /// The zone holding `ip`; the most specific network wins.
    pub fn zone_of(&self, ip: IpAddr) -> Option<&Zone> {
        self.zones
            .iter()
            .flat_map(|z| z.cidrs.iter().map(move |c| (z, c)))
            .filter(|(_, c)| c.contains(&ip))
            .max_by_key(|(_, c)| c.prefix_len())
            .map(|(z, _)| z)
    }

    /// The known asset with address `ip`, else with MAC `mac`.
    pub fn known_asset(&self, ip: IpAddr, mac: Option<[u8; 6]>) -> Option<&KnownAsset> {
        self.assets
            .iter()
            .find(|a| a.address == AssetAddress::Ip(ip))
            .or_else(|| {
                let mac = mac?;
                self.assets
                    .iter()
                    .find(|a| a.address == AssetAddress::Mac(mac))
            })
    }

    /// Whether `rule` is silenced for `ip`: by a `[[silence]]` entry covering
    /// it, or by the `silence` list of the known asset with that IP address.
    /// (An asset known by its MAC: see [`Config::is_silenced_for`].)
    pub fn is_silenced(&self, rule: &str, ip: IpAddr) -> bool {
        self.is_silenced_for(rule, ip, None)
    }

    /// [`Config::is_silenced`], also looking the asset up by `mac`.
    pub fn is_silenced_for(&self, rule: &str, ip: IpAddr, mac: Option<[u8; 6]>) -> bool {
        self.silence
            .iter()
            .any(|s| s.rule == rule && s.address.contains(&ip))
            || self
                .known_asset(ip, mac)
                .is_some_and(|a| a.silence.iter().any(|r| r == rule))
    }

    /// Whether any communication policy is configured.
    pub fn has_policy(&self) -> bool {
        !self.policy.is_empty()
    }

    /// Whether the policy allows an initiator in zone `from` to use
    /// `protocol` (as named by [`PolicyProtocol::name`]) with `access` on a
    /// responder in zone `to`. `None` is a host in no zone, matched only by
    /// `any`. Without a policy everything is allowed.
    pub fn allows(
        &self,
        from: Option<&Zone>,
        to: Option<&Zone>,
        protocol: &str,
        access: Access,
    ) -> bool {
        !self.has_policy()
            || self.policy.iter().any(|r| {
                r.from.matches(from)
                    && r.to.matches(to)
                    && r.protocol.matches(protocol)
                    && r.access.contains(&access)
            })
    }
}
