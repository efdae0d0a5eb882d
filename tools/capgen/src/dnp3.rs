//! DNP3 conversations: what a SCADA master asks its outstations and what they answer. Every
//! application fragment is built by `faro_protocols::dnp3::app` (`encode` and its object
//! writers); the transport segments and link frames around it are the session's. Each fragment
//! comes with what a sensor counts it as: its function, its object headers and operated points,
//! and the identity its device attributes reveal. This module only decides what is said.

use anyhow::{Context, Result, bail};
use faro_protocols::dnp3::app::{
    self, AnalogOutput, AppControl, AttributeDataType, AttributeVariation, CommandStatus, Crob,
    FunctionCode, Iin, Qualifier, Range, TimeAndDate,
};

use crate::capture::{MILLISECOND, START_UNIX_SECONDS};
use crate::rng::Rng;
use crate::truth::ObjectKey;

/// Link address of the SCADA masters.
pub(crate) const MASTER_ADDRESS: u16 = 1;
/// The DNP3 port over TCP and UDP.
pub(crate) const PORT: u16 = 20_000;

/// Object groups the model speaks.
mod group {
    pub(super) const DEVICE_ATTRIBUTE: u8 = 0;
    pub(super) const BINARY_INPUT: u8 = 1;
    pub(super) const BINARY_INPUT_EVENT: u8 = 2;
    pub(super) const CROB: u8 = 12;
    pub(super) const ANALOG_INPUT: u8 = 30;
    pub(super) const ANALOG_OUTPUT: u8 = 41;
    pub(super) const TIME: u8 = 50;
    pub(super) const TIME_DELAY: u8 = 52;
    pub(super) const CLASS: u8 = 60;
    pub(super) const INTERNAL_INDICATIONS: u8 = 80;
    pub(super) const APPLICATION_IDENTIFIER: u8 = 90;
    pub(super) const SECURE_AUTHENTICATION: u8 = 120;
}

/// Qualifier of controls and their echoes: 2-byte count, 2-byte index prefixes, as most
/// masters send them.
const CONTROL_QUALIFIER: Qualifier = Qualifier::INDEX_16_COUNT_16;
/// Flags of a binary or analog input: ONLINE, and for binaries the state in bit 7.
const ONLINE: u8 = 0x01;
const BINARY_STATE: u8 = 0x80;
/// g80 point of IIN1.7, device restart.
const DEVICE_RESTART_POINT: u8 = 7;
/// Read of every device attribute (g0v254).
pub(crate) const ALL_ATTRIBUTES: u8 = AttributeVariation::ALL_ATTRIBUTES.0;
/// Secure Authentication codes (IEEE 1815-2012 A.45): HMAC-SHA-256 truncated to 16 octets,
/// AES-256 key wrap, key status OK / not initialised, challenge reason "critical".
const MAC_HMAC_SHA256_16: u8 = 4;
const KEY_WRAP_AES256: u8 = 2;
const KEY_STATUS_OK: u8 = 1;
const KEY_STATUS_NOT_INIT: u8 = 2;
const REASON_CRITICAL: u8 = 1;
const MAC_LEN: usize = 16;
const CHALLENGE_LEN: usize = 20;
/// Wrapped control and monitoring session keys (two AES-256 keys and the key status message).
pub(crate) const WRAPPED_KEYS_LEN: usize = 104;

/// DNP3 time (milliseconds since 1970) of capture time `at` (microseconds since the start).
pub(crate) fn time_at(at: u64) -> u64 {
    START_UNIX_SECONDS * 1000 + at / MILLISECOND
}

/// What a sensor counts an object header as.
fn header(group: u8, variation: u8) -> ObjectKey {
    ObjectKey::Header { group, variation }
}

/// An application fragment and what a sensor counts it as.
#[derive(Debug, Clone)]
pub(crate) struct Apdu {
    /// The encoded fragment.
    pub(crate) bytes: Vec<u8>,
    pub(crate) function: FunctionCode,
    /// Object headers by group and variation, then each operated point, in fragment order.
    pub(crate) objects: Vec<ObjectKey>,
    /// Identity attributes (report names) the fragment's device attributes carry.
    pub(crate) identity: Vec<(&'static str, String)>,
    /// Object headers and objects being built.
    body: Vec<u8>,
}

impl Default for Apdu {
    fn default() -> Self {
        Self {
            bytes: Vec::with_capacity(256),
            function: FunctionCode::CONFIRM,
            objects: Vec::new(),
            identity: Vec::new(),
            body: Vec::with_capacity(256),
        }
    }
}

impl Apdu {
    fn begin(&mut self, function: FunctionCode) {
        self.bytes.clear();
        self.body.clear();
        self.objects.clear();
        self.identity.clear();
        self.function = function;
    }

