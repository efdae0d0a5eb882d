//! Siemens S7 per-flow state: TPKT framing over the reassembled stream, COTP
//! connection set-up (TSAPs) and data-unit reassembly, then S7comm and
//! S7comm-plus: requests paired with responses by PDU reference, inventory
//! identity from SZL, CPU posture, and TLS-protected sessions.

use faro_protocols::Probe;
use faro_protocols::identity::IdentitySource;
use faro_protocols::s7::comm::{self, Param, Rosctr};
use faro_protocols::s7::cotp::{self, Cotp};
use faro_protocols::s7::szl::{self, SzlRecord};
use faro_protocols::s7::{self, Payload, plus, tpkt};

use super::{
    Analysis, FlowBinding, FlowEnds, FlowIds, FrameInfo, Orientation, StreamEvent, count_request,
    count_request_object, frame_stream,
};
use crate::inventory::{Asset, FunctionKey, Protocol, Role};

/// Largest TPKT frame (the length field is 16 bits).
pub const MAX_PARTIAL: usize = u16::MAX as usize;

/// Largest S7 PDU assembled from several COTP data TPDUs. S7comm PDUs are at
/// most 960 bytes; S7comm-plus ones are larger, but a 64 KiB bound keeps a
/// hostile stream of never-ending TPDUs from growing memory.
pub const MAX_COTP_UNIT: usize = 64 * 1024;

/// A request waiting for its response.
#[derive(Debug, Clone, Copy)]
struct Pending {
    pdu_ref: u16,
    key: FunctionKey,
}

/// State of one ISO-on-TCP flow carrying S7.
#[derive(Debug, Default)]
pub struct S7Flow {
    /// Per direction (0 to the server, 1 to the client): resynchronise on the next TPKT.
    resync: [bool; 2],
    /// Per direction: COTP user data of a unit not yet complete (no EOT yet).
    unit: [Vec<u8>; 2],
    pending: Vec<Pending>,
    /// Per direction: the last S7comm-plus PDU had no trailer, so the next one
    /// continues its data instead of starting with an opcode and function.
    plus_continues: [bool; 2],
    orientation: Orientation,
    s7comm: FlowBinding,
    s7comm_plus: FlowBinding,
}

fn direction_index(to_server: bool) -> usize {
    usize::from(!to_server)
}

impl S7Flow {
    /// In-order bytes of one direction; returns how many were consumed.
    pub fn on_stream(
        &mut self,
        data: &[u8],
        frame: &FrameInfo,
        ends: &FlowEnds,
        analysis: &mut Analysis,
    ) -> usize {
        let dir = direction_index(frame.to_server);
        let mut resync = self.resync.get(dir).copied().unwrap_or(false);
        let used = frame_stream(
            data,
            &mut resync,
            0,
            |buf| {
                (0..buf.len()).find(|&at| {
                    buf.get(at..)
                        .is_some_and(|rest| s7::probe(rest) != Probe::NoMatch)
                })
            },
            tpkt::frame,
            |event| match event {
                StreamEvent::Pdu(tpkt) => match cotp::parse(tpkt.payload) {
                    Ok(tpdu) => self.on_tpdu(tpdu, frame, ends, analysis),
                    Err(_) => analysis.stats.malformed.s7 += 1,
                },
                StreamEvent::BadFraming => {
                    analysis.stats.malformed.s7 += 1;
                    self.clear_unit(dir);
                }
                StreamEvent::Skipped(n) => {
                    analysis.stats.reassembly.resync_skipped_bytes += n as u64
                }
            },
        );
        self.set_resync(dir, resync);
        used
    }

    /// Bytes were lost in one direction: drop the unit being assembled and resynchronise.
    pub fn on_gap(&mut self, to_server: bool) {
        let dir = direction_index(to_server);
        self.set_resync(dir, true);
        self.clear_unit(dir);
        if let Some(flag) = self.plus_continues.get_mut(dir) {
            *flag = false;
        }
    }

    /// The flow ended.
    pub fn on_close(&mut self, _analysis: &mut Analysis) {
        self.pending.clear();
    }

    fn set_resync(&mut self, dir: usize, value: bool) {
        if let Some(flag) = self.resync.get_mut(dir) {
            *flag = value;
        }
    }

    fn clear_unit(&mut self, dir: usize) {
        if let Some(unit) = self.unit.get_mut(dir) {
            *unit = Vec::new();
        }
    }

