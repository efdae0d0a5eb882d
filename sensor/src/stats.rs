//! Counters: what the sensor saw, what it could not parse, and what it shed.
//!
//! Every bounded table and buffer has a counter under [`Shed`], so dropping is
//! always visible in the output.

use std::collections::BTreeMap;

use serde::Serialize;

/// All counters of one analysis or one summary interval.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    /// Frames read.
    pub packets: u64,
    /// Bytes on the wire of the frames read.
    pub bytes: u64,
    /// Link, network and transport decoding.
    pub decode: DecodeStats,
    /// Flow tracking.
    pub flows: FlowStats,
    /// TCP reassembly.
    pub reassembly: ReassemblyStats,
    /// Protocol data units parsed, per protocol.
    pub pdus: PerProtocol,
    /// Frames and PDUs that could not be parsed.
    pub malformed: MalformedStats,
    /// Modbus transactions and anomalies.
    pub modbus: ModbusStats,
    /// S7comm and S7comm-plus transactions.
    pub s7: S7Stats,
    /// DNP3 link, transport and application activity.
    pub dnp3: Dnp3Stats,
    /// OPC UA chunks and services.
    pub opcua: OpcUaStats,
    /// What bounded tables and buffers dropped.
    pub shed: Shed,
    /// Live capture: libpcap's counters per interface (the kernel ring
    /// buffer's drops are its shedding). Empty, and left out of the output,
    /// when reading capture files.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub capture: Vec<InterfaceCounters>,
}

/// libpcap's counters of one live interface since the sensor opened it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct InterfaceCounters {
    /// The interface name.
    pub interface: String,
    /// Packets that passed the BPF filter (dropped ones included).
    pub received: u64,
    /// Packets the kernel dropped because the capture ring buffer was full.
    pub dropped: u64,
    /// Packets the interface or its driver dropped before the kernel saw them.
    pub if_dropped: u64,
}

/// Decoding outcomes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DecodeStats {
    /// TCP segments.
    pub tcp: u64,
    /// UDP datagrams.
    pub udp: u64,
    /// Frames that are not IP (ARP, LLDP, PROFINET, …).
    pub not_ip: u64,
    /// IP fragments (counted, not reassembled).
    pub ip_fragments: u64,
    /// IP packets carrying neither TCP nor UDP.
    pub other_transport: u64,
}

/// Flow table activity.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FlowStats {
    /// Flows created.
    pub created: u64,
    /// Flows closed by FIN or RST.
    pub closed: u64,
    /// Flows closed after the idle timeout.
    pub expired: u64,
    /// Most flows tracked at once.
    pub peak: u64,
    /// Flows whose payload matched no supported protocol.
    pub unrecognised: u64,
    /// Flows carrying each protocol.
    pub by_protocol: PerProtocol,
}

/// Per-protocol counts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PerProtocol {
    /// Modbus/TCP.
    pub modbus: u64,
    /// S7comm.
    pub s7comm: u64,
    /// S7comm-plus.
    pub s7comm_plus: u64,
    /// DNP3 (application fragments; link frames are under `dnp3`).
    pub dnp3: u64,
    /// OPC UA (service messages decoded; chunks are under `opcua`).
    pub opcua: u64,
}

/// TCP reassembly activity.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReassemblyStats {
    /// Bytes seen again (retransmissions, overlaps) and dropped.
    pub retransmitted_bytes: u64,
    /// Segments that arrived ahead of a hole and were held.
    pub out_of_order_segments: u64,
    /// Holes never filled: the stream skipped ahead.
    pub gaps: u64,
    /// Bytes lost in those holes.
    pub gap_bytes: u64,
    /// Bytes skipped to resynchronise on the next PDU after a gap or bad framing.
    pub resync_skipped_bytes: u64,
}

/// Unparseable input.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MalformedStats {
    /// Frames cut short before their transport header ended, or with a cut payload.
    pub truncated_packets: u64,
    /// Modbus framing failures inside a Modbus stream.
    pub modbus: u64,
    /// TPKT/COTP framing failures and S7 PDUs that could not be parsed.
    pub s7: u64,
    /// DNP3 link frames with a bad header or data CRC (dropped), and
    /// application fragments that could not be parsed.
    pub dnp3: u64,
    /// OPC UA chunks with a bad header, and plaintext messages that could not be decoded.
    pub opcua: u64,
}

