//! OPC UA binary per-flow state: UA TCP chunks framed from the stream
//! (resynchronising on the next valid chunk header), the secure channel's
//! policy from OpenSecureChannel, and on channels without security the
//! service messages reassembled from their chunks and decoded: requests
//! paired with responses by request id, endpoints and application
//! descriptions for the inventory, identity tokens (never a secret), and the
//! certificates carried. Channels with a security policy are recorded with
//! their policy and certificates; their bodies are not decoded.

use std::collections::VecDeque;

use faro_protocols::identity::IdentitySource;
use faro_protocols::opcua::encoding::{self, StatusCode};
use faro_protocols::opcua::secure::{self, SecurityPolicy};
use faro_protocols::opcua::service::{self, IdentityToken, Service, ServiceId};
use faro_protocols::opcua::transport::{self, Chunk, ChunkType, MessageType};
use faro_protocols::{Layer, Reader};

use super::{Analysis, FlowBinding, FlowEnds, FlowIds, FrameInfo, Orientation, StreamEvent};
use crate::inventory::opcua::{OfferedEndpoint, OpcUaEdge, UserToken};
use crate::inventory::{AssetId, FunctionKey, Protocol, Role, device_text};
use crate::reassembly::Budget;

/// Largest chunk kept while it arrives. Servers and clients negotiate buffer
/// sizes in Hello/Acknowledge, commonly 64 KiB; a bigger chunk is shed and
/// the stream resynchronises.
pub const MAX_PARTIAL: usize = 128 * 1024;

/// Largest service message assembled from several chunks.
pub const MAX_MESSAGE: usize = 1024 * 1024;

/// A message arriving in several chunks, in one direction.
#[derive(Debug, Default)]
enum Assembly {
    /// No message in progress.
    #[default]
    Idle,
    /// A service the sensor decodes in full: its chunks are joined (charged
    /// to the analysis' message budget).
    Collecting { request_id: u32, body: Vec<u8> },
    /// A service counted from its first chunk: the rest of it is not needed.
    Skipping { request_id: u32 },
}

impl Assembly {
    fn request_id(&self) -> Option<u32> {
        match self {
            Assembly::Idle => None,
            Assembly::Collecting { request_id, .. } | Assembly::Skipping { request_id } => {
                Some(*request_id)
            }
        }
    }

    /// Ends the message in progress, giving its bytes back to the budget.
    fn reset(&mut self, budget: &mut Budget) {
        if let Assembly::Collecting { body, .. } = self {
            budget.release(body.len());
        }
        *self = Assembly::Idle;
    }
}

/// Services whose bodies feed the inventory: only these are joined across chunks.
fn decoded_in_full(id: ServiceId) -> bool {
    matches!(
        id,
        ServiceId::GET_ENDPOINTS_REQUEST
            | ServiceId::GET_ENDPOINTS_RESPONSE
            | ServiceId::FIND_SERVERS_REQUEST
            | ServiceId::FIND_SERVERS_RESPONSE
            | ServiceId::CREATE_SESSION_REQUEST
            | ServiceId::CREATE_SESSION_RESPONSE
            | ServiceId::ACTIVATE_SESSION_REQUEST
            | ServiceId::ACTIVATE_SESSION_RESPONSE
            | ServiceId::OPEN_SECURE_CHANNEL_REQUEST
            | ServiceId::OPEN_SECURE_CHANNEL_RESPONSE
    )
}

/// What the flow knows of its secure channel.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Channel {
    /// No OpenSecureChannel seen (picked up mid-stream): bodies are decoded
    /// only where they parse as plain services.
    #[default]
    Unknown,
    /// Security policy None: everything is in the clear.
    Plain,
    /// Signed and encrypted, or signed: bodies are not decoded.
    Secured,
}

/// State of one flow carrying OPC UA.
#[derive(Debug, Default)]
pub struct OpcUaFlow {
    /// Per direction (0 to the server, 1 to the client): resynchronise on the next chunk header.
    resync: [bool; 2],
    orientation: Orientation,
    binding: FlowBinding,
    channel: Channel,
    /// Per raw direction (as the flow guessed it), messages being assembled.
    assembly: [Assembly; 2],
    /// Request id → the request's service, oldest first.
    pending: VecDeque<(u32, ServiceId)>,
}