    fn on_tpdu(
        &mut self,
        tpdu: Cotp<'_>,
        frame: &FrameInfo,
        ends: &FlowEnds,
        analysis: &mut Analysis,
    ) {
        match tpdu {
            Cotp::ConnectionRequest(connection) => {
                // The initiator of the ISO connection is the S7 client.
                self.settle(frame.to_server, true);
                let ends = self.orientation.ends(ends);
                if let Some(tsap) = connection.called_tsap.and_then(cotp::tsap) {
                    // The called TSAP addresses the CPU: its rack and slot.
                    with_asset(ends.server.ip, frame.ts, analysis, |plc| {
                        let source = IdentitySource::S7CotpConnectionRequest;
                        plc.set_identity("rack", tsap.rack.to_string().as_bytes(), source);
                        plc.set_identity("slot", tsap.slot.to_string().as_bytes(), source);
                    });
                }
                if let Some(tsap) = connection.calling_tsap.and_then(cotp::tsap) {
                    if let Some(kind) = tsap.connection_type.name() {
                        with_asset(ends.client.ip, frame.ts, analysis, |client| {
                            client.set_identity(
                                "s7_connection_type",
                                kind.as_bytes(),
                                IdentitySource::S7CotpConnectionRequest,
                            );
                        });
                    }
                }
            }
            Cotp::ConnectionConfirm(_) => self.settle(frame.to_server, false),
            Cotp::Data { eot, user_data, .. } => {
                let dir = direction_index(frame.to_server);
                let Some(unit) = self.unit.get_mut(dir) else {
                    return;
                };
                if unit.is_empty() && eot {
                    self.on_unit(user_data, frame, ends, analysis);
                    return;
                }
                if unit.len() + user_data.len() > MAX_COTP_UNIT {
                    analysis.stats.shed.cotp_bytes += (unit.len() + user_data.len()) as u64;
                    *unit = Vec::new();
                    return;
                }
                unit.extend_from_slice(user_data);
                if eot {
                    let whole = std::mem::take(unit);
                    self.on_unit(&whole, frame, ends, analysis);
                }
            }
            Cotp::DisconnectRequest { .. } | Cotp::Other { .. } => {}
        }
    }

    /// Settles the roles from a PDU whose sender is known to be the client or the server.
    fn settle(&mut self, guessed_to_server: bool, sender_is_client: bool) {
        if self.orientation.settle(guessed_to_server, sender_is_client) {
            self.s7comm.reset();
            self.s7comm_plus.reset();
            self.pending.clear();
        }
    }

    /// One complete COTP user-data unit.
    fn on_unit(
        &mut self,
        unit: &[u8],
        frame: &FrameInfo,
        ends: &FlowEnds,
        analysis: &mut Analysis,
    ) {
        match s7::classify_payload(unit) {
            Payload::S7comm => match comm::parse(unit) {
                Ok(message) => self.on_s7comm(&message, frame, ends, analysis),
                Err(_) => analysis.stats.malformed.s7 += 1,
            },
            Payload::S7commPlus => {
                let dir = direction_index(frame.to_server);
                let continues = self.plus_continues.get(dir).copied().unwrap_or(false);
                let parsed = if continues {
                    plus::parse_continuation(unit)
                } else {
                    plus::parse(unit)
                };
                match parsed {
                    Ok(message) => {
                        if let Some(flag) = self.plus_continues.get_mut(dir) {
                            *flag = !message.trailer;
                        }
                        if !continues {
                            self.on_s7plus(&message, frame, ends, analysis);
                        }
                    }
                    Err(_) => analysis.stats.malformed.s7 += 1,
                }
            }
            Payload::Tls => {
                analysis.stats.s7.tls_pdus += 1;
                let ends = self.orientation.ends(ends);
                if let Some(ids) = self.ids(Protocol::S7commPlus, &ends, frame.ts, analysis) {
                    if let Some(edge) = ids
                        .edge
                        .and_then(|id| analysis.inventory.edge_mut(id, frame.ts))
                    {
                        edge.protected = true;
                    }
                }
            }
            Payload::Unknown => analysis.stats.malformed.s7 += 1,
        }
    }

