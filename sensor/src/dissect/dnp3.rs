//! DNP3 (IEEE 1815) per-flow state: link frames over a TCP stream or in UDP
//! datagrams (CRCs verified, bad frames counted and dropped, resynchronising
//! on the next `05 64`), transport reassembly per direction and link-address
//! pair (bounded), then application fragments: master and outstation roles
//! from the DIR bit, requests by function, object headers and operated points,
//! device attributes for the inventory, Secure Authentication per edge.

use std::fmt::Write as _;

use faro_protocols::Framing;
use faro_protocols::dnp3::{app, link, transport};
use faro_protocols::identity::IdentitySource;

use super::{
    Analysis, FlowBinding, FlowEnds, FlowIds, FrameInfo, Orientation, StreamEvent, frame_stream,
};
use crate::inventory::{Asset, FunctionKey, Protocol, Role};

/// Largest link frame: header, 250 bytes of user data and 16 data-block CRCs.
pub const MAX_PARTIAL: usize = link::HEADER_LEN + 250 + 2 * 16;

/// Largest application fragment assembled from transport segments.
pub const MAX_FRAGMENT: usize = 8 * 1024;

/// Link-address pairs tracked per direction of one flow (a gateway may front
/// several outstations on one connection).
const MAX_ASSOCIATIONS: usize = 8;

/// Link addresses at or above this are broadcast or reserved, not a device's own.
const FIRST_RESERVED_ADDRESS: u16 = 0xFFF0;

/// Transport reassembly of one direction of one link-address pair.
struct Association {
    source: u16,
    destination: u16,
    reassembler: transport::Reassembler,
}

impl std::fmt::Debug for Association {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Association({} -> {})", self.source, self.destination)
    }
}

/// State of one flow carrying DNP3.
#[derive(Debug, Default)]
pub struct Dnp3Flow {
    /// Per direction (0 to the server, 1 to the client): resynchronise on the next `05 64`.
    resync: [bool; 2],
    associations: Vec<Association>,
    /// CRC-stripped user data of the link frame being handled (reused).
    scratch: Vec<u8>,
    /// Edge object names are formatted here, so the hot path does not allocate.
    object_key: String,
    orientation: Orientation,
    binding: FlowBinding,
}

fn direction_index(to_server: bool) -> usize {
    usize::from(!to_server)
}

impl Dnp3Flow {
    /// In-order bytes of one direction of a TCP stream; returns how many were consumed.
    pub fn on_stream(
        &mut self,
        data: &[u8],
        frame: &FrameInfo,
        ends: &FlowEnds,
        analysis: &mut Analysis,
    ) -> usize {
        let dir = direction_index(frame.to_server);
        let mut resync = self.resync.get(dir).copied().unwrap_or(false);
        // A start is known only with its whole header (its CRC must hold):
        // `find_start` also points at a header cut at the end of the data.
        let used = frame_stream(
            data,
            &mut resync,
            link::HEADER_LEN - 1,
            link::find_start,
            link::frame,
            |event| match event {
                StreamEvent::Pdu(link_frame) => {
                    self.on_link_frame(&link_frame, frame, ends, analysis)
                }
                StreamEvent::BadFraming => analysis.stats.malformed.dnp3 += 1,
                StreamEvent::Skipped(n) => {
                    analysis.stats.reassembly.resync_skipped_bytes += n as u64
                }
            },
        );
        self.set_resync(dir, resync);
        used
    }

    /// One UDP datagram: whole link frames.
    pub fn on_datagram(
        &mut self,
        data: &[u8],
        frame: &FrameInfo,
        ends: &FlowEnds,
        analysis: &mut Analysis,
    ) {
        let mut pos = 0;
        while let Some(buf) = data.get(pos..).filter(|b| !b.is_empty()) {
            match link::frame(buf) {
                Framing::Parsed { consumed, message } => {
                    self.on_link_frame(&message, frame, ends, analysis);
                    pos += consumed;
                }
                Framing::NeedMore { .. } | Framing::NotThisProtocol => {
                    analysis.stats.malformed.dnp3 += 1;
                    break;
                }
            }
        }
    }

    /// Bytes were lost in one direction: resynchronise, and drop fragments being assembled.
    pub fn on_gap(&mut self, to_server: bool) {
        self.set_resync(direction_index(to_server), true);
        for association in &mut self.associations {
            association.reassembler.reset();
        }
    }