fn direction_index(to_server: bool) -> usize {
    usize::from(!to_server)
}

/// Where the sender and receiver of a message sit, once roles are settled.
struct Located {
    ids: FlowIds,
    to_server: bool,
}

impl Located {
    fn sender(&self) -> AssetId {
        if self.to_server {
            self.ids.client
        } else {
            self.ids.server
        }
    }
}

impl OpcUaFlow {
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
        let used = super::frame_stream(
            data,
            &mut resync,
            transport::HEADER_LEN - 1,
            transport::find_chunk,
            transport::frame,
            |event| match event {
                StreamEvent::Pdu(chunk) => self.on_chunk(&chunk, frame, ends, analysis),
                StreamEvent::BadFraming => analysis.stats.malformed.opcua += 1,
                StreamEvent::Skipped(n) => {
                    analysis.stats.reassembly.resync_skipped_bytes += n as u64
                }
            },
        );
        if let Some(flag) = self.resync.get_mut(dir) {
            *flag = resync;
        }
        used
    }

    /// Bytes were lost in one direction: resynchronise, and drop the message being assembled.
    pub fn on_gap(&mut self, to_server: bool, analysis: &mut Analysis) {
        let dir = direction_index(to_server);
        if let Some(flag) = self.resync.get_mut(dir) {
            *flag = true;
        }
        if let Some(assembly) = self.assembly.get_mut(dir) {
            assembly.reset(&mut analysis.message_budget);
        }
    }

    fn on_chunk(
        &mut self,
        chunk: &Chunk<'_>,
        info: &FrameInfo,
        ends: &FlowEnds,
        analysis: &mut Analysis,
    ) {
        let stats = &mut analysis.stats.opcua;
        let message_type = chunk.header.message_type;
        *match message_type {
            MessageType::Hello => &mut stats.hello,
            MessageType::Acknowledge => &mut stats.acknowledge,
            MessageType::Error => &mut stats.error,
            MessageType::ReverseHello => &mut stats.reverse_hello,
            MessageType::Open => &mut stats.open,
            MessageType::Message => &mut stats.message,
            MessageType::Close => &mut stats.close,
        } += 1;
        match message_type {
            // Only a client says Hello; Acknowledge, Error and ReverseHello come from servers.
            MessageType::Hello => self.settle(info, true),
            MessageType::Acknowledge | MessageType::Error | MessageType::ReverseHello => {
                self.settle(info, false)
            }
            MessageType::Open | MessageType::Message | MessageType::Close => {}
        }
        match message_type {
            MessageType::Hello => match transport::parse_hello(chunk.body) {
                Ok(hello) => {
                    let Some(at) = self.locate(info, ends, analysis) else {
                        return;
                    };
                    if let Some(url) = hello.endpoint_url {
                        let server = at.ids.server;
                        with_asset(analysis, server, info.ts, |a| {
                            a.opcua_mut().add_endpoint_url(url)
                        });
                    }
                }
                Err(_) => analysis.stats.malformed.opcua += 1,
            },
            MessageType::Acknowledge => match transport::parse_acknowledge(chunk.body) {
                Ok(_) => {
                    self.locate(info, ends, analysis);
                }
                Err(_) => analysis.stats.malformed.opcua += 1,
            },
            MessageType::Error => match transport::parse_error(chunk.body) {
                Ok(error) => {
                    let Some(at) = self.locate(info, ends, analysis) else {
                        return;
                    };
                    with_edge(analysis, &at, info.ts, |e| {
                        e.count_status(&status_name(error.error))
                    });
                }
                Err(_) => analysis.stats.malformed.opcua += 1,
            },
            MessageType::ReverseHello => match transport::parse_reverse_hello(chunk.body) {
                Ok(hello) => {
                    let Some(at) = self.locate(info, ends, analysis) else {
                        return;
                    };
                    let server = at.ids.server;
                    if let Some(uri) = hello.server_uri {
                        if let Some(asset) = analysis.inventory.asset_mut(server, info.ts) {
                            asset.set_identity(
                                "application_uri",
                                uri,
                                IdentitySource::OpcUaReverseHello,
                            );
                        }
                    }
                    if let Some(url) = hello.endpoint_url {
                        with_asset(analysis, server, info.ts, |a| {
                            a.opcua_mut().add_endpoint_url(url)
                        });
                    }
                }
                Err(_) => analysis.stats.malformed.opcua += 1,
            },
            MessageType::Open => self.on_open(chunk, info, ends, analysis),
            MessageType::Message | MessageType::Close => {
                self.on_symmetric(chunk, info, ends, analysis)
            }
        }
    }

    fn on_open(
        &mut self,
        chunk: &Chunk<'_>,
        info: &FrameInfo,
        ends: &FlowEnds,
        analysis: &mut Analysis,
    ) {
        let Ok(open) = secure::parse_open(chunk.body) else {
            analysis.stats.malformed.opcua += 1;
            return;
        };
        let policy_uri = open.security.security_policy_uri.unwrap_or_default();
        let none = SecurityPolicy::from_uri(policy_uri) == SecurityPolicy::None;
        // With a policy other than None the body is encrypted, unless the
        // sender did not apply its policy: then it parses as a plain
        // OpenSecureChannel (an encrypted body cannot by chance), is decoded,
        // and the channel's messages are tried as plain too.
        let in_clear = none || opens_in_clear(open.rest);
        self.channel = match (none, in_clear) {
            (true, _) => Channel::Plain,
            (false, true) => Channel::Unknown,
            (false, false) => Channel::Secured,
        };
        if in_clear {
            // The service says who sent it: decode first, so the roles are settled.
            match secure::split_sequence(open.rest) {
                Ok((sequence, body)) => {
                    self.on_message(body, sequence.request_id, true, info, ends, analysis)
                }
                Err(_) => analysis.stats.malformed.opcua += 1,
            }
        } else {
            analysis.stats.opcua.encrypted_chunks += 1;
        }
        let Some(at) = self.locate(info, ends, analysis) else {
            return;
        };
        if !none && in_clear {
            if let Some(edge) = at
                .ids
                .edge
                .and_then(|e| analysis.inventory.edge_mut(e, info.ts))
            {
                edge.count_anomaly("secured_policy_sent_in_clear");
            }
        }
        with_edge(analysis, &at, info.ts, |e| {
            if !in_clear {
                e.encrypted_chunks += 1;
            }
            e.add_policy(policy_uri)
        });
        if let Some(der) = open.security.sender_certificate.filter(|c| !c.is_empty()) {
            with_asset(analysis, at.sender(), info.ts, |a| {
                a.opcua_mut().add_certificate(der, "open_secure_channel")
            });
        }
    }

    fn on_symmetric(
        &mut self,
        chunk: &Chunk<'_>,
        info: &FrameInfo,
        ends: &FlowEnds,
        analysis: &mut Analysis,
    ) {
        let Ok(symmetric) = secure::parse_symmetric(chunk.body) else {
            analysis.stats.malformed.opcua += 1;
            return;
        };
        if self.channel == Channel::Secured {
            analysis.stats.opcua.encrypted_chunks += 1;
            if let Some(at) = self.locate(info, ends, analysis) {
                with_edge(analysis, &at, info.ts, |e| {
                    e.encrypted_chunks += 1;
                    true
                });
            }
            return;
        }
        let Ok((sequence, body)) = secure::split_sequence(symmetric.rest) else {
            analysis.stats.malformed.opcua += 1;
            return;
        };
        let dir = direction_index(info.to_server);
        let request_id = sequence.request_id;
        let Some(assembly) = self.assembly.get_mut(dir) else {
            return;
        };
        let budget = &mut analysis.message_budget;
        let continues = assembly.request_id() == Some(request_id);
        match chunk.header.chunk_type {
            ChunkType::Abort => {
                analysis.stats.opcua.aborted_chunks += 1;
                assembly.reset(budget);
            }
            ChunkType::Intermediate if continues => {
                if let Assembly::Collecting { body: joined, .. } = assembly {
                    if joined.len() + body.len() <= MAX_MESSAGE && budget.take(body.len()) {
                        joined.extend_from_slice(body);
                    } else {
                        analysis.stats.shed.opcua_messages += 1;
                        assembly.reset(budget);
                        *assembly = Assembly::Skipping { request_id };
                    }
                }
            }
            ChunkType::Intermediate => {
                // A new message (whatever was in progress lost its final chunk).
                assembly.reset(budget);
                let whole = service::split_service(body)
                    .ok()
                    .and_then(|s| s.service_id())
                    .is_some_and(decoded_in_full);
                if whole && body.len() <= MAX_MESSAGE && budget.take(body.len()) {
                    *assembly = Assembly::Collecting {
                        request_id,
                        body: body.to_vec(),
                    };
                } else {
                    if whole {
                        analysis.stats.shed.opcua_messages += 1;
                    }
                    *assembly = Assembly::Skipping { request_id };
                    self.on_message(body, request_id, false, info, ends, analysis);
                }
            }
            ChunkType::Final if continues => {
                let done = std::mem::take(assembly);
                if let Assembly::Collecting {
                    body: mut joined, ..
                } = done
                {
                    budget.release(joined.len());
                    if joined.len() + body.len() <= MAX_MESSAGE {
                        joined.extend_from_slice(body);
                        self.on_message(&joined, request_id, true, info, ends, analysis);
                    } else {
                        analysis.stats.shed.opcua_messages += 1;
                    }
                }
            }
            ChunkType::Final => {
                assembly.reset(budget);
                self.on_message(body, request_id, true, info, ends, analysis);
            }
        }
    }

    /// The flow ended: give back what its assemblies held.
    pub fn on_close(&mut self, analysis: &mut Analysis) {
        for assembly in &mut self.assembly {
            assembly.reset(&mut analysis.message_budget);
        }
    }

    /// One service message (the body after the sequence header): whole, or
    /// only its first chunk (`complete` false), of which the header is read.
    fn on_message(
        &mut self,
        message: &[u8],
        request_id: u32,
        complete: bool,
        info: &FrameInfo,
        ends: &FlowEnds,
        analysis: &mut Analysis,
    ) {
        let plain = self.channel == Channel::Plain;
        let Ok(split) = service::split_service(message) else {
            if plain {
                analysis.stats.malformed.opcua += 1;
            }
            return;
        };
        let Some(id) = split.service_id().filter(|id| id.name().is_some()) else {
            // Mid-stream, an encrypted body rarely starts with a service id; when it
            // does not, the channel was secured.
            if plain {
                analysis.stats.malformed.opcua += 1;
            }
            return;
        };
        let is_request = id.is_request();
        if is_request || id.is_response() || id == ServiceId::SERVICE_FAULT {
            self.settle(info, is_request);
        }
        let decoded = if complete {
            service::decode(&split)
        } else {
            decode_header(id, split.body)
        };
        if decoded.is_err() && !plain {
            // Not a service after all: an encrypted body that happened to start like one.
            return;
        }
        if self.channel == Channel::Unknown {
            self.channel = Channel::Plain;
        }
        let Some(at) = self.locate(info, ends, analysis) else {
            return;
        };
        analysis.stats.pdus.opcua += 1;
        let Ok(decoded) = decoded else {
            analysis.stats.malformed.opcua += 1;
            return;
        };
        if is_request {
            self.on_request(id, request_id, &decoded, &at, info.ts, analysis);
        } else {
            self.on_response(id, request_id, &decoded, &at, info.ts, analysis);
        }
    }

    fn on_request(
        &mut self,
        id: ServiceId,
        request_id: u32,
        decoded: &Service<'_>,
        at: &Located,
        ts: u64,
        analysis: &mut Analysis,
    ) {
        analysis.stats.opcua.requests += 1;
        if self.pending.len() >= analysis.limits.max_pending_transactions.max(1) {
            self.pending.pop_front();
            analysis.stats.shed.pending_transactions += 1;
        }
        self.pending.push_back((request_id, id));
        let (client, server) = (at.ids.client, at.ids.server);
        let key = FunctionKey::Code(id.0);
        super::count_request(analysis, &at.ids, Protocol::OpcUa, key, ts, true);
        match decoded {
            Service::OpenSecureChannelRequest(open) => {
                let mode = wire_name(open.security_mode.0, open.security_mode.name());
                with_edge(analysis, at, ts, |e| {
                    OpcUaEdge::add_name(&mut e.security_modes, &mode)
                });
            }
            Service::GetEndpointsRequest(request) => {
                if let Some(url) = request.endpoint_url {
                    with_asset(analysis, server, ts, |a| {
                        a.opcua_mut().add_endpoint_url(url)
                    });
                }
            }
            Service::CreateSessionRequest(request) => {
                describe(
                    analysis,
                    client,
                    ts,
                    &request.client_description,
                    IdentitySource::OpcUaCreateSession,
                );
                if let Some(url) = request.endpoint_url {
                    with_asset(analysis, server, ts, |a| {
                        a.opcua_mut().add_endpoint_url(url)
                    });
                }
                if let Some(der) = request.client_certificate.filter(|c| !c.is_empty()) {
                    with_asset(analysis, client, ts, |a| {
                        a.opcua_mut().add_certificate(der, "create_session")
                    });
                }
            }
            Service::ActivateSessionRequest(request) => {
                self.on_identity(&request.identity, at, ts, analysis)
            }
            _ => {}
        }
    }

    /// Records how a client identified itself: the token type, the user name,
    /// and whether a secret went in the clear. The secret itself is never kept.
    fn on_identity(
        &mut self,
        identity: &IdentityToken<'_>,
        at: &Located,
        ts: u64,
        analysis: &mut Analysis,
    ) {
        if let Some(token_type) = identity.token_type() {
            let name = token_type.name().unwrap_or("unknown");
            with_edge(analysis, at, ts, |e| {
                OpcUaEdge::add_name(&mut e.token_types, name)
            });
        }
        match *identity {
            IdentityToken::UserName {
                user_name,
                encryption_algorithm,
                ..
            } => {
                let algorithm = encryption_algorithm.filter(|a| !a.is_empty());
                with_edge(analysis, at, ts, |e| {
                    let kept = user_name.is_none_or(|name| e.add_user_name(name));
                    match algorithm {
                        Some(algorithm) => kept & e.count_encrypted_secret(algorithm),
                        None => {
                            e.cleartext_passwords += 1;
                            kept
                        }
                    }
                });
            }
            IdentityToken::Issued {
                encryption_algorithm: Some(algorithm),
                ..
            } if !algorithm.is_empty() => {
                with_edge(analysis, at, ts, |e| e.count_encrypted_secret(algorithm));
            }
            IdentityToken::X509 {
                certificate: Some(der),
                ..
            } if !der.is_empty() => {
                let client = at.ids.client;
                with_asset(analysis, client, ts, |a| {
                    a.opcua_mut().add_certificate(der, "identity_token")
                });
            }
            _ => {}
        }
    }

    fn on_response(
        &mut self,
        id: ServiceId,
        request_id: u32,
        decoded: &Service<'_>,
        at: &Located,
        ts: u64,
        analysis: &mut Analysis,
    ) {
        analysis.stats.opcua.responses += 1;
        let paired = self
            .pending
            .iter()
            .position(|&(pending, _)| pending == request_id)
            .and_then(|at| self.pending.remove(at))
            .map(|(_, request)| request);
        let request = paired.or_else(|| request_of(id));
        if paired.is_none() {
            analysis.stats.opcua.unpaired_responses += 1;
        }
        let result = response_result(decoded);
        let fault = id == ServiceId::SERVICE_FAULT || result.is_some_and(StatusCode::is_bad);
        if fault {
            analysis.stats.opcua.faults += 1;
            let name = result.map_or_else(|| "ServiceFault".to_owned(), status_name);
            with_edge(analysis, at, ts, |e| e.count_status(&name));
        }
        if let Some(request) = request {
            if let Some(edge) = at.ids.edge.and_then(|e| analysis.inventory.edge_mut(e, ts)) {
                let counters = edge.function(FunctionKey::Code(request.0));
                if fault {
                    counters.exceptions += 1;
                } else {
                    counters.responses += 1;
                }
            }
        }
        let server = at.ids.server;
        match decoded {
            Service::GetEndpointsResponse(response) => {
                for endpoint in &response.endpoints {
                    let source = IdentitySource::OpcUaGetEndpoints;
                    offer(analysis, server, ts, endpoint, "get_endpoints", source);
                }
            }
            Service::CreateSessionResponse(response) => {
                for endpoint in &response.server_endpoints {
                    let source = IdentitySource::OpcUaCreateSession;
                    offer(analysis, server, ts, endpoint, "create_session", source);
                }
                if let Some(der) = response.server_certificate.filter(|c| !c.is_empty()) {
                    with_asset(analysis, server, ts, |a| {
                        a.opcua_mut().add_certificate(der, "create_session")
                    });
                }
            }
            Service::FindServersResponse(response) => {
                for found in &response.servers {
                    if let Some(uri) = found.application_uri {
                        with_asset(analysis, server, ts, |a| {
                            a.opcua_mut().add_discovered_server(uri)
                        });
                    }
                }
            }
            Service::ActivateSessionResponse(_) if !fault => {
                with_edge(analysis, at, ts, |e| {
                    e.sessions_activated += 1;
                    true
                });
            }
            _ => {}
        }
    }

    /// The sender of a message whose layout says whether it is the client.
    fn settle(&mut self, info: &FrameInfo, sender_is_client: bool) {
        if self.orientation.settle(info.to_server, sender_is_client) {
            self.binding.reset();
        }
    }

    /// The flow's assets and edge with roles as settled, and the message's direction.
    fn locate(
        &mut self,
        info: &FrameInfo,
        ends: &FlowEnds,
        analysis: &mut Analysis,
    ) -> Option<Located> {
        let ends = self.orientation.ends(ends);
        let to_server = self.orientation.to_server(info.to_server);
        let ids = self.binding.get(
            &ends,
            (Role::OpcUaClient, Role::OpcUaServer),
            Protocol::OpcUa,
            info.ts,
            analysis,
        )?;
        let sender = if to_server { ids.client } else { ids.server };
        if let Some(asset) = analysis.inventory.asset_mut(sender, info.ts) {
            asset.saw_frame(info.src_mac, info.vlan);
        }
        Some(Located { ids, to_server })
    }
}

