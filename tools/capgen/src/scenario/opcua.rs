//! `opcua`: fifteen seconds of a plant's OPC UA traffic, with exact truth.
//!
//! - Server A `10.20.1.10:4840` (`urn:faro:plant:line1-server`, certificate
//!   `certs/server.der`) offers three endpoints on `opc.tcp://10.20.1.10:4840`: None/None
//!   (anonymous, user name), Basic256Sha256/SignAndEncrypt (user name, certificate) and
//!   Basic128Rsa15/Sign (anonymous).
//! - The HMI `10.20.2.20` asks server A for its endpoints on one connection (HEL, ACK, OPN
//!   None, GetEndpoints, CLO), then opens a session on a second (CreateSession without a
//!   certificate, ActivateSession anonymous) and polls: Reads every half second, one Browse,
//!   a subscription and its Publishes, a Write refused by a ServiceFault (BadUserAccessDenied),
//!   a Write accepted, a Call, and a Read of a trend buffer whose response takes three chunks
//!   (the HMI's receive buffer is 8 KiB); then CloseSession and CLO.
//! - The engineering station `10.20.2.30` finds servers, opens a session with a weak, expired
//!   certificate (`certs/legacy-client.der`: RSA-1024, SHA-1) and activates it with a user name
//!   and a password sent in clear (no encryption algorithm) on a None channel, adds and deletes
//!   nodes and updates history.
//! - The gateway `10.20.2.40` opens a Basic256Sha256 channel: its OPN sends the chain
//!   `certs/client.der` + `certs/ca.der` and the SHA-1 thumbprint of server A's certificate;
//!   everything after the security headers is ciphertext.
//! - The legacy SCADA `10.20.2.41` opens a Basic128Rsa15 channel to server A (whose only
//!   endpoint with that policy is Sign) the same way: the same chain, the thumbprint of server
//!   A's certificate, the rest of the OPNs and three MSG chunks each way opaque, then CLO. Its
//!   edge has the policy and the mode `sign`, and no request, response, fault or token.
//! - Server B `10.20.1.11:48010` (`urn:faro:plant:historian`, a certificate not valid before
//!   2030 (`certs/historian.der`), one None
//!   endpoint) is asked for endpoints and read by the HMI, and read by `10.20.2.21` on a
//!   connection open before the capture started (no handshake, no HEL, no OPN).
//! - `10.20.2.50` says HEL with an endpoint URL server A does not serve and
//!   gets ERR BadTcpEndpointUrlInvalid; server A closes the connection.
//!
//! The truth (`--truth`) is written by [`crate::truth::OpcUaTruth::to_json`]:
//! `message_types` (every chunk: a message in three chunks counts three), per edge the
//! requests, responses (Good or Uncertain) and faults (ServiceFault or Bad) by request
//! encoding id (OPN 446 and CLO 452 included, when readable: the encrypted channel's are
//! not), the OPNs' policies, the modes (of None OPN requests; of the server endpoint for an
//! encrypted channel's policy), the ActivateSession token types and the user names sent with
//! a cleartext password; the servers (application description, endpoints, certificates) and
//! the clients (CreateSession's application description, certificates of CreateSession and of
//! OPN chains), certificates as SHA-256 lowercase hex.

use std::net::{IpAddr, Ipv4Addr};

use anyhow::{Context, Result};

use crate::capture::{MILLISECOND, PacketSink, SECOND, Wire};
use crate::link::Host;
use crate::opcua::{
    Application, CA_CERTIFICATE, CLIENT_CERTIFICATE, Endpoint, Identity, MessageType, Mode, Node,
    POLICY_BASIC128RSA15, POLICY_BASIC256SHA256, POLICY_NONE, PORT, Symmetric, TokenType, Value,
    body, id, status,
};
use crate::rng::Rng;
use crate::session::{OpcUaSession, SecureChannel};
use crate::tcp::{End, Side, TcpFlow};
use crate::truth::Truth;

/// Server B's port.
pub(crate) const HISTORIAN_PORT: u16 = 48_010;
/// Windows clients start IP TTL at 128.
const WINDOWS_TTL: u8 = 128;

/// Test-only certificates made by `tools/capgen/certs/make.sh`.
pub(crate) const SERVER_CERTIFICATE: &[u8] = include_bytes!("../../certs/server.der");
pub(crate) const LEGACY_CERTIFICATE: &[u8] = include_bytes!("../../certs/legacy-client.der");
/// The historian's certificate is not valid before 2030: a wrong clock or issuance.
pub(crate) const HISTORIAN_CERTIFICATE: &[u8] = include_bytes!("../../certs/historian.der");

const fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

const SERVER_A: Host = Host::new([0x00, 0x1B, 0x1B, 0x20, 0x01, 0x10], v4(10, 20, 1, 10));
const SERVER_B: Host = Host::new([0x00, 0x1B, 0x1B, 0x20, 0x01, 0x11], v4(10, 20, 1, 11));
const HMI: Host = Host::new([0x00, 0x15, 0x5D, 0x20, 0x02, 0x20], v4(10, 20, 2, 20));
const HMI_2: Host = Host::new([0x00, 0x15, 0x5D, 0x20, 0x02, 0x21], v4(10, 20, 2, 21));
const ENGINEERING: Host = Host::new([0x3C, 0x52, 0x82, 0x20, 0x02, 0x30], v4(10, 20, 2, 30));
const GATEWAY: Host = Host::new([0x00, 0x0E, 0x8C, 0x20, 0x02, 0x40], v4(10, 20, 2, 40));
const LEGACY_SCADA: Host = Host::new([0x00, 0x0E, 0x8C, 0x20, 0x02, 0x41], v4(10, 20, 2, 41));
const STRAY: Host = Host::new([0x3C, 0x52, 0x82, 0x20, 0x02, 0x50], v4(10, 20, 2, 50));

const URL_A: &str = "opc.tcp://10.20.1.10:4840";
const URL_B: &str = "opc.tcp://10.20.1.11:48010";
const BAD_URL: &str = "opc.tcp://10.20.1.10:4840/UA/Line2";

const SERVER_A_APP: Application<'static> = Application {
    uri: "urn:faro:plant:line1-server",
    product_uri: "urn:faro:products:ua-server",
    name: "Line 1 OPC UA Server",
    kind: 0,
    discovery_urls: &[URL_A],
};

const SERVER_B_APP: Application<'static> = Application {
    uri: "urn:faro:plant:historian",
    product_uri: "urn:faro:products:historian",
    name: "Plant Historian",
    kind: 0,
    discovery_urls: &[URL_B],
};

const HMI_APP: Application<'static> = Application {
    uri: "urn:faro:plant:hmi",
    product_uri: "urn:faro:products:hmi",
    name: "HMI 1",
    kind: 1,
    discovery_urls: &[],
};

const ENGINEERING_APP: Application<'static> = Application {
    uri: "urn:faro:plant:engineering",
    product_uri: "urn:faro:products:engineering",
    name: "Engineering Station",
    kind: 1,
    discovery_urls: &[],
};

const ENDPOINTS_A: [Endpoint<'static>; 3] = [
    Endpoint {
        url: URL_A,
        server: SERVER_A_APP,
        certificate: Some(SERVER_CERTIFICATE),
        mode: Mode::None,
        policy: POLICY_NONE,
        tokens: &[TokenType::Anonymous, TokenType::UserName],
        security_level: 0,
    },
    Endpoint {
        url: URL_A,
        server: SERVER_A_APP,
        certificate: Some(SERVER_CERTIFICATE),
        mode: Mode::SignAndEncrypt,
        policy: POLICY_BASIC256SHA256,
        tokens: &[TokenType::UserName, TokenType::Certificate],
        security_level: 3,
    },
    Endpoint {
        url: URL_A,
        server: SERVER_A_APP,
        certificate: Some(SERVER_CERTIFICATE),
        mode: Mode::Sign,
        policy: POLICY_BASIC128RSA15,
        tokens: &[TokenType::Anonymous],
        security_level: 1,
    },
];

const ENDPOINTS_B: [Endpoint<'static>; 1] = [Endpoint {
    url: URL_B,
    server: SERVER_B_APP,
    certificate: Some(HISTORIAN_CERTIFICATE),
    mode: Mode::None,
    policy: POLICY_NONE,
    tokens: &[TokenType::Anonymous],
    security_level: 0,
}];

/// The HMI's polled tags on server A and what they read.
const LINE1_TAGS: [Node<'static>; 4] = [
    Node::String(2, "Line1.Temperature"),
    Node::String(2, "Line1.Pressure"),
    Node::String(2, "Line1.Speed"),
    Node::String(2, "Line1.Running"),
];
const SETPOINT: Node<'static> = Node::String(2, "Line1.Setpoint");
const TREND: Node<'static> = Node::String(2, "Line1.Temperature.Trend");
/// Samples in the trend buffer: 2 400 doubles, about 19 KiB, three 8 KiB chunks.
const TREND_SAMPLES: usize = 2_400;
/// The historian's tags.
const HISTORIAN_TAGS: [Node<'static>; 2] = [
    Node::String(3, "Historian.Status"),
    Node::String(3, "Historian.Records"),
];