    fn set_resync(&mut self, dir: usize, value: bool) {
        if let Some(flag) = self.resync.get_mut(dir) {
            *flag = value;
        }
    }

    fn on_link_frame(
        &mut self,
        frame: &link::Frame<'_>,
        info: &FrameInfo,
        ends: &FlowEnds,
        analysis: &mut Analysis,
    ) {
        if !frame.data_crc_ok {
            analysis.stats.dnp3.crc_errors += 1;
            analysis.stats.malformed.dnp3 += 1;
            return;
        }
        analysis.stats.dnp3.link_frames += 1;
        let header = frame.header;
        // DIR set: sent by the master, the client of the association.
        if self
            .orientation
            .settle(info.to_server, header.control.dir())
        {
            self.binding.reset();
        }
        let ends = self.orientation.ends(ends);
        let to_server = self.orientation.to_server(info.to_server);
        let Some(ids) = self.binding.get(
            &ends,
            (Role::Dnp3Master, Role::Dnp3Outstation),
            Protocol::Dnp3,
            info.ts,
            analysis,
        ) else {
            return;
        };
        let (sender, receiver) = if to_server {
            (ids.client, ids.server)
        } else {
            (ids.server, ids.client)
        };
        if let Some(asset) = analysis.inventory.asset_mut(sender, info.ts) {
            asset.saw_frame(info.src_mac, info.vlan);
            if header.source < FIRST_RESERVED_ADDRESS {
                asset.add_dnp3_address(header.source);
            }
        }
        if let Some(asset) = analysis.inventory.asset_mut(receiver, info.ts) {
            if header.destination < FIRST_RESERVED_ADDRESS {
                asset.add_dnp3_address(header.destination);
            }
        }
        // User data rides on primary frames. A reset or link-status request
        // carries none (its bytes are ignored); other functions are parsed
        // even when unusual, so content smuggled in them is still seen.
        let function = header.control.function();
        let carries_user_data = header.control.prm()
            && function != link::LinkFunction::RESET_LINK_STATES
            && function != link::LinkFunction::REQUEST_LINK_STATUS;
        if !carries_user_data || frame.data.is_empty() {
            return;
        }
        self.scratch.clear();
        frame.data.copy_to(&mut self.scratch);
        let Some((segment_header, segment)) = transport::split(&self.scratch) else {
            return;
        };
        let Some(association) = association(
            &mut self.associations,
            header.source,
            header.destination,
            analysis,
        ) else {
            return;
        };
        if segment_header.fir && association.reassembler.is_pending() {
            // A new first segment abandons the fragment being assembled.
            analysis.stats.dnp3.transport_sequence_errors += 1;
        }
        match association.reassembler.push(segment_header, segment) {
            transport::Assembly::Complete(fragment) => {
                on_fragment(fragment, &ids, info.ts, analysis, &mut self.object_key);
            }
            transport::Assembly::Pending => {}
            transport::Assembly::SequenceError => {
                analysis.stats.dnp3.transport_sequence_errors += 1
            }
            transport::Assembly::Overflow => analysis.stats.shed.dnp3_fragments += 1,
            transport::Assembly::NoStart => analysis.stats.dnp3.transport_orphans += 1,
        }
    }
}

/// The transport state of `source -> destination`, created if new; the
/// oldest is dropped past [`MAX_ASSOCIATIONS`].
fn association<'a>(
    associations: &'a mut Vec<Association>,
    source: u16,
    destination: u16,
    analysis: &mut Analysis,
) -> Option<&'a mut Association> {
    let at = match associations
        .iter()
        .position(|a| a.source == source && a.destination == destination)
    {
        Some(at) => at,
        None => {
            if associations.len() >= MAX_ASSOCIATIONS {
                associations.remove(0);
                analysis.stats.shed.dnp3_fragments += 1;
            }
            associations.push(Association {
                source,
                destination,
                reassembler: transport::Reassembler::new(MAX_FRAGMENT),
            });
            associations.len() - 1
        }
    };
    associations.get_mut(at)
}