/// Whether the rest of an OpenSecureChannel chunk (sequence header and body)
/// is a plain OpenSecureChannel request or response.
fn opens_in_clear(rest: &[u8]) -> bool {
    let Ok((_, body)) = secure::split_sequence(rest) else {
        return false;
    };
    let Ok(message) = service::split_service(body) else {
        return false;
    };
    matches!(
        message.service_id(),
        Some(ServiceId::OPEN_SECURE_CHANNEL_REQUEST | ServiceId::OPEN_SECURE_CHANNEL_RESPONSE)
    ) && service::decode(&message).is_ok()
}

/// The request a response answers, from its encoding id alone (when the request was not seen).
fn request_of(response: ServiceId) -> Option<ServiceId> {
    ServiceId::ALL
        .iter()
        .copied()
        .find(|request| request.response() == Some(response))
}

/// The header of a service message whose body is cut (its first chunk).
fn decode_header(id: ServiceId, body: &[u8]) -> Result<Service<'_>, faro_protocols::Error> {
    let mut reader = Reader::new(body, Layer::OpcUaService);
    if id.is_request() {
        let header = encoding::read_request_header(&mut reader)?;
        Ok(Service::OtherRequest { id, header })
    } else if id == ServiceId::SERVICE_FAULT {
        Ok(Service::ServiceFault(encoding::read_response_header(
            &mut reader,
        )?))
    } else {
        let header = encoding::read_response_header(&mut reader)?;
        Ok(Service::OtherResponse { id, header })
    }
}