    fn on_s7comm(
        &mut self,
        message: &comm::Message<'_>,
        frame: &FrameInfo,
        ends: &FlowEnds,
        analysis: &mut Analysis,
    ) {
        analysis.stats.pdus.s7comm += 1;
        let header = message.header;
        // Which way the PDU travels, from its type: Jobs and userdata requests
        // come from clients; Ack, Ack_Data and userdata responses from the
        // server; a push (userdata type 0) from the PLC unasked.
        let is_push =
            matches!(message.param, Param::Userdata { kind, .. } if kind == USERDATA_PUSH);
        let request_key = match (header.rosctr, message.param) {
            (Rosctr::JOB, param) => Some(FunctionKey::Code(u32::from(
                param.function().map_or(0, |f| f.0),
            ))),
            (
                Rosctr::USERDATA,
                Param::Userdata {
                    kind,
                    group,
                    subfunction,
                    ..
                },
            ) if kind == USERDATA_REQUEST => Some(FunctionKey::Userdata { group, subfunction }),
            _ => None,
        };
        if request_key.is_some() {
            self.settle(frame.to_server, true);
        } else if !is_push {
            self.settle(frame.to_server, false);
        }
        let ends = self.orientation.ends(ends);
        let to_server = self.orientation.to_server(frame.to_server);
        let Some(ids) = self.ids(Protocol::S7comm, &ends, frame.ts, analysis) else {
            return;
        };
        sender_saw_frame(&ids, to_server, frame, analysis);
        if let Some(key) = request_key {
            match key {
                FunctionKey::Userdata { .. } => analysis.stats.s7.userdata_requests += 1,
                FunctionKey::Code(_) => analysis.stats.s7.jobs += 1,
            }
            self.remember(header.pdu_ref, key, analysis);
            let well_formed = !message.anomalies.is_malformed();
            count_request(analysis, &ids, Protocol::S7comm, key, frame.ts, well_formed);
            if let Some(object) = request_object(key, message).filter(|_| well_formed) {
                count_request_object(analysis, &ids, Protocol::S7comm, &object, frame.ts);
            }
            return;
        }
        // A response (or a push from the PLC).
        let paired = self.take_pending(header.pdu_ref);
        let key = match (paired, message.param) {
            (Some(p), _) => p.key,
            (
                None,
                Param::Userdata {
                    group, subfunction, ..
                },
            ) => FunctionKey::Userdata { group, subfunction },
            (None, param) => FunctionKey::Code(u32::from(param.function().map_or(0, |f| f.0))),
        };
        let is_push =
            matches!(message.param, Param::Userdata { kind, .. } if kind == USERDATA_PUSH);
        if paired.is_none() && !is_push {
            analysis.stats.s7.unpaired_responses += 1;
        }
        analysis.stats.s7.responses += 1;
        let failed = header.is_error()
            || matches!(message.param, Param::Userdata { error, .. } if error != 0)
            || item_failed(message);
        if failed {
            analysis.stats.s7.error_responses += 1;
        }
        count(&ids, key, frame.ts, analysis, |c| {
            if failed {
                c.exceptions += 1
            } else {
                c.responses += 1
            }
        });
        if let Param::Userdata {
            group, subfunction, ..
        } = message.param
        {
            // A continuation unit of a long response carries no SZL header.
            if group == GROUP_CPU
                && subfunction == SUB_READ_SZL
                && !message.param.is_userdata_continuation()
            {
                if let Some(response) = comm::szl_response(message.data) {
                    let server = ids.server;
                    if let Some(plc) = analysis.inventory.asset_mut(server, frame.ts) {
                        for record in szl::records(&response) {
                            apply_szl(plc, &record);
                        }
                    }
                }
            }
        }
    }

    fn on_s7plus(
        &mut self,
        message: &plus::Message<'_>,
        frame: &FrameInfo,
        ends: &FlowEnds,
        analysis: &mut Analysis,
    ) {
        analysis.stats.pdus.s7comm_plus += 1;
        let opcode = message.opcode;
        if opcode == Some(plus::Opcode::REQUEST) {
            self.settle(frame.to_server, true);
        } else if opcode.is_some() {
            self.settle(frame.to_server, false);
        }
        let ends = self.orientation.ends(ends);
        let to_server = self.orientation.to_server(frame.to_server);
        let Some(ids) = self.ids(Protocol::S7commPlus, &ends, frame.ts, analysis) else {
            return;
        };
        sender_saw_frame(&ids, to_server, frame, analysis);
        let key = FunctionKey::Code(u32::from(message.function.unwrap_or(0)));
        match opcode {
            Some(plus::Opcode::REQUEST) => {
                analysis.stats.s7.plus_requests += 1;
                let well_formed = !message.anomalies.is_malformed();
                count_request(
                    analysis,
                    &ids,
                    Protocol::S7commPlus,
                    key,
                    frame.ts,
                    well_formed,
                );
            }
            Some(plus::Opcode::RESPONSE | plus::Opcode::RESPONSE2) => {
                analysis.stats.s7.responses += 1;
                count(&ids, key, frame.ts, analysis, |c| c.responses += 1);
            }
            _ => {}
        }
        if !to_server {
            // The PLC names itself in plain-text parts: order number, firmware.
            if let Some(plc) = analysis.inventory.asset_mut(ids.server, frame.ts) {
                for text in plus::strings(message.body) {
                    apply_plus_string(plc, text);
                }
            }
        }
    }