    fn note(&mut self, group: u8, variation: u8) {
        self.objects.push(header(group, variation));
    }

    /// Frames the body with the application header.
    fn finish(&mut self, control: AppControl, iin: Option<Iin>) {
        app::encode(&mut self.bytes, control, self.function, iin, &self.body);
    }

    /// True for a Secure Authentication challenge (an outstation's answer to a critical request).
    pub(crate) fn is_challenge(&self) -> bool {
        self.function == FunctionCode::AUTHENTICATE_RESP
            && self.objects.first()
                == Some(&ObjectKey::Header {
                    group: group::SECURE_AUTHENTICATION,
                    variation: 1,
                })
    }
}

/// What a master asks.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Request {
    /// Read of class data: g60 variation class + 1, in the order given.
    ReadClasses(&'static [u8]),
    /// Read of device attributes (g0 variations; 254: all of them).
    ReadAttributes(&'static [u8]),
    Select(Vec<Crob>),
    Operate(Vec<Crob>),
    DirectOperate(Vec<Crob>),
    /// Direct operate of analog outputs (g41).
    DirectOperateAnalog(Vec<AnalogOutput>),
    /// Write of the time (g50v1).
    WriteTime(u64),
    /// Write of indexed times and intervals (g50v4).
    WriteSchedules(Vec<TimeAndDate>),
    /// Write of g80v1 point 7: clears the device restart indication.
    ClearRestart,
    ColdRestart,
    /// Stop of the application named by a g90v1 application identifier.
    StopApplication(&'static str),
    /// Start of the application named by a g90v1 application identifier.
    StartApplication(&'static str),
    EnableUnsolicited(&'static [u8]),
    DisableUnsolicited(&'static [u8]),
    /// Confirm of a response (of an unsolicited response when `unsolicited`).
    Confirm {
        unsolicited: bool,
    },
    /// Secure Authentication: session key status request (g120v4) for a user.
    SessionKeyStatusQuery {
        user: u16,
    },
    /// Secure Authentication: session key change (g120v6), the keys wrapped in the update key.
    SessionKeyChange {
        user: u16,
        ksq: u32,
        wrapped_keys: Vec<u8>,
    },
    /// Secure Authentication: reply (g120v2) to a challenge, the MAC over the challenge and the
    /// critical request.
    ChallengeReply {
        user: u16,
        csq: u32,
        mac: Vec<u8>,
    },
}

/// The integrity poll: classes 1, 2, 3, then 0.
pub(crate) const INTEGRITY: Request = Request::ReadClasses(&[1, 2, 3, 0]);
/// The event poll: classes 1, 2 and 3.
pub(crate) const EVENTS: Request = Request::ReadClasses(&[1, 2, 3]);

impl Request {
    pub(crate) fn function(&self) -> FunctionCode {
        match self {
            Request::ReadClasses(_) | Request::ReadAttributes(_) => FunctionCode::READ,
            Request::Select(_) => FunctionCode::SELECT,
            Request::Operate(_) => FunctionCode::OPERATE,
            Request::DirectOperate(_) | Request::DirectOperateAnalog(_) => {
                FunctionCode::DIRECT_OPERATE
            }
            Request::WriteTime(_) | Request::WriteSchedules(_) | Request::ClearRestart => {
                FunctionCode::WRITE
            }
            Request::ColdRestart => FunctionCode::COLD_RESTART,
            Request::StopApplication(_) => FunctionCode::STOP_APPLICATION,
            Request::StartApplication(_) => FunctionCode::START_APPLICATION,
            Request::EnableUnsolicited(_) => FunctionCode::ENABLE_UNSOLICITED,
            Request::DisableUnsolicited(_) => FunctionCode::DISABLE_UNSOLICITED,
            Request::Confirm { .. } => FunctionCode::CONFIRM,
            Request::SessionKeyStatusQuery { .. }
            | Request::SessionKeyChange { .. }
            | Request::ChallengeReply { .. } => FunctionCode::AUTHENTICATE_REQ,
        }
    }

    /// Requests an outstation with Secure Authentication challenges: controls, writes,
    /// restarts, starting and stopping applications.
    fn is_critical(&self) -> bool {
        let function = self.function();
        function.is_control()
            || function == FunctionCode::WRITE
            || function == FunctionCode::COLD_RESTART
            || function == FunctionCode::STOP_APPLICATION
            || function == FunctionCode::START_APPLICATION
    }

    /// Encodes the request with application sequence `sequence` into `apdu`.
    pub(crate) fn encode(&self, sequence: u8, apdu: &mut Apdu) -> Result<()> {
        apdu.begin(self.function());
        let Apdu { body, objects, .. } = apdu;
        match self {
            Request::ReadClasses(classes)
            | Request::EnableUnsolicited(classes)
            | Request::DisableUnsolicited(classes) => {
                for &class in *classes {
                    app::write_class(body, class).context("class data header")?;
                    objects.push(header(group::CLASS, class + 1));
                }
            }
            Request::ReadAttributes(variations) => {
                for &variation in *variations {
                    app::write_attribute_read(body, variation).context("attribute read")?;
                    objects.push(header(group::DEVICE_ATTRIBUTE, variation));
                }
            }
            Request::Select(crobs) | Request::Operate(crobs) | Request::DirectOperate(crobs) => {
                app::write_crobs(body, CONTROL_QUALIFIER, crobs).context("CROB header")?;
                objects.push(header(group::CROB, 1));
                objects.extend(crobs.iter().map(|c| ObjectKey::Crob(c.index)));
            }
            Request::DirectOperateAnalog(outputs) => {
                app::write_analog_outputs(body, CONTROL_QUALIFIER, outputs)
                    .context("analog output header")?;
                let variation = outputs.first().map_or(1, |o| o.value.variation());
                objects.push(header(group::ANALOG_OUTPUT, variation));
            }
            Request::WriteTime(ms) => {
                app::write_time(body, *ms).context("time object")?;
                objects.push(header(group::TIME, 1));
            }
            Request::WriteSchedules(times) => {
                app::write_indexed_times(body, Qualifier::INDEX_8_COUNT_8, times)
                    .context("indexed times")?;
                objects.push(header(group::TIME, 4));
            }
            Request::ClearRestart => {
                app::write_iin_clear(body, DEVICE_RESTART_POINT).context("IIN write")?;
                objects.push(header(group::INTERNAL_INDICATIONS, 1));
            }
            Request::ColdRestart | Request::Confirm { .. } => {}
            Request::StopApplication(name) | Request::StartApplication(name) => {
                // IEEE 1815 g90v1: one free-format object (qualifier 0x5B) naming the application.
                app::write_free_format(body, group::APPLICATION_IDENTIFIER, 1, name.as_bytes())
                    .context("application identifier")?;
                objects.push(header(group::APPLICATION_IDENTIFIER, 1));
            }
            Request::SessionKeyStatusQuery { user } => {
                app::write_object_header(
                    body,
                    group::SECURE_AUTHENTICATION,
                    4,
                    Qualifier::COUNT_8,
                    Range::Count(1),
                )
                .context("session key status request")?;
                body.extend_from_slice(&user.to_le_bytes());
                objects.push(header(group::SECURE_AUTHENTICATION, 4));
            }
            Request::SessionKeyChange {
                user,
                ksq,
                wrapped_keys,
            } => {
                let mut object = Vec::with_capacity(6 + wrapped_keys.len());
                object.extend_from_slice(&ksq.to_le_bytes());
                object.extend_from_slice(&user.to_le_bytes());
                object.extend_from_slice(wrapped_keys);
                app::write_free_format(body, group::SECURE_AUTHENTICATION, 6, &object)
                    .context("session key change")?;
                objects.push(header(group::SECURE_AUTHENTICATION, 6));
            }
            Request::ChallengeReply { user, csq, mac } => {
                let mut object = Vec::with_capacity(6 + mac.len());
                object.extend_from_slice(&csq.to_le_bytes());
                object.extend_from_slice(&user.to_le_bytes());
                object.extend_from_slice(mac);
                app::write_free_format(body, group::SECURE_AUTHENTICATION, 2, &object)
                    .context("challenge reply")?;
                objects.push(header(group::SECURE_AUTHENTICATION, 2));
            }
        }
        let unsolicited = matches!(self, Request::Confirm { unsolicited: true });
        apdu.finish(
            AppControl::new(true, true, false, unsolicited, sequence),
            None,
        );
        Ok(())
    }
}

/// What an outstation's device attributes say about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Identity {
    pub(crate) software_version: &'static str,
    pub(crate) hardware_version: &'static str,
    pub(crate) user_assigned_id: &'static str,
    pub(crate) device_name: &'static str,
    pub(crate) serial_number: &'static str,
    pub(crate) product_and_model: &'static str,
    pub(crate) vendor: &'static str,
}

impl Identity {
    /// Each attribute: its g0 variation, its report name and its value.
    pub(crate) fn attributes(&self) -> [(u8, &'static str, &'static str); 7] {
        use AttributeVariation as V;
        [
            (
                V::SOFTWARE_VERSION.0,
                "software_version",
                self.software_version,
            ),
            (
                V::HARDWARE_VERSION.0,
                "hardware_version",
                self.hardware_version,
            ),
            (
                V::USER_ASSIGNED_ID.0,
                "user_assigned_id",
                self.user_assigned_id,
            ),
            (V::DEVICE_NAME.0, "device_name", self.device_name),
            (V::SERIAL_NUMBER.0, "serial_number", self.serial_number),
            (
                V::PRODUCT_NAME_AND_MODEL.0,
                "product_and_model",
                self.product_and_model,
            ),
            (V::MANUFACTURER_NAME.0, "vendor", self.vendor),
        ]
    }
}

/// An outstation's side of Secure Authentication for one user.
#[derive(Debug, Clone)]
struct Authority {
    user: u16,
    /// Key change sequence number.
    ksq: u32,
    /// Challenge sequence number.
    csq: u32,
    keys_set: bool,
    /// The critical request being challenged, executed once the reply comes.
    challenged: Option<Request>,
}

/// A binary input event: point, new state, time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Event {
    index: u32,
    state: bool,
    time_ms: u64,
}

/// An outstation: its points, events, internal indications, identity and, optionally, Secure
/// Authentication.
#[derive(Debug, Clone)]
pub(crate) struct Outstation {
    identity: Option<Identity>,
    binary: Vec<bool>,
    analog: Vec<i32>,
    events: Vec<Event>,
    restarted: bool,
    need_time: bool,
    /// IIN2 device health indications it reports (event buffer overflow, configuration
    /// corrupt), from when they arise to the end.
    health: Iin,
    unsolicited_enabled: bool,
    unsolicited_sequence: u8,
    authority: Option<Authority>,
    selected: Vec<Crob>,
    rng: Rng,
}

impl Outstation {
    pub(crate) fn new(binaries: usize, analogs: usize, mut rng: Rng) -> Self {
        let binary = (0..binaries).map(|_| rng.chance(50)).collect();
        let analog = (0..analogs)
            .map(|_| i32::from(rng.range_u16(100, 30_000)))
            .collect();
        Self {
            identity: None,
            binary,
            analog,
            events: Vec::new(),
            restarted: false,
            need_time: false,
            health: Iin::empty(),
            unsolicited_enabled: false,
            unsolicited_sequence: rng.range_u16(0, 15) as u8,
            authority: None,
            selected: Vec::new(),
            rng,
        }
    }

    pub(crate) fn with_identity(mut self, identity: Identity) -> Self {
        self.identity = Some(identity);
        self
    }

    /// Challenges critical requests of `user` (Secure Authentication).
    pub(crate) fn with_secure_authentication(mut self, user: u16) -> Self {
        self.authority = Some(Authority {
            user,
            ksq: self.rng.next_u32(),
            csq: self.rng.next_u32(),
            keys_set: false,
            challenged: None,
        });
        self
    }

    /// Starts out wanting the time.
    pub(crate) fn needing_time(mut self) -> Self {
        self.need_time = true;
        self
    }

    /// The process moves on until `at`: analogs drift, and now and then a binary input among
    /// `wandering` changes, which makes an event.
    pub(crate) fn wander(&mut self, at: u64, wandering: std::ops::Range<usize>, percent: u64) {
        for value in &mut self.analog {
            let step = i32::from(self.rng.range_u16(0, 40)) - 20;
            *value = value.saturating_add(step).clamp(0, 32_000);
        }
        if self.rng.chance(percent) && !wandering.is_empty() {
            let span = wandering.len() as u64;
            let index = wandering.start + self.rng.below(span) as usize;
            self.set_binary(index, at);
        }
    }

    fn set_binary(&mut self, index: usize, at: u64) {
        if let Some(state) = self.binary.get_mut(index) {
            *state = !*state;
            self.events.push(Event {
                index: index as u32,
                state: *state,
                time_ms: time_at(at),
            });
        }
    }

    /// From now on every response reports `flags` (device health: [`Iin::HEALTH`]) too.
    pub(crate) fn report(&mut self, flags: Iin) {
        self.health |= flags & Iin::HEALTH;
    }

    /// A cold restart happened: events and selections are gone, the time is lost.
    pub(crate) fn restart(&mut self) {
        self.events.clear();
        self.selected.clear();
        self.restarted = true;
        self.need_time = true;
        self.unsolicited_enabled = false;
        if let Some(authority) = &mut self.authority {
            authority.keys_set = false;
            authority.challenged = None;
        }
    }

    fn iin(&self) -> Iin {
        let mut iin = Iin::empty();
        iin.set(Iin::DEVICE_RESTART, self.restarted);
        iin.set(Iin::NEED_TIME, self.need_time);
        iin.set(Iin::CLASS_1_EVENTS, !self.events.is_empty());
        iin | self.health
    }

    /// Answers `request` (application sequence `sequence`, at capture time `at`) into `apdu`:
    /// a response, or, for a critical request under Secure Authentication, a challenge.
    pub(crate) fn answer(
        &mut self,
        request: &Request,
        sequence: u8,
        at: u64,
        apdu: &mut Apdu,
    ) -> Result<()> {
        if let Some(authority) = &mut self.authority
            && request.is_critical()
            && authority.challenged.is_none()
        {
            authority.challenged = Some(request.clone());
            authority.csq = authority.csq.wrapping_add(1);
            let mut object = Vec::with_capacity(8 + CHALLENGE_LEN);
            object.extend_from_slice(&authority.csq.to_le_bytes());
            object.extend_from_slice(&authority.user.to_le_bytes());
            object.extend_from_slice(&[MAC_HMAC_SHA256_16, REASON_CRITICAL]);
            let mut challenge = [0u8; CHALLENGE_LEN];
            self.rng.fill(&mut challenge);
            object.extend_from_slice(&challenge);
            apdu.begin(FunctionCode::AUTHENTICATE_RESP);
            app::write_free_format(&mut apdu.body, group::SECURE_AUTHENTICATION, 1, &object)
                .context("challenge")?;
            apdu.note(group::SECURE_AUTHENTICATION, 1);
            apdu.finish(
                AppControl::new(true, true, false, false, sequence),
                Some(self.iin()),
            );
            return Ok(());
        }
        match request {
            Request::ChallengeReply { .. } => {
                let pending = self
                    .authority
                    .as_mut()
                    .and_then(|a| a.challenged.take())
                    .context("challenge reply without a challenge")?;
                // The reply authenticates the pending request, which runs now.
                self.respond(&pending, sequence, at, apdu)
            }
            Request::SessionKeyStatusQuery { .. } | Request::SessionKeyChange { .. } => {
                let changed = matches!(request, Request::SessionKeyChange { .. });
                let authority = self
                    .authority
                    .as_mut()
                    .context("no Secure Authentication")?;
                if changed {
                    authority.keys_set = true;
                    authority.ksq = authority.ksq.wrapping_add(1);
                }
                let status = if authority.keys_set {
                    KEY_STATUS_OK
                } else {
                    KEY_STATUS_NOT_INIT
                };
                let mut object = Vec::with_capacity(11 + CHALLENGE_LEN + MAC_LEN);
                object.extend_from_slice(&authority.ksq.to_le_bytes());
                object.extend_from_slice(&authority.user.to_le_bytes());
                object.extend_from_slice(&[KEY_WRAP_AES256, status, MAC_HMAC_SHA256_16]);
                object.extend_from_slice(&(CHALLENGE_LEN as u16).to_le_bytes());
                let mut challenge = [0u8; CHALLENGE_LEN + MAC_LEN];
                self.rng.fill(&mut challenge);
                let (challenge, mac) = challenge.split_at(CHALLENGE_LEN);
                object.extend_from_slice(challenge);
                if changed {
                    object.extend_from_slice(mac);
                }
                apdu.begin(FunctionCode::AUTHENTICATE_RESP);
                app::write_free_format(&mut apdu.body, group::SECURE_AUTHENTICATION, 5, &object)
                    .context("session key status")?;
                apdu.note(group::SECURE_AUTHENTICATION, 5);
                apdu.finish(
                    AppControl::new(true, true, false, false, sequence),
                    Some(self.iin()),
                );
                Ok(())
            }
            _ => self.respond(request, sequence, at, apdu),
        }
    }

    /// The response to a request the outstation carries out.
    fn respond(&mut self, request: &Request, sequence: u8, at: u64, apdu: &mut Apdu) -> Result<()> {
        apdu.begin(FunctionCode::RESPONSE);
        match request {
            Request::ReadClasses(classes) => {
                if classes.contains(&1) {
                    self.write_events(apdu)?;
                }
                if classes.contains(&0) {
                    self.write_static(apdu)?;
                }
            }
            Request::ReadAttributes(variations) => {
                if let Some(identity) = self.identity {
                    for (variation, name, value) in identity.attributes() {
                        if !variations.contains(&variation) && !variations.contains(&ALL_ATTRIBUTES)
                        {
                            continue;
                        }
                        app::write_attribute(
                            &mut apdu.body,
                            variation,
                            AttributeDataType::VSTR.0,
                            value.as_bytes(),
                        )
                        .context("device attribute")?;
                        apdu.note(group::DEVICE_ATTRIBUTE, variation);
                        apdu.identity.push((name, value.to_owned()));
                    }
                }
            }
            Request::Select(crobs) => {
                self.selected.clone_from(crobs);
                self.echo_crobs(apdu, crobs, CommandStatus::SUCCESS)?;
            }
            Request::Operate(crobs) => {
                let status = if self.selected == *crobs {
                    self.operate(crobs, at);
                    CommandStatus::SUCCESS
                } else {
                    CommandStatus::NO_SELECT
                };
                self.selected.clear();
                self.echo_crobs(apdu, crobs, status)?;
            }
            Request::DirectOperate(crobs) => {
                self.operate(crobs, at);
                self.echo_crobs(apdu, crobs, CommandStatus::SUCCESS)?;
            }
            Request::DirectOperateAnalog(outputs) => {
                app::write_analog_outputs(&mut apdu.body, CONTROL_QUALIFIER, outputs)
                    .context("analog echo")?;
                let variation = outputs.first().map_or(1, |o| o.value.variation());
                apdu.note(group::ANALOG_OUTPUT, variation);
            }
            Request::WriteTime(_) => self.need_time = false,
            Request::ClearRestart => self.restarted = false,
            // A null response (IIN only) says the application was stopped or started.
            Request::WriteSchedules(_)
            | Request::StopApplication(_)
            | Request::StartApplication(_) => {}
            Request::ColdRestart => {
                let delay = self.rng.range_u16(15_000, 30_000);
                app::write_object_header(
                    &mut apdu.body,
                    group::TIME_DELAY,
                    2,
                    Qualifier::COUNT_8,
                    Range::Count(1),
                )
                .context("time delay")?;
                apdu.body.extend_from_slice(&delay.to_le_bytes());
                apdu.note(group::TIME_DELAY, 2);
            }
            Request::EnableUnsolicited(_) => self.unsolicited_enabled = true,
            Request::DisableUnsolicited(_) => self.unsolicited_enabled = false,
            Request::Confirm { .. }
            | Request::SessionKeyStatusQuery { .. }
            | Request::SessionKeyChange { .. }
            | Request::ChallengeReply { .. } => {
                bail!("no response to {:?}", request.function())
            }
        }
        apdu.finish(
            AppControl::new(true, true, false, false, sequence),
            Some(self.iin()),
        );
        Ok(())
    }

    /// Binary inputs change as controls land: a trip opens point `index`, a close or latch on
    /// closes it.
    fn operate(&mut self, crobs: &[Crob], at: u64) {
        for crob in crobs {
            let closed = crob.trip_close() != app::TripCloseCode::TRIP
                && crob.op_type() != app::OpType::LATCH_OFF;
            let index = crob.index as usize;
            if self.binary.get(index).is_some_and(|&state| state != closed) {
                self.set_binary(index, at);
            }
        }
    }

    fn echo_crobs(&mut self, apdu: &mut Apdu, crobs: &[Crob], status: CommandStatus) -> Result<()> {
        let echoed: Vec<Crob> = crobs
            .iter()
            .map(|c| Crob {
                status: status.0,
                ..*c
            })
            .collect();
        app::write_crobs(&mut apdu.body, CONTROL_QUALIFIER, &echoed).context("CROB echo")?;
        apdu.note(group::CROB, 1);
        apdu.objects
            .extend(crobs.iter().map(|c| ObjectKey::Crob(c.index)));
        Ok(())
    }

    /// Pending binary input events as g2v2 (with absolute time), then forgotten.
    fn write_events(&mut self, apdu: &mut Apdu) -> Result<()> {
        if self.events.is_empty() {
            return Ok(());
        }
        let count = u32::try_from(self.events.len()).context("event count")?;
        app::write_object_header(
            &mut apdu.body,
            group::BINARY_INPUT_EVENT,
            2,
            Qualifier::INDEX_8_COUNT_8,
            Range::Count(count),
        )
        .context("binary input events")?;
        for event in self.events.drain(..) {
            let index = u8::try_from(event.index).context("event index")?;
            let flags = ONLINE | if event.state { BINARY_STATE } else { 0 };
            apdu.body.extend_from_slice(&[index, flags]);
            TimeAndDate {
                index: event.index,
                timestamp_ms: event.time_ms,
                interval: None,
            }
            .write(&mut apdu.body, 1);
        }
        apdu.note(group::BINARY_INPUT_EVENT, 2);
        Ok(())
    }

    /// Every binary input (g1v2) and analog input (g30v1), indices 0 to n - 1.
    fn write_static(&mut self, apdu: &mut Apdu) -> Result<()> {
        if !self.binary.is_empty() {
            start_stop(&mut apdu.body, group::BINARY_INPUT, 2, self.binary.len())?;
            for &state in &self.binary {
                apdu.body
                    .push(ONLINE | if state { BINARY_STATE } else { 0 });
            }
            apdu.note(group::BINARY_INPUT, 2);
        }
        if !self.analog.is_empty() {
            start_stop(&mut apdu.body, group::ANALOG_INPUT, 1, self.analog.len())?;
            for value in &self.analog {
                apdu.body.push(ONLINE);
                apdu.body.extend_from_slice(&value.to_le_bytes());
            }
            apdu.note(group::ANALOG_INPUT, 1);
        }
        Ok(())
    }

    /// An unsolicited response with the pending events (CON set: the master must confirm), if
    /// unsolicited responses are enabled and there are events. Returns its sequence.
    pub(crate) fn unsolicited(&mut self, apdu: &mut Apdu) -> Result<Option<u8>> {
        if !self.unsolicited_enabled || self.events.is_empty() {
            return Ok(None);
        }
        let sequence = self.unsolicited_sequence;
        self.unsolicited_sequence = (sequence + 1) & AppControl::SEQUENCE;
        apdu.begin(FunctionCode::UNSOLICITED_RESPONSE);
        self.write_events(apdu)?;
        apdu.finish(
            AppControl::new(true, true, true, true, sequence),
            Some(self.iin()),
        );
        Ok(Some(sequence))
    }

    /// A Secure Authentication user's reply to the last challenge, from the master's side.
    pub(crate) fn reply_for(&self, rng: &mut Rng) -> Result<Request> {
        let authority = self
            .authority
            .as_ref()
            .context("no Secure Authentication")?;
        let mut mac = vec![0; MAC_LEN];
        rng.fill(&mut mac);
        Ok(Request::ChallengeReply {
            user: authority.user,
            csq: authority.csq,
            mac,
        })
    }

    /// The master's session key change for the outstation's user.
    pub(crate) fn key_change_for(&self, rng: &mut Rng) -> Result<Request> {
        let authority = self
            .authority
            .as_ref()
            .context("no Secure Authentication")?;
        let mut wrapped_keys = vec![0; WRAPPED_KEYS_LEN];
        rng.fill(&mut wrapped_keys);
        Ok(Request::SessionKeyChange {
            user: authority.user,
            ksq: authority.ksq,
            wrapped_keys,
        })
    }
}

/// An object header over points 0 to `count` - 1, the narrowest start-stop qualifier.
fn start_stop(out: &mut Vec<u8>, group: u8, variation: u8, count: usize) -> Result<()> {
    let stop = u32::try_from(count.saturating_sub(1)).context("point count")?;
    let qualifier = if stop <= u32::from(u8::MAX) {
        Qualifier::START_STOP_8
    } else {
        Qualifier::START_STOP_16
    };
    app::write_object_header(
        out,
        group,
        variation,
        qualifier,
        Range::StartStop { start: 0, stop },
    )
    .context("start-stop header")
}

/// The attribute variations an identification reads one by one.
pub(crate) const IDENTITY_ATTRIBUTES: &[u8] = &[
    AttributeVariation::SOFTWARE_VERSION.0,
    AttributeVariation::HARDWARE_VERSION.0,
    AttributeVariation::USER_ASSIGNED_ID.0,
    AttributeVariation::DEVICE_NAME.0,
    AttributeVariation::SERIAL_NUMBER.0,
    AttributeVariation::PRODUCT_NAME_AND_MODEL.0,
    AttributeVariation::MANUFACTURER_NAME.0,
];

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(apdu: &Apdu) -> app::Fragment<'_> {
        let fragment = app::parse(&apdu.bytes).unwrap();
        assert!(fragment.anomalies.is_empty(), "{:?}", fragment.anomalies);
        fragment
    }

    #[test]
    fn requests_count_as_the_parser_reads_them() {
        let crob = |index| Crob {
            index,
            code: 0x41,
            count: 1,
            on_ms: 100,
            off_ms: 0,
            status: 0,
        };
        let mut rng = Rng::new(4);
        let station = Outstation::new(4, 4, rng.fork(1)).with_secure_authentication(1);
        for request in [
            INTEGRITY,
            EVENTS,
            Request::ReadAttributes(IDENTITY_ATTRIBUTES),
            Request::Select(vec![crob(3), crob(7)]),
            Request::WriteTime(time_at(0)),
            Request::ClearRestart,
            Request::ColdRestart,
            Request::StopApplication("LOGIC"),
            Request::StartApplication("LOGIC"),
            Request::Confirm { unsolicited: true },
            Request::SessionKeyStatusQuery { user: 1 },
            station.key_change_for(&mut rng).unwrap(),
            station.reply_for(&mut rng).unwrap(),
        ] {
            let mut apdu = Apdu::default();
            request.encode(5, &mut apdu).unwrap();
            let fragment = parse(&apdu);
            assert_eq!(fragment.function, request.function());
            assert_eq!(fragment.control.sequence(), 5);
            let headers: Vec<ObjectKey> = fragment
                .objects
                .iter()
                .map(|h| ObjectKey::Header {
                    group: h.group,
                    variation: h.variation,
                })
                .collect();
            let noted: Vec<ObjectKey> = apdu
                .objects
                .iter()
                .copied()
                .filter(|k| matches!(k, ObjectKey::Header { .. }))
                .collect();
            assert_eq!(headers, noted, "{request:?}");
        }
    }

    #[test]
    fn outstation_answers_integrity_polls_and_identifies() {
        let identity = Identity {
            software_version: "1",
            hardware_version: "2",
            user_assigned_id: "3",
            device_name: "RTU",
            serial_number: "5",
            product_and_model: "6",
            vendor: "SEL",
        };
        let mut station = Outstation::new(16, 120, Rng::new(1)).with_identity(identity);
        let mut apdu = Apdu::default();
        station.respond(&INTEGRITY, 3, 0, &mut apdu).unwrap();
        let fragment = parse(&apdu);
        assert_eq!(fragment.function, FunctionCode::RESPONSE);
        assert!(apdu.bytes.len() > 600);
        let objects: Vec<u16> = fragment.objects.iter().map(|h| h.object()).collect();
        assert_eq!(objects, [0x0102, 0x1E01]);
        station
            .respond(&Request::ReadAttributes(&[ALL_ATTRIBUTES]), 4, 0, &mut apdu)
            .unwrap();
        let fragment = parse(&apdu);
        assert_eq!(fragment.objects.iter().count(), 7);
        assert_eq!(apdu.identity.len(), 7);
        assert!(apdu.identity.contains(&("vendor", "SEL".to_owned())));
    }

    #[test]
    fn applications_are_named_by_g90v1_and_answered_with_null_responses() {
        let mut station = Outstation::new(4, 4, Rng::new(2));
        let mut apdu = Apdu::default();
        for (request, function) in [
            (
                Request::StopApplication("LOGIC"),
                FunctionCode::STOP_APPLICATION,
            ),
            (
                Request::StartApplication("LOGIC"),
                FunctionCode::START_APPLICATION,
            ),
        ] {
            request.encode(6, &mut apdu).unwrap();
            parse(&apdu);
            // Control, function, then g90v1, qualifier 0x5B, one object of five octets.
            assert_eq!(apdu.bytes[1], function.0);
            assert_eq!(&apdu.bytes[2..8], [90, 1, 0x5B, 1, 5, 0]);
            assert_eq!(&apdu.bytes[8..], b"LOGIC");
            assert_eq!(apdu.objects, [header(90, 1)]);
            station.answer(&request, 6, 0, &mut apdu).unwrap();
            let fragment = parse(&apdu);
            assert_eq!(fragment.function, FunctionCode::RESPONSE);
            assert_eq!(fragment.control.sequence(), 6);
            assert!(fragment.objects.is_empty());
            assert!(apdu.objects.is_empty());
            assert_eq!(apdu.bytes.len(), 4);
        }
    }

    #[test]
    fn secure_authentication_challenges_critical_requests() {
        let mut rng = Rng::new(9);
        let mut station = Outstation::new(8, 8, rng.fork(2)).with_secure_authentication(1);
        let mut apdu = Apdu::default();
        let operate = Request::DirectOperate(vec![Crob {
            index: 2,
            code: 0x81,
            count: 1,
            on_ms: 500,
            off_ms: 0,
            status: 0,
        }]);
        station.answer(&operate, 1, 0, &mut apdu).unwrap();
        assert!(apdu.is_challenge());
        parse(&apdu);
        let reply = station.reply_for(&mut rng).unwrap();
        station.answer(&reply, 1, 0, &mut apdu).unwrap();
        assert_eq!(apdu.function, FunctionCode::RESPONSE);
        assert!(apdu.objects.contains(&ObjectKey::Crob(2)));
        // Reads are not critical.
        station.answer(&EVENTS, 2, 0, &mut apdu).unwrap();
        assert_eq!(apdu.function, FunctionCode::RESPONSE);
    }
}