/// The service result of a decoded response.
fn response_result(decoded: &Service<'_>) -> Option<StatusCode> {
    let header = match decoded {
        Service::OpenSecureChannelResponse(r) => &r.header,
        Service::GetEndpointsResponse(r) => &r.header,
        Service::FindServersResponse(r) => &r.header,
        Service::CreateSessionResponse(r) => &r.header,
        Service::ActivateSessionResponse(r) => &r.header,
        Service::ServiceFault(header) => header,
        Service::OtherResponse { header, .. } => header,
        _ => return None,
    };
    Some(header.service_result)
}

fn status_name(status: StatusCode) -> String {
    status.to_string()
}

/// The name of an enumerated value, or its number when the specification names none.
fn wire_name(value: u32, name: Option<&'static str>) -> String {
    name.map_or_else(|| value.to_string(), str::to_owned)
}

/// Records an application description as the asset's identity.
fn describe(
    analysis: &mut Analysis,
    asset: AssetId,
    ts: u64,
    description: &service::ApplicationDescription<'_>,
    source: IdentitySource,
) {
    let Some(asset) = analysis.inventory.asset_mut(asset, ts) else {
        return;
    };
    for (name, value) in [
        ("application_uri", description.application_uri),
        ("product_uri", description.product_uri),
        ("application_name", description.application_name.text),
    ] {
        if let Some(value) = value {
            asset.set_identity(name, value, source);
        }
    }
    if let Some(kind) = description.application_type.name() {
        asset.set_identity("application_type", kind.as_bytes(), source);
    }
}