    fn remember(&mut self, pdu_ref: u16, key: FunctionKey, analysis: &mut Analysis) {
        self.pending.retain(|p| p.pdu_ref != pdu_ref);
        if self.pending.len() >= analysis.limits.max_pending_transactions.max(1) {
            self.pending.remove(0);
            analysis.stats.shed.pending_transactions += 1;
        }
        self.pending.push(Pending { pdu_ref, key });
    }

    fn take_pending(&mut self, pdu_ref: u16) -> Option<Pending> {
        let at = self.pending.iter().position(|p| p.pdu_ref == pdu_ref)?;
        Some(self.pending.remove(at))
    }

    fn ids(
        &mut self,
        protocol: Protocol,
        ends: &FlowEnds,
        ts: u64,
        analysis: &mut Analysis,
    ) -> Option<FlowIds> {
        let binding = match protocol {
            Protocol::S7commPlus => &mut self.s7comm_plus,
            _ => &mut self.s7comm,
        };
        binding.get(ends, (Role::S7Client, Role::Plc), protocol, ts, analysis)
    }
}

/// Userdata type (high nibble of the type/group byte): push from the PLC.
const USERDATA_PUSH: u8 = 0;
/// Userdata type: request.
const USERDATA_REQUEST: u8 = 4;
/// Userdata function group 4: CPU functions.
const GROUP_CPU: u8 = 4;
/// CPU functions subfunction 1: Read SZL.
const SUB_READ_SZL: u8 = 1;

/// The object a request names, as the edge records it: the SZL list read
/// (`szl-0x0011-0x0000`), the PI service invoked (`pi-P_PROGRAM`), the block
/// a download or upload starts (`download-db1`, `upload-ob1`).
fn request_object(key: FunctionKey, message: &comm::Message<'_>) -> Option<String> {
    if key
        == (FunctionKey::Userdata {
            group: GROUP_CPU,
            subfunction: SUB_READ_SZL,
        })
    {
        let (szl_id, index) = comm::szl_request(message.data)?;
        return Some(format!("szl-{szl_id:#06x}-{index:#06x}"));
    }
    let block_name = |block: &comm::Block| {
        format!(
            "{}{}",
            block.block_type.name().unwrap_or("block"),
            block.number
        )
    };
    match message.param {
        Param::PiService { service, .. } => {
            Some(format!("pi-{}", String::from_utf8_lossy(service)))
        }
        Param::Download {
            function: comm::Function::REQUEST_DOWNLOAD,
            block: Some(block),
            ..
        } => Some(format!("download-{}", block_name(&block))),
        Param::Upload {
            function: comm::Function::START_UPLOAD,
            block: Some(block),
            ..
        } => Some(format!("upload-{}", block_name(&block))),
        _ => None,
    }
}

fn item_failed(message: &comm::Message<'_>) -> bool {
    match message.param {
        Param::AckFunction {
            item_count: Some(count),
            ..
        } => comm::data_items(message.data, count)
            .any(|item| item.return_code != comm::ReturnCode::SUCCESS),
        _ => false,
    }
}

fn count(
    ids: &FlowIds,
    key: FunctionKey,
    ts: u64,
    analysis: &mut Analysis,
    f: impl FnOnce(&mut crate::inventory::FunctionCounters),
) {
    if let Some(edge) = ids.edge.and_then(|id| analysis.inventory.edge_mut(id, ts)) {
        f(edge.function(key));
    }
}

