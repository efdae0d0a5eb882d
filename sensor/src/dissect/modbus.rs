//! Modbus/TCP per-flow state: framing over the reassembled stream, gap
//! resynchronisation, request/response pairing, and inventory updates.

use faro_protocols::Framing;
use faro_protocols::identity::IdentitySource;
use faro_protocols::modbus::{self, Adu, Anomalies, Body, Direction, FunctionCode, ServerIdReport};

use super::{Analysis, FlowBinding, FlowEnds, FrameInfo, Orientation, StreamEvent, frame_stream};
use crate::inventory::{AccessKey, Asset, FunctionKey, MAX_IDENTITY_VALUE_LEN, Protocol, Role};

/// Largest partial ADU the stream keeps for this protocol.
pub const MAX_PARTIAL: usize = modbus::MBAP_HEADER_LEN - 1 + modbus::MAX_FRAMED_LENGTH as usize;

/// A request waiting for its response.
#[derive(Debug, Clone, Copy)]
struct Pending {
    transaction_id: u16,
    unit_id: u8,
    function: FunctionCode,
    quantity: Option<u16>,
}

/// State of one Modbus flow.
#[derive(Debug, Default)]
pub struct ModbusFlow {
    /// Per direction (0: to the server, 1: to the client): bytes were lost, so
    /// framing must find the next ADU boundary before parsing again.
    resync: [bool; 2],
    pending: Vec<Pending>,
    orientation: Orientation,
    binding: FlowBinding,
}

fn direction_index(to_server: bool) -> usize {
    usize::from(!to_server)
}

/// The inventory's name for a Read Device Identification object.
fn identity_attribute(object_id: u8) -> std::borrow::Cow<'static, str> {
    match object_id {
        0 => "vendor".into(),
        1 => "product_code".into(),
        2 => "revision".into(),
        3 => "vendor_url".into(),
        4 => "product_name".into(),
        5 => "model_name".into(),
        6 => "user_application_name".into(),
        other => format!("object_{other}").into(),
    }
}

/// Records a Report Server ID response (FC 17) as identity: the server id,
/// the run indicator and the additional data.
fn apply_server_id_report(server: &mut Asset, report: &ServerIdReport<'_>) {
    let source = IdentitySource::ModbusReportServerId;
    let mut buffer = [0u8; MAX_IDENTITY_VALUE_LEN];
    server.set_identity(
        "server_id",
        text_or_hex(report.server_id, &mut buffer),
        source,
    );
    if let Some(on) = report.run_indicator {
        let status: &[u8] = if on { b"on" } else { b"off" };
        server.set_identity("run_indicator", status, source);
    }
    server.set_identity(
        "server_id_additional_data",
        text_or_hex(report.additional_data, &mut buffer),
        source,
    );
}

/// Device-specific bytes as the inventory shows them: the bytes themselves
/// when they are printable ASCII text of two characters or more (NUL and
/// space padding aside), else `0x` and lowercase hex, written into `buffer`
/// (cut to its length, as identity values are). Nothing is allocated.
fn text_or_hex<'b>(bytes: &'b [u8], buffer: &'b mut [u8; MAX_IDENTITY_VALUE_LEN]) -> &'b [u8] {
    let text = bytes.trim_ascii_end();
    let text = text
        .iter()
        .rposition(|&b| b != 0)
        .and_then(|last| text.get(..=last))
        .unwrap_or_default();
    if text.len() >= 2 && text.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        return text;
    }
    if bytes.is_empty() {
        return bytes;
    }
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let digit = |nibble: u8| DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0');
    let mut len = 0;
    if let Some(prefix) = buffer.get_mut(..2) {
        prefix.copy_from_slice(b"0x");
        len = 2;
    }
    for (pair, &byte) in buffer
        .get_mut(2..)
        .unwrap_or_default()
        .chunks_exact_mut(2)
        .zip(bytes)
    {
        pair.copy_from_slice(&[digit(byte >> 4), digit(byte & 0x0F)]);
        len += 2;
    }
    buffer.get(..len).unwrap_or_default()
}