/// What a server sends about itself in CreateSession.
struct ServerSide<'a> {
    host: Host,
    port: u16,
    application: Application<'a>,
    certificate: Option<&'a [u8]>,
    endpoints: &'a [Endpoint<'a>],
}

const A: ServerSide<'static> = ServerSide {
    host: SERVER_A,
    port: PORT,
    application: SERVER_A_APP,
    certificate: Some(SERVER_CERTIFICATE),
    endpoints: &ENDPOINTS_A,
};

const B: ServerSide<'static> = ServerSide {
    host: SERVER_B,
    port: HISTORIAN_PORT,
    application: SERVER_B_APP,
    certificate: Some(HISTORIAN_CERTIFICATE),
    endpoints: &ENDPOINTS_B,
};

/// The plant's output and its randomness.
struct Plant<'w, S> {
    wire: &'w mut Wire<S>,
    truth: &'w mut Truth,
    rng: Rng,
    /// Next secure channel id each server hands out.
    next_channel: u32,
}

impl<S: PacketSink> Plant<'_, S> {
    /// A server's answer time.
    fn latency(&mut self) -> u64 {
        self.rng.range(800, 3_000)
    }

    /// A client's pause between two requests of a sequence.
    fn think(&mut self) -> u64 {
        self.rng.range(2, 12) * MILLISECOND
    }

    fn random_bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut bytes = [0; N];
        self.rng.fill(&mut bytes);
        bytes
    }

    /// A new connection, its handshake at `at`; returns the session and when it is done.
    fn connect(
        &mut self,
        client: Host,
        client_port: u16,
        server: &ServerSide<'_>,
        at: u64,
    ) -> Result<(OpcUaSession, u64)> {
        let flow = TcpFlow::new(
            End::new(client, client_port, &mut self.rng).with_ttl(WINDOWS_TTL),
            End::new(server.host, server.port, &mut self.rng),
        );
        let mut session = OpcUaSession::new(flow);
        let rtt = self.rng.range(200, 600);
        let at = session.flow.handshake(self.wire, at, rtt)?;
        Ok((session, at))
    }

    /// One request and its answer; returns when the answer was sent.
    fn exchange(
        &mut self,
        session: &mut OpcUaSession,
        at: u64,
        service: u32,
        request: impl FnOnce(&mut Vec<u8>),
        service_result: u32,
        response: impl FnOnce(&mut Vec<u8>),
    ) -> Result<u64> {
        let sent = session.request(self.wire, at, service, request)?;
        let at = sent + self.latency();
        session.respond(self.wire, at, service_result, response)
    }

    /// HEL, ACK, then a None channel (OPN request and response).
    fn greet(
        &mut self,
        session: &mut OpcUaSession,
        at: u64,
        url: &str,
        receive_buffer: u32,
    ) -> Result<u64> {
        let at = session.hello(self.wire, at + 1_000, url, receive_buffer)?;
        let at = at + self.latency();
        let at = session.acknowledge(self.wire, at, 65_535)?;
        let at = at + self.latency();
        let at = session.open_request(self.wire, at, Mode::None)?;
        let at = at + self.latency();
        let channel = self.next_channel;
        self.next_channel += 1;
        session.open_response(self.wire, at, channel, 1)
    }

    fn get_endpoints(
        &mut self,
        session: &mut OpcUaSession,
        at: u64,
        server: &ServerSide<'_>,
    ) -> Result<u64> {
        let url = server.endpoints.first().map_or(URL_A, |e| e.url);
        let at = self.exchange(
            session,
            at,
            id::GET_ENDPOINTS_REQUEST,
            |out| body::get_endpoints_request(out, url),
            status::GOOD,
            |out| body::endpoints(out, server.endpoints),
        )?;
        self.truth
            .opcua
            .add_endpoints(server.host.ip, server.port, server.endpoints)?;
        Ok(at)
    }

    /// CreateSession and ActivateSession; returns when the session is active.
    fn open_session(
        &mut self,
        session: &mut OpcUaSession,
        at: u64,
        server: &ServerSide<'_>,
        client: (Application<'_>, Option<&[u8]>),
        identity: &Identity<'_>,
    ) -> Result<u64> {
        let (application, client_certificate) = client;
        let client_nonce: [u8; 32] = self.random_bytes();
        let server_nonce: [u8; 32] = self.random_bytes();
        let token: [u8; 16] = self.random_bytes();
        let session_id = Node::Numeric(1, self.rng.range(100_000, 999_999) as u32);
        let url = server.endpoints.first().map_or(URL_A, |e| e.url);
        let request = body::CreateSession {
            client: application,
            server_uri: server.application.uri,
            endpoint_url: url,
            session_name: application.name,
            nonce: Some(&client_nonce),
            certificate: client_certificate,
        };
        let at = self.exchange(
            session,
            at,
            id::CREATE_SESSION_REQUEST,
            |out| body::create_session_request(out, &request),
            status::GOOD,
            |out| {
                body::create_session_response(
                    out,
                    session_id,
                    Node::Opaque(0, &token),
                    &server_nonce,
                    server.certificate,
                    server.endpoints,
                );
            },
        )?;
        let client_ip = session.flow.client.host.ip;
        let opcua = &mut self.truth.opcua;
        opcua.add_client(client_ip, &application);
        if let Some(der) = client_certificate {
            opcua.add_client_certificates(client_ip, &[der])?;
        }
        if let Some(der) = server.certificate {
            opcua.add_server_certificate(server.host.ip, server.port, der)?;
        }
        opcua.add_endpoints(server.host.ip, server.port, server.endpoints)?;
        session.set_authentication_token(&token);
        let at = at + self.think();
        let sent = session.activate_session(self.wire, at, identity)?;
        let at = sent + self.latency();
        let nonce: [u8; 32] = self.random_bytes();
        session.respond(self.wire, at, status::GOOD, |out| {
            body::activate_session_response(out, &nonce);
        })
    }

    /// CloseSession, CLO, and the client closes the connection.
    fn close(&mut self, mut session: OpcUaSession, at: u64, close_session: bool) -> Result<u64> {
        let mut at = at;
        if close_session {
            at = self.exchange(
                &mut session,
                at,
                id::CLOSE_SESSION_REQUEST,
                body::close_session_request,
                status::GOOD,
                |_| {},
            )? + self.think();
        }
        let at = session.close_channel(self.wire, at)?;
        let rtt = self.rng.range(200, 600);
        let at = session.flow.close(self.wire, at + 500, Side::Client, rtt)?;
        self.truth.opcua.add_session(&session);
        Ok(at)
    }

    /// A Read of `tags` answered with `values`.
    fn read(
        &mut self,
        session: &mut OpcUaSession,
        at: u64,
        tags: &[Node<'_>],
        values: &[Value<'_>],
    ) -> Result<u64> {
        let answered_at = at;
        self.exchange(
            session,
            at,
            id::READ_REQUEST,
            |out| body::read_request(out, tags),
            status::GOOD,
            |out| body::read_response(out, values, answered_at),
        )
    }

    /// The HMI's first connection: endpoints only.
    fn hmi_discovery(&mut self, at: u64) -> Result<u64> {
        let (mut session, at) = self.connect(HMI, 50_100, &A, at)?;
        let at = self.greet(&mut session, at, URL_A, 8_192)?;
        let at = at + self.think();
        let at = self.get_endpoints(&mut session, at, &A)?;
        let at = at + self.think();
        self.close(session, at, false)
    }

    /// The HMI's session on server A.
    fn hmi_polling(&mut self, at: u64) -> Result<()> {
        let (mut session, at) = self.connect(HMI, 50_101, &A, at)?;
        let at = self.greet(&mut session, at, URL_A, 8_192)?;
        let at = at + self.think();
        let at = self.open_session(&mut session, at, &A, (HMI_APP, None), &Identity::Anonymous)?;
        let mut next = at + 100 * MILLISECOND;
        let mut subscription = None;
        let mut published = 0u32;
        let mut temperature = 71.5;
        for poll in 0..22u32 {
            let at = next + self.rng.below(5 * MILLISECOND);
            next += 500 * MILLISECOND;
            temperature += (self.rng.below(11) as f64 - 5.0) / 10.0;
            let pressure = 2.0 + self.rng.below(50) as f64 / 100.0;
            let values = [
                Value::Double(temperature),
                Value::Double(pressure),
                Value::Float(1_450.0),
                Value::Boolean(true),
            ];
            let mut at = self.read(&mut session, at, &LINE1_TAGS, &values)? + self.think();
            match poll {
                2 => {
                    let children: Vec<(&str, Node<'_>)> = LINE1_TAGS
                        .iter()
                        .map(|tag| match tag {
                            Node::String(_, name) => (name.trim_start_matches("Line1."), *tag),
                            _ => ("", *tag),
                        })
                        .collect();
                    self.exchange(
                        &mut session,
                        at,
                        id::BROWSE_REQUEST,
                        |out| body::browse_request(out, Node::String(2, "Line1")),
                        status::GOOD,
                        |out| body::browse_response(out, &children),
                    )?;
                }
                4 => {
                    let id = 1_000 + self.rng.below(1_000) as u32;
                    subscription = Some(id);
                    self.exchange(
                        &mut session,
                        at,
                        id::CREATE_SUBSCRIPTION_REQUEST,
                        |out| body::create_subscription_request(out, 1_000.0),
                        status::GOOD,
                        |out| body::create_subscription_response(out, id, 1_000.0),
                    )?;
                }
                6 | 9 | 13 | 17 => {
                    let id = subscription.context("Publish before CreateSubscription")?;
                    let acknowledged: Vec<u32> =
                        (published > 0).then_some(published).into_iter().collect();
                    published += 1;
                    let sent = session.request(self.wire, at, id::PUBLISH_REQUEST, |out| {
                        body::publish_request(out, id, &acknowledged);
                    })?;
                    // The server holds the Publish until the next data change.
                    at = sent + self.rng.range(100, 300) * MILLISECOND;
                    let changes = [
                        (1, Value::Double(temperature + 0.25)),
                        (2, Value::Double(pressure)),
                    ];
                    session.respond(self.wire, at, status::GOOD, |out| {
                        body::publish_response(out, id, published, &changes, at);
                    })?;
                }
                10 | 12 => {
                    let result = if poll == 10 {
                        status::BAD_USER_ACCESS_DENIED
                    } else {
                        status::GOOD
                    };
                    self.exchange(
                        &mut session,
                        at,
                        id::WRITE_REQUEST,
                        |out| body::write_request(out, SETPOINT, &Value::Double(75.0), at),
                        result,
                        |out| body::status_results(out, &[status::GOOD]),
                    )?;
                }
                15 => {
                    self.exchange(
                        &mut session,
                        at,
                        id::CALL_REQUEST,
                        |out| {
                            body::call_request(
                                out,
                                Node::String(2, "Line1"),
                                Node::String(2, "Line1.ResetCounters"),
                                &[Value::UInt32(1)],
                            );
                        },
                        status::GOOD,
                        |out| {
                            body::call_response(
                                out,
                                &[Value::Int32(0), Value::String("counters reset")],
                            )
                        },
                    )?;
                }
                18 => {
                    let trend: Vec<f64> = (0..TREND_SAMPLES)
                        .map(|i| temperature + ((i % 60) as f64 - 30.0) / 20.0)
                        .collect();
                    let answered =
                        self.read(&mut session, at, &[TREND], &[Value::DoubleArray(&trend)])?;
                    session.flow.ack(self.wire, answered + 150, Side::Client)?;
                }
                _ => {}
            }
        }
        self.close(session, next, true)?;
        Ok(())
    }

    /// The engineering station: discovery, a weak certificate, a cleartext password, and
    /// address space and history changes.
    fn engineering(&mut self, at: u64) -> Result<()> {
        let (mut session, at) = self.connect(ENGINEERING, 51_230, &A, at)?;
        let at = self.greet(&mut session, at, URL_A, 65_535)?;
        let at = at + self.think();
        let at = self.exchange(
            &mut session,
            at,
            id::FIND_SERVERS_REQUEST,
            |out| body::find_servers_request(out, URL_A),
            status::GOOD,
            |out| body::find_servers_response(out, &[SERVER_A_APP]),
        )?;
        self.truth
            .opcua
            .add_server(SERVER_A.ip, PORT, &SERVER_A_APP);
        let identity = Identity::UserName {
            user: "engineer",
            password: b"Line1-Maint!2026",
            encryption: None,
        };
        let at = at + self.think();
        let at = self.open_session(
            &mut session,
            at,
            &A,
            (ENGINEERING_APP, Some(LEGACY_CERTIFICATE)),
            &identity,
        )?;
        let maintenance = Node::String(2, "Line1.Maintenance");
        let at = self.exchange(
            &mut session,
            at + 2 * SECOND,
            id::ADD_NODES_REQUEST,
            |out| {
                body::add_nodes_request(out, Node::String(2, "Line1"), maintenance, "Maintenance")
            },
            status::GOOD,
            |out| body::add_nodes_response(out, maintenance),
        )?;
        let at = self.exchange(
            &mut session,
            at + SECOND,
            id::DELETE_NODES_REQUEST,
            |out| body::delete_nodes_request(out, Node::String(2, "Line1.OldRecipe")),
            status::GOOD,
            |out| body::status_results(out, &[status::GOOD]),
        )?;
        let corrected = [
            Value::Double(70.5),
            Value::Double(70.75),
            Value::Double(71.0),
        ];
        let at = self.exchange(
            &mut session,
            at + SECOND,
            id::HISTORY_UPDATE_REQUEST,
            |out| body::history_update_request(out, LINE1_TAGS[0], &corrected, at),
            status::GOOD,
            |out| body::history_update_response(out, corrected.len()),
        )?;
        self.close(session, at + SECOND, true)?;
        Ok(())
    }

    /// A client on an encrypted channel to server A with `policy`: HEL and ACK, the OPNs (the
    /// client's chain `certs/client.der` + `certs/ca.der` and the thumbprint of server A's
    /// certificate, server A's certificate and the thumbprint of the client's; the rest
    /// ciphertext), `exchanges` opaque MSG chunks each way, then CLO.
    fn encrypted_client(
        &mut self,
        (client, client_port): (Host, u16),
        policy: &'static str,
        exchanges: usize,
        at: u64,
    ) -> Result<()> {
        let (mut session, at) = self.connect(client, client_port, &A, at)?;
        let at = session.hello(self.wire, at + 1_000, URL_A, 65_535)?;
        let at = at + self.latency();
        let at = session.acknowledge(self.wire, at, 65_535)?;
        let mode = ENDPOINTS_A
            .iter()
            .find(|e| e.policy == policy)
            .map(|e| e.mode)
            .context("server A offers the policy")?;
        let secure = SecureChannel::new(
            policy,
            mode,
            &[CLIENT_CERTIFICATE, CA_CERTIFICATE],
            &[SERVER_CERTIFICATE],
        )?;
        // The signature closing each MSG chunk: HMAC-SHA256, or HMAC-SHA1 for Basic128Rsa15.
        let signature = if policy == POLICY_BASIC128RSA15 {
            20
        } else {
            32
        };
        let at = at + self.think();
        let at =
            session.open_secure(self.wire, at, Side::Client, &secure, 0, 512, &mut self.rng)?;
        let channel = self.next_channel;
        self.next_channel += 1;
        let at = at + 4 * self.latency();
        let at = session.open_secure(
            self.wire,
            at,
            Side::Server,
            &secure,
            channel,
            512,
            &mut self.rng,
        )?;
        self.truth
            .opcua
            .add_client_certificates(client.ip, &[CLIENT_CERTIFICATE, CA_CERTIFICATE])?;
        self.truth
            .opcua
            .add_server_certificate(SERVER_A.ip, PORT, SERVER_CERTIFICATE)?;
        let mut at = at;
        for _ in 0..exchanges {
            at += self.rng.range(500, 1_500) * MILLISECOND;
            let len = 16 * self.rng.range(6, 20) as usize + signature;
            let sent = session.opaque(
                self.wire,
                at,
                Side::Client,
                MessageType::Message,
                len,
                &mut self.rng,
            )?;
            let len = 16 * self.rng.range(8, 60) as usize + signature;
            at = sent + self.latency();
            session.opaque(
                self.wire,
                at,
                Side::Server,
                MessageType::Message,
                len,
                &mut self.rng,
            )?;
        }
        let at = session.opaque(
            self.wire,
            at + SECOND,
            Side::Client,
            MessageType::Close,
            16 * 4 + signature,
            &mut self.rng,
        )?;
        let rtt = self.rng.range(200, 600);
        session.flow.close(self.wire, at + 500, Side::Client, rtt)?;
        self.truth.opcua.add_session(&session);
        Ok(())
    }

    /// The HMI on the historian: endpoints, a session, a few Reads.
    fn historian(&mut self, at: u64) -> Result<()> {
        let (mut session, at) = self.connect(HMI, 50_102, &B, at)?;
        let at = self.greet(&mut session, at, URL_B, 65_535)?;
        let at = at + self.think();
        let at = self.get_endpoints(&mut session, at, &B)?;
        let at = at + self.think();
        let mut at =
            self.open_session(&mut session, at, &B, (HMI_APP, None), &Identity::Anonymous)?;
        let mut records = 184_220;
        for _ in 0..6 {
            at += 2 * SECOND;
            records += self.rng.range(10, 40) as i32;
            let values = [Value::UInt32(0), Value::Int32(records)];
            at = self.read(&mut session, at, &HISTORIAN_TAGS, &values)?;
        }
        self.close(session, at + SECOND, true)?;
        Ok(())
    }

    /// A second HMI reading the historian on a channel open before the capture started.
    fn historian_picked_up(&mut self, at: u64) -> Result<()> {
        let flow = TcpFlow::new(
            End::new(HMI_2, 49_812, &mut self.rng).with_ttl(WINDOWS_TTL),
            End::new(SERVER_B, HISTORIAN_PORT, &mut self.rng),
        );
        let token: [u8; 16] = self.random_bytes();
        let mut session = OpcUaSession::new(flow).open_before(
            Symmetric {
                channel_id: 0x0000_7A31,
                token_id: 4,
            },
            18_400,
            9_200,
            &token,
        );
        let mut at = at;
        let mut records = 184_230;
        for _ in 0..10 {
            records += self.rng.range(1, 8) as i32;
            let values = [Value::UInt32(0), Value::Int32(records)];
            let answered = self.read(&mut session, at, &HISTORIAN_TAGS, &values)?;
            session
                .flow
                .ack(self.wire, answered + 40 * MILLISECOND, Side::Client)?;
            at += SECOND;
        }
        self.truth.opcua.add_session(&session);
        Ok(())
    }

    /// A client with a wrong endpoint URL: HEL, ERR, the server closes.
    fn stray(&mut self, at: u64) -> Result<()> {
        let (mut session, at) = self.connect(STRAY, 53_001, &A, at)?;
        let at = session.hello(self.wire, at + 1_000, BAD_URL, 65_535)?;
        let at = at + self.latency();
        let at = session.error(
            self.wire,
            at,
            status::BAD_TCP_ENDPOINT_URL_INVALID,
            "The endpoint URL opc.tcp://10.20.1.10:4840/UA/Line2 is not served by this server",
        )?;
        let rtt = self.rng.range(200, 600);
        session.flow.close(self.wire, at + 200, Side::Server, rtt)?;
        self.truth.opcua.add_session(&session);
        Ok(())
    }
}

pub(crate) fn generate<S: PacketSink>(
    wire: &mut Wire<S>,
    truth: &mut Truth,
    seed: u64,
) -> Result<()> {
    let mut plant = Plant {
        wire,
        truth,
        rng: Rng::new(seed),
        next_channel: 0x0000_1001,
    };
    plant.historian_picked_up(300 * MILLISECOND)?;
    let discovered = plant.hmi_discovery(200 * MILLISECOND)?;
    plant.hmi_polling(discovered + 100 * MILLISECOND)?;
    plant.historian(SECOND)?;
    plant.encrypted_client((GATEWAY, 52_044), POLICY_BASIC256SHA256, 6, 2 * SECOND)?;
    plant.stray(3 * SECOND)?;
    plant.engineering(4 * SECOND)?;
    plant.encrypted_client((LEGACY_SCADA, 52_310), POLICY_BASIC128RSA15, 3, 5 * SECOND)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use faro_protocols::opcua::certificate;

    use super::*;
    use crate::capture::Collect;
    use crate::link::LinkType;
    use crate::reference::{asymmetric_header, opcua_chunks};

    fn run(seed: u64) -> (Vec<Vec<u8>>, serde_json::Value) {
        let mut wire = Wire::new(LinkType::Ethernet, Collect::default());
        let mut truth = Truth::default();
        generate(&mut wire, &mut truth, seed).unwrap();
        (wire.sink.frames(), truth.to_json())
    }

    #[test]
    fn deterministic_for_a_seed() {
        assert_eq!(run(7), run(7));
    }

    #[test]
    fn truth_counts_what_the_scenario_sends() {
        let (_, truth) = run(crate::DEFAULT_SEED);
        let types = &truth["message_types"];
        assert_eq!(types["HEL"], 7);
        assert_eq!(types["ACK"], 6);
        assert_eq!(types["ERR"], 1);
        let edges = truth["edges"].as_array().unwrap();
        let edge = |client: &str, port: u64| {
            edges
                .iter()
                .find(|e| e["client"] == client && e["server_port"] == port)
                .unwrap()
        };
        let hmi = edge("10.20.2.20", 4840);
        assert_eq!(hmi["requests"]["631"], 23);
        assert_eq!(hmi["responses"]["631"], 23);
        assert_eq!(hmi["faults"], serde_json::json!({"673": 1}));
        assert_eq!(hmi["responses"]["673"], 1);
        assert_eq!(hmi["requests"]["446"], 2);
        assert_eq!(hmi["requests"]["452"], 2);
        assert_eq!(hmi["token_types"], serde_json::json!(["anonymous"]));
        let engineering = edge("10.20.2.30", 4840);
        assert_eq!(engineering["cleartext_passwords"], 1);
        assert_eq!(engineering["token_types"], serde_json::json!(["user_name"]));
        let gateway = edge("10.20.2.40", 4840);
        assert_eq!(gateway["requests"], serde_json::json!({}));
        assert_eq!(gateway["modes"], serde_json::json!(["sign_and_encrypt"]));
        assert_eq!(
            gateway["policies"],
            serde_json::json!([POLICY_BASIC256SHA256])
        );
        let legacy = edge("10.20.2.41", 4840);
        assert_eq!(legacy["server"], "10.20.1.10");
        assert_eq!(
            legacy["policies"],
            serde_json::json!([POLICY_BASIC128RSA15])
        );
        assert_eq!(legacy["modes"], serde_json::json!(["sign"]));
        for counts in ["requests", "responses", "faults"] {
            assert_eq!(legacy[counts], serde_json::json!({}), "{counts}");
        }
        assert_eq!(legacy["token_types"], serde_json::json!([]));
        assert_eq!(legacy["cleartext_passwords"], 0);
        assert_eq!(edges.len(), 7);
        let picked_up = edge("10.20.2.21", u64::from(HISTORIAN_PORT));
        assert_eq!(picked_up["requests"], serde_json::json!({"631": 10}));
        assert_eq!(picked_up["policies"], serde_json::json!([]));
        let servers = truth["servers"].as_array().unwrap();
        assert_eq!(servers.len(), 2);
        assert_eq!(servers[0]["endpoints"].as_array().unwrap().len(), 3);
        let clients = truth["clients"].as_array().unwrap();
        assert_eq!(clients.len(), 4);
        for (client, ip) in [(&clients[2], "10.20.2.40"), (&clients[3], "10.20.2.41")] {
            assert_eq!(client["ip"], ip);
            assert_eq!(client["certificates"], clients[2]["certificates"]);
            assert_eq!(client["certificates"].as_array().unwrap().len(), 2);
            assert_eq!(client["application_uri"], serde_json::Value::Null);
        }
    }

    #[test]
    fn the_legacy_scada_opens_a_basic128rsa15_channel_with_the_ca_chain() {
        let link = LinkType::Ethernet;
        let (frames, truth) = run(crate::DEFAULT_SEED);
        let mut types: BTreeMap<String, u64> = BTreeMap::new();
        let mut opens = Vec::new();
        for ((src, _, dst, _), chunks) in opcua_chunks(link, &frames, PORT) {
            if src != LEGACY_SCADA.ip && dst != LEGACY_SCADA.ip {
                continue;
            }
            for (kind, chunk) in chunks {
                if kind == "OPN" {
                    let (fields, rest) = asymmetric_header(&chunk);
                    opens.push((src == LEGACY_SCADA.ip, fields, rest));
                }
                *types.entry(kind).or_default() += 1;
            }
        }
        let expected: BTreeMap<String, u64> = [("HEL", 1), ("ACK", 1), ("OPN", 2), ("MSG", 6)]
            .into_iter()
            .chain([("CLO", 1)])
            .map(|(k, n)| (k.to_owned(), n))
            .collect();
        assert_eq!(types, expected);
        let thumbprint = |der| certificate::parse(der).unwrap().sha1.to_vec();
        let chain = [CLIENT_CERTIFICATE, CA_CERTIFICATE].concat();
        opens.sort_by_key(|(from_client, ..)| !from_client);
        let [(true, request, rest), (false, response, _)] = &opens[..] else {
            panic!("{opens:?}")
        };
        assert_eq!(request[0], POLICY_BASIC128RSA15.as_bytes());
        assert_eq!(request[1], chain);
        assert_eq!(request[2], thumbprint(SERVER_CERTIFICATE));
        assert_eq!(*rest, 512);
        assert_eq!(response[1], SERVER_CERTIFICATE);
        assert_eq!(response[2], thumbprint(CLIENT_CERTIFICATE));
        // The truth's message types are what the wire shows, the new client's included.
        let json = truth;
        assert_eq!(json["message_types"]["OPN"], 12);
        assert_eq!(json["message_types"]["CLO"], 6);
    }
}