fn sender_saw_frame(ids: &FlowIds, to_server: bool, frame: &FrameInfo, analysis: &mut Analysis) {
    let sender = if to_server { ids.client } else { ids.server };
    if let Some(asset) = analysis.inventory.asset_mut(sender, frame.ts) {
        asset.saw_frame(frame.src_mac, frame.vlan);
    }
    let receiver = if to_server { ids.server } else { ids.client };
    let _ = analysis.inventory.asset_mut(receiver, frame.ts);
}

/// Runs `f` on the asset with address `ip`, created if new.
fn with_asset(ip: std::net::IpAddr, ts: u64, analysis: &mut Analysis, f: impl FnOnce(&mut Asset)) {
    let shed = &mut analysis.stats.shed;
    if let Some(id) = analysis.inventory.asset_for(ip, ts, shed) {
        if let Some(asset) = analysis.inventory.asset_mut(id, ts) {
            f(asset);
        }
    }
}

/// Records what an SZL record says about the PLC.
fn apply_szl(plc: &mut Asset, record: &SzlRecord<'_>) {
    match *record {
        SzlRecord::ModuleIdentification {
            index,
            order_number,
            ausbg,
            ausbe,
            ..
        } => match index {
            MODULE_INDEX => {
                let order_number = szl::trim(order_number);
                let source = IdentitySource::S7SzlModuleIdentification;
                plc.set_identity("order_number", order_number, source);
                if is_siemens_order_number(order_number) {
                    plc.set_identity("vendor", b"Siemens", source);
                }
            }
            FIRMWARE_INDEX => {
                if let Some([major, minor, patch]) = szl::firmware_version(ausbg, ausbe) {
                    plc.set_identity(
                        "firmware_version",
                        format!("V{major}.{minor}.{patch}").as_bytes(),
                        IdentitySource::S7SzlModuleIdentification,
                    );
                }
            }
            _ => {}
        },
        SzlRecord::ComponentIdentification { index, text } => {
            if let Some(name) = component_attribute(index) {
                plc.set_identity(
                    name,
                    szl::trim(text),
                    IdentitySource::S7SzlComponentIdentification,
                );
            }
        }
        SzlRecord::Protection {
            key_switch,
            protection_level_param,
            protection_level_real,
            mode_selector,
            ..
        } => {
            plc.set_posture("protection_level", &protection_level_real.to_string());
            plc.set_posture(
                "protection_level_assigned",
                &protection_level_param.to_string(),
            );
            plc.set_posture("key_switch_protection_level", &key_switch.to_string());
            // Levels 2 and 3 (write, read/write protection) are assigned with a password.
            let password = if protection_level_param >= 2 {
                "true"
            } else {
                "false"
            };
            plc.set_posture("password_protected", password);
            if let Some(position) = szl::mode_selector_name(mode_selector) {
                plc.set_posture("mode_selector", position);
            }
        }
        SzlRecord::OperatingMode { requested_mode, .. } => {
            if let Some(mode) = szl::mode_name(requested_mode) {
                plc.set_posture("cpu_mode", mode);
            }
        }
        SzlRecord::Unknown { .. } => {}
    }
}

/// SZL xy11 record indexes.
const MODULE_INDEX: u16 = 0x0001;
const FIRMWARE_INDEX: u16 = 0x0007;

/// The inventory's name for an SZL 0x001C component identification record.
fn component_attribute(index: u16) -> Option<&'static str> {
    Some(match index {
        0x0001 => "as_name",
        0x0002 => "module_name",
        0x0003 => "plant_designation",
        0x0004 => "copyright",
        0x0005 => "serial_number",
        0x0007 => "module_type_name",
        0x0008 => "memory_card_serial",
        0x000A => "oem_id",
        0x000B => "location",
        _ => return None,
    })
}

/// Siemens order numbers (MLFB) start 6ES5/6ES7 (SIMATIC), 6AG1 (SIPLUS), 6AV (HMI).
fn is_siemens_order_number(text: &[u8]) -> bool {
    [b"6ES5".as_slice(), b"6ES7", b"6AG1", b"6AV"]
        .iter()
        .any(|prefix| text.starts_with(prefix))
}

/// Records an identity string from an S7comm-plus response: the PLC's order number.
fn apply_plus_string(plc: &mut Asset, text: &[u8]) {
    let text = szl::trim(text);
    if is_siemens_order_number(text) && text.len() >= "6ES7 214-1AG40-0XB0".len() {
        plc.set_identity("order_number", text, IdentitySource::S7PlusResponse);
        plc.set_identity("vendor", b"Siemens", IdentitySource::S7PlusResponse);
    }
}