/// Records an endpoint a server offers, its application description and certificate.
fn offer(
    analysis: &mut Analysis,
    server: AssetId,
    ts: u64,
    endpoint: &service::EndpointDescription<'_>,
    seen_in: &'static str,
    source: IdentitySource,
) {
    describe(analysis, server, ts, &endpoint.server, source);
    let text = |value: Option<&[u8]>| {
        value
            .and_then(device_text)
            .map(|t| t.into_owned())
            .unwrap_or_default()
    };
    let mut user_tokens: Vec<UserToken> = endpoint
        .user_identity_tokens
        .iter()
        .map(|t| UserToken {
            token_type: wire_name(t.token_type.0, t.token_type.name()),
            security_policy: t
                .security_policy_uri
                .and_then(device_text)
                .map(|t| t.into_owned()),
        })
        .collect();
    user_tokens.sort();
    user_tokens.dedup();
    let offered = OfferedEndpoint {
        url: text(endpoint.endpoint_url),
        security_mode: wire_name(endpoint.security_mode.0, endpoint.security_mode.name()),
        security_policy: text(endpoint.security_policy_uri),
        user_tokens,
        security_level: endpoint.security_level,
    };
    let certificate = endpoint.server_certificate.filter(|c| !c.is_empty());
    with_asset(analysis, server, ts, |a| {
        let opcua = a.opcua_mut();
        let kept = opcua.add_endpoint(offered);
        kept & certificate.is_none_or(|der| opcua.add_certificate(der, seen_in))
    });
}

/// Runs `update` on an asset; counts a shed value when it returns false.
fn with_asset(
    analysis: &mut Analysis,
    asset: AssetId,
    ts: u64,
    update: impl FnOnce(&mut crate::inventory::Asset) -> bool,
) {
    if let Some(asset) = analysis.inventory.asset_mut(asset, ts) {
        if !update(asset) {
            analysis.stats.shed.opcua_values += 1;
        }
    }
}

/// Runs `update` on the flow's edge; counts a shed value when it returns false.
fn with_edge(
    analysis: &mut Analysis,
    at: &Located,
    ts: u64,
    update: impl FnOnce(&mut OpcUaEdge) -> bool,
) {
    if let Some(edge) = at.ids.edge.and_then(|e| analysis.inventory.edge_mut(e, ts)) {
        if !update(edge.opcua_mut()) {
            analysis.stats.shed.opcua_values += 1;
        }
    }
}