/// Modbus transactions.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ModbusStats {
    /// Requests (client to server).
    pub requests: u64,
    /// Normal responses.
    pub responses: u64,
    /// Exception responses.
    pub exceptions: u64,
    /// Requests never answered (flow ended or the request was shed).
    pub unanswered: u64,
    /// Anomaly flags raised, by name.
    pub anomalies: BTreeMap<&'static str, u64>,
}

/// S7 transactions.
#[derive(Debug, Clone, Default, Serialize)]
pub struct S7Stats {
    /// S7comm Job requests.
    pub jobs: u64,
    /// S7comm userdata requests.
    pub userdata_requests: u64,
    /// S7comm-plus requests.
    pub plus_requests: u64,
    /// Responses (Ack, Ack_Data, userdata responses, S7comm-plus responses).
    pub responses: u64,
    /// Responses reporting an error (header error class, or an item return code).
    pub error_responses: u64,
    /// Responses that matched no pending request.
    pub unpaired_responses: u64,
    /// COTP payloads carrying TLS (S7-1500 secure sessions): recognised, not decoded.
    pub tls_pdus: u64,
}

/// DNP3 link, transport and application activity.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Dnp3Stats {
    /// Link frames with valid CRCs.
    pub link_frames: u64,
    /// Link frames dropped for a bad data CRC.
    pub crc_errors: u64,
    /// Requests (master to outstation).
    pub requests: u64,
    /// Solicited responses.
    pub responses: u64,
    /// Unsolicited responses.
    pub unsolicited: u64,
    /// Transport segments out of sequence (the fragment being assembled was discarded).
    pub transport_sequence_errors: u64,
    /// Transport segments without a first segment to continue.
    pub transport_orphans: u64,
}

/// OPC UA chunks by message type, and services.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OpcUaStats {
    /// Hello (HEL).
    pub hello: u64,
    /// Acknowledge (ACK).
    pub acknowledge: u64,
    /// Error (ERR).
    pub error: u64,
    /// ReverseHello (RHE).
    pub reverse_hello: u64,
    /// OpenSecureChannel chunks (OPN).
    pub open: u64,
    /// Secure conversation message chunks (MSG).
    pub message: u64,
    /// CloseSecureChannel chunks (CLO).
    pub close: u64,
    /// Chunks with chunk type A: the sender abandoned the message.
    pub aborted_chunks: u64,
    /// Chunks of secured channels (policy other than None): not decoded.
    pub encrypted_chunks: u64,
    /// Service requests decoded.
    pub requests: u64,
    /// Service responses decoded (ServiceFault included).
    pub responses: u64,
    /// ServiceFault responses, and responses with a bad service result.
    pub faults: u64,
    /// Responses that matched no pending request.
    pub unpaired_responses: u64,
}

/// What each bounded table or buffer dropped.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Shed {
    /// Flows evicted because the flow table was full.
    pub flows: u64,
    /// Holes declared lost early because a direction's out-of-order window or
    /// segment count, or the global reassembly budget, was full.
    pub reassembly_holds: u64,
    /// Partial-PDU bytes dropped because the global reassembly budget was full.
    pub reassembly_bytes: u64,
    /// Pending requests dropped because a flow's transaction table was full.
    pub pending_transactions: u64,
    /// Assets not added because the inventory was full.
    pub assets: u64,
    /// Edges not added because the inventory was full.
    pub edges: u64,
    /// IT service edges not added because their table was full.
    pub service_edges: u64,
    /// Address ranges merged because an edge's range list was full.
    pub address_ranges: u64,
    /// COTP data bytes dropped because a PDU spanning several TPDUs grew past its bound.
    pub cotp_bytes: u64,
    /// Protocol objects not recorded because an edge's object list was full.
    pub edge_objects: u64,
    /// DNP3 application fragments discarded for growing past their bound.
    pub dnp3_fragments: u64,
    /// OPC UA messages discarded for growing past their bound over several chunks.
    pub opcua_messages: u64,
    /// OPC UA endpoints, URLs, certificates or names not recorded because a list was full.
    pub opcua_values: u64,
    /// Findings not raised because the findings table was full.
    pub findings: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_counters_are_reported_only_when_capturing_live() {
        let mut stats = Stats::default();
        let json = serde_json::to_value(&stats).unwrap();
        assert!(json.get("capture").is_none(), "{json}");
        stats.capture.push(InterfaceCounters {
            interface: "eth1".into(),
            received: 10,
            dropped: 2,
            if_dropped: 1,
        });
        let json = serde_json::to_value(&stats).unwrap();
        assert_eq!(
            json["capture"],
            serde_json::json!([{"interface": "eth1", "received": 10, "dropped": 2, "if_dropped": 1}])
        );
    }
}