/// One complete application fragment.
fn on_fragment(
    fragment: &[u8],
    ids: &FlowIds,
    ts: u64,
    analysis: &mut Analysis,
    name: &mut String,
) {
    let Ok(parsed) = app::parse(fragment) else {
        analysis.stats.malformed.dnp3 += 1;
        return;
    };
    analysis.stats.pdus.dnp3 += 1;
    let function = parsed.function;
    let key = FunctionKey::Code(u32::from(function.0));
    let secure_authentication = matches!(
        function,
        app::FunctionCode::AUTHENTICATE_REQ
            | app::FunctionCode::AUTH_REQ_NO_ACK
            | app::FunctionCode::AUTHENTICATE_RESP
    );
    let stats = &mut analysis.stats.dnp3;
    // Every code below 0x80 travels as a request, assigned or not (0x70 is still a request).
    let request = function.0 < 0x80;
    if request {
        stats.requests += 1;
    } else if function == app::FunctionCode::UNSOLICITED_RESPONSE {
        stats.unsolicited += 1;
    } else {
        stats.responses += 1;
    }
    let mut objects_shed = 0;
    let mut saw_sa_object = false;
    let mut saw_attributes = false;
    if let Some(edge) = ids.edge.and_then(|id| analysis.inventory.edge_mut(id, ts)) {
        let counters = edge.function(key);
        if request {
            counters.requests += 1;
        } else {
            counters.responses += 1;
        }
        for header in parsed.objects.iter() {
            if header.group == SECURE_AUTHENTICATION_GROUP {
                saw_sa_object = true;
            }
            if header.group == DEVICE_ATTRIBUTES_GROUP {
                saw_attributes = true;
            }
            name.clear();
            let _ = write!(name, "g{}v{}", header.group, header.variation);
            if !edge.count_object(name) {
                objects_shed += 1;
            }
            if let app::ObjectValues::Crob(crobs) = header.values {
                for crob in crobs {
                    name.clear();
                    let _ = write!(name, "crob-{}", crob.index);
                    if !edge.count_object(name) {
                        objects_shed += 1;
                    }
                }
            }
        }
        for name in parsed.anomalies.names() {
            edge.count_anomaly(name);
        }
        if secure_authentication || saw_sa_object {
            edge.secure_authentication = Some(true);
        }
    }
    analysis.stats.shed.edge_objects += objects_shed;
    // A malformed request is counted, never a finding.
    if request && !parsed.anomalies.is_malformed() {
        if let Some(edge) = ids.edge {
            super::well_formed_request(analysis, edge, Protocol::Dnp3, key, ts);
        }
    }
    if !request {
        if let Some(outstation) = analysis.inventory.asset_mut(ids.server, ts) {
            apply_outstation(outstation, &parsed, saw_attributes);
        }
    }
}

/// Group 120: Secure Authentication.
const SECURE_AUTHENTICATION_GROUP: u8 = 120;
/// Group 0: device attributes.
const DEVICE_ATTRIBUTES_GROUP: u8 = 0;

/// Records what an outstation's response says about it: device attributes
/// (group 0) and the health bits of its internal indications.
fn apply_outstation(outstation: &mut Asset, fragment: &app::Fragment<'_>, has_attributes: bool) {
    // Attributes are rare; most responses carry measurements only: walk the
    // objects again only when group 0 was seen.
    let objects = has_attributes
        .then(|| fragment.objects.iter())
        .into_iter()
        .flatten();
    for header in objects {
        if let app::ObjectValues::DeviceAttribute {
            variation, value, ..
        } = header.values
        {
            if let (Some(name), Some(source)) = (
                device_attribute(variation),
                IdentitySource::dnp3_device_attribute(variation),
            ) {
                outstation.set_identity(name, value, source);
            }
        }
    }
    if let Some(iin) = fragment.iin {
        for (flag, name) in [
            (app::Iin::DEVICE_TROUBLE, "device_trouble"),
            (app::Iin::CONFIG_CORRUPT, "config_corrupt"),
            (app::Iin::EVENT_BUFFER_OVERFLOW, "event_buffer_overflow"),
            (app::Iin::DEVICE_RESTART, "device_restart"),
            (app::Iin::LOCAL_CONTROL, "local_control"),
        ] {
            outstation.set_posture(name, if iin.contains(flag) { "true" } else { "false" });
        }
    }
}

/// The inventory's name for a group 0 device attribute variation.
fn device_attribute(variation: u8) -> Option<&'static str> {
    Some(match variation {
        242 => "software_version",
        243 => "hardware_version",
        246 => "user_assigned_id",
        247 => "device_name",
        248 => "serial_number",
        250 => "product_and_model",
        252 => "vendor",
        _ => return None,
    })
}