impl ModbusFlow {
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
            modbus::find_boundary,
            modbus::frame,
            |event| match event {
                StreamEvent::Pdu(adu) => self.on_adu(adu, frame, ends, analysis),
                StreamEvent::BadFraming => analysis.stats.malformed.modbus += 1,
                StreamEvent::Skipped(n) => {
                    analysis.stats.reassembly.resync_skipped_bytes += n as u64
                }
            },
        );
        self.set_resync(dir, resync);
        used
    }

    /// One UDP datagram: whole ADUs, anything left over is malformed.
    pub fn on_datagram(
        &mut self,
        data: &[u8],
        frame: &FrameInfo,
        ends: &FlowEnds,
        analysis: &mut Analysis,
    ) {
        let mut pos = 0;
        while let Some(buf) = data.get(pos..).filter(|b| !b.is_empty()) {
            match modbus::frame(buf) {
                Framing::Parsed { consumed, message } => {
                    self.on_adu(message, frame, ends, analysis);
                    pos += consumed;
                }
                Framing::NeedMore { .. } | Framing::NotThisProtocol => {
                    analysis.stats.malformed.modbus += 1;
                    break;
                }
            }
        }
    }

    /// Bytes were lost in one direction: resynchronise on the next ADU there.
    pub fn on_gap(&mut self, to_server: bool) {
        self.set_resync(direction_index(to_server), true);
    }

    /// The flow ended: requests still pending were never answered.
    pub fn on_close(&mut self, analysis: &mut Analysis) {
        analysis.stats.modbus.unanswered += self.pending.len() as u64;
        self.pending.clear();
    }

    fn set_resync(&mut self, dir: usize, value: bool) {
        if let Some(flag) = self.resync.get_mut(dir) {
            *flag = value;
        }
    }

    fn on_adu(
        &mut self,
        adu: Adu<'_>,
        frame: &FrameInfo,
        ends: &FlowEnds,
        analysis: &mut Analysis,
    ) {
        if let Some(hint) = modbus::direction_hint(&adu) {
            if self
                .orientation
                .settle(frame.to_server, hint == Direction::Request)
            {
                // What was recorded under the guess belongs to the other edge.
                self.binding.reset();
                self.pending.clear();
            }
        }
        let ends = &self.orientation.ends(ends);
        let frame = &FrameInfo {
            to_server: self.orientation.to_server(frame.to_server),
            ..*frame
        };
        let direction = if frame.to_server {
            Direction::Request
        } else {
            Direction::Response
        };
        let mut message = modbus::parse(adu, direction);
        analysis.stats.pdus.modbus += 1;
        let header = message.header;
        let code;
        match direction {
            Direction::Request => {
                analysis.stats.modbus.requests += 1;
                code = u32::from(message.function.0);
                self.remember_request(&message, analysis);
            }
            Direction::Response => {
                code = u32::from(message.function.code());
                let request = self
                    .pending
                    .iter()
                    .position(|p| {
                        p.transaction_id == header.transaction_id && p.unit_id == header.unit_id
                    })
                    .map(|at| self.pending.remove(at));
                message.anomalies |= match request {
                    Some(req) => modbus::response_anomalies(req.function, req.quantity, &message),
                    None => Anomalies::RESPONSE_WITHOUT_REQUEST,
                };
                if message.function.is_exception() {
                    analysis.stats.modbus.exceptions += 1;
                } else {
                    analysis.stats.modbus.responses += 1;
                }
            }
        }
        for name in message.anomalies.names() {
            *analysis.stats.modbus.anomalies.entry(name).or_default() += 1;
        }
        let roles = (Role::ModbusClient, Role::ModbusServer);
        let Some(ids) = self
            .binding
            .get(ends, roles, Protocol::Modbus, frame.ts, analysis)
        else {
            return;
        };
        let ts = frame.ts;
        let inventory = &mut analysis.inventory;
        let sender = if frame.to_server {
            ids.client
        } else {
            ids.server
        };
        if let Some(asset) = inventory.asset_mut(sender, ts) {
            asset.saw_frame(frame.src_mac, frame.vlan);
        }
        let receiver = if frame.to_server {
            ids.server
        } else {
            ids.client
        };
        let _ = inventory.asset_mut(receiver, ts);
        if let Body::ReadDeviceIdResponse { objects, .. } = &message.body {
            if let Some(server) = inventory.asset_mut(ids.server, ts) {
                for object in objects.iter() {
                    server.set_identity(
                        &identity_attribute(object.id),
                        object.value,
                        IdentitySource::ModbusReadDeviceIdentification,
                    );
                }
            }
        }
        if let (FunctionCode::REPORT_SERVER_ID, Body::ByteCounted { data, .. }) =
            (message.function, &message.body)
        {
            if let Some(server) = inventory.asset_mut(ids.server, ts) {
                apply_server_id_report(server, &ServerIdReport::split(data));
            }
        }
        let max_ranges = inventory.max_ranges;
        let Some(edge) = ids.edge.and_then(|id| inventory.edge_mut(id, ts)) else {
            return;
        };
        let counters = edge.function(FunctionKey::Code(code));
        match direction {
            Direction::Request => counters.requests += 1,
            Direction::Response if message.function.is_exception() => counters.exceptions += 1,
            Direction::Response => counters.responses += 1,
        }
        for name in message.anomalies.names() {
            edge.count_anomaly(name);
        }
        for access in message.accesses() {
            let key = AccessKey {
                unit: header.unit_id,
                table: access.table.name(),
                access: access.access.name(),
            };
            let start = u32::from(access.start);
            let end = start + u32::from(access.count.max(1)) - 1;
            if edge.record_access(key, start, end, max_ranges) {
                analysis.stats.shed.address_ranges += 1;
            }
        }
        // A malformed request is counted, never a finding.
        if direction == Direction::Request && !message.anomalies.is_malformed() {
            if let Some(edge) = ids.edge {
                let key = FunctionKey::Code(code);
                super::well_formed_request(analysis, edge, Protocol::Modbus, key, ts);
            }
            // Diagnostics sub-functions (restart, listen-only, clear) are what the rules look at.
            if let Body::Diagnostics { sub_function, .. } = &message.body {
                let object = format!("diag-{sub_function:#06x}");
                super::count_request_object(analysis, &ids, Protocol::Modbus, &object, ts);
            }
        }
    }

    fn remember_request(&mut self, message: &modbus::Message<'_>, analysis: &mut Analysis) {
        let header = message.header;
        // A request reusing a pending transaction id means the earlier one went unanswered.
        if let Some(at) = self
            .pending
            .iter()
            .position(|p| p.transaction_id == header.transaction_id && p.unit_id == header.unit_id)
        {
            self.pending.remove(at);
            analysis.stats.modbus.unanswered += 1;
        }
        if self.pending.len() >= analysis.limits.max_pending_transactions.max(1) {
            self.pending.remove(0);
            analysis.stats.shed.pending_transactions += 1;
            analysis.stats.modbus.unanswered += 1;
        }
        self.pending.push(Pending {
            transaction_id: header.transaction_id,
            unit_id: header.unit_id,
            function: message.function,
            quantity: message.quantity(),
        });
    }
}
