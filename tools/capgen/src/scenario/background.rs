//! Non-Modbus traffic of the plant: DNS over UDP, an HTTPS session, and HTTP on TCP 502 (which a
//! sensor must not take for Modbus).

use std::net::IpAddr;

use anyhow::{Context, Result};

use crate::capture::{MILLISECOND, PacketSink, Wire};
use crate::link::{DEFAULT_TTL, Hop, Host, Transport};
use crate::rng::Rng;
use crate::tcp::{End, Side, TcpFlow};

const DNS_PORT: u16 = 53;
/// DNS header flags: standard query, recursion desired.
const DNS_QUERY_FLAGS: u16 = 0x0100;
/// DNS header flags: response, recursion desired and available, no error.
const DNS_RESPONSE_FLAGS: u16 = 0x8180;
const DNS_TYPE_A: u16 = 1;
const DNS_TYPE_AAAA: u16 = 28;
const DNS_CLASS_IN: u16 = 1;
/// Compression pointer to the question name at offset 12.
const DNS_NAME_POINTER: u16 = 0xC00C;

/// Appends `name` as DNS labels.
fn dns_name(name: &str, out: &mut Vec<u8>) -> Result<()> {
    for label in name.split('.') {
        out.push(u8::try_from(label.len()).context("DNS label length")?);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    Ok(())
}

fn dns_message(id: u16, name: &str, answer: Option<IpAddr>) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&id.to_be_bytes());
    let flags = if answer.is_some() {
        DNS_RESPONSE_FLAGS
    } else {
        DNS_QUERY_FLAGS
    };
    out.extend_from_slice(&flags.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes()); // questions
    out.extend_from_slice(&u16::from(answer.is_some()).to_be_bytes()); // answers
    out.extend_from_slice(&0u16.to_be_bytes()); // authority
    out.extend_from_slice(&0u16.to_be_bytes()); // additional
    dns_name(name, &mut out)?;
    let qtype = match answer {
        Some(IpAddr::V6(_)) => DNS_TYPE_AAAA,
        _ => DNS_TYPE_A,
    };
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&DNS_CLASS_IN.to_be_bytes());
    if let Some(addr) = answer {
        out.extend_from_slice(&DNS_NAME_POINTER.to_be_bytes());
        out.extend_from_slice(&qtype.to_be_bytes());
        out.extend_from_slice(&DNS_CLASS_IN.to_be_bytes());
        out.extend_from_slice(&300u32.to_be_bytes()); // TTL
        match addr {
            IpAddr::V4(v4) => {
                out.extend_from_slice(&4u16.to_be_bytes());
                out.extend_from_slice(&v4.octets());
            }
            IpAddr::V6(v6) => {
                out.extend_from_slice(&16u16.to_be_bytes());
                out.extend_from_slice(&v6.octets());
            }
        }
    }
    Ok(out)
}

/// A DNS A lookup of `name` answered with `address`; returns the time of the answer.
pub(crate) fn dns_lookup<S: PacketSink>(
    wire: &mut Wire<S>,
    at: u64,
    client: Host,
    resolver: Host,
    name: &str,
    address: IpAddr,
    rng: &mut Rng,
) -> Result<u64> {
    let id = rng.next_u16();
    let port = rng.range_u16(49_152, 65_535);
    let query = dns_message(id, name, None)?;
    let hop = Hop {
        src: client,
        dst: resolver,
        vlan: None,
        ttl: 128,
        ip_id: rng.next_u16(),
    };
    let udp = |source_port, destination_port| Transport::Udp {
        source_port,
        destination_port,
    };
    wire.emit(at, &hop, udp(port, DNS_PORT), &query)?;
    let answer = dns_message(id, name, Some(address))?;
    let at = at + rng.range(300, 1500);
    let hop = Hop {
        src: resolver,
        dst: client,
        vlan: None,
        ttl: DEFAULT_TTL,
        ip_id: rng.next_u16(),
    };
    wire.emit(at, &hop, udp(DNS_PORT, port), &answer)?;
    Ok(at)
}

/// An HTTP GET answered by a small web page, over TCP to `server_port` (502 in the sample: a
/// device whose web console listens there). Returns the time of the last packet.
pub(crate) fn http_get<S: PacketSink>(
    wire: &mut Wire<S>,
    at: u64,
    client: Host,
    server: Host,
    server_port: u16,
    rng: &mut Rng,
) -> Result<u64> {
    let mut flow = TcpFlow::new(
        End::new(client, rng.range_u16(49_152, 65_535), rng).with_ttl(128),
        End::new(server, server_port, rng).with_window(5840),
    );
    let rtt = rng.range(300, 900);
    let mut at = flow.handshake(wire, at, rtt)?;
    let host = format!("{}:{server_port}", server.ip);
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {host}\r\nUser-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) \
         AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36\r\n\
         Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
         Accept-Language: en-US,en;q=0.9\r\nConnection: keep-alive\r\n\r\n"
    );
    at += MILLISECOND;
    flow.send(wire, at, Side::Client, request.as_bytes())?;
    let body = "<!DOCTYPE html>\n<html><head><title>Device Web Console</title></head>\n\
                <body><h1>Serial Device Server</h1><p>Firmware 1.4 Build 22031117</p>\
                <form method=\"post\" action=\"/login\"><input name=\"user\"><input \
                name=\"password\" type=\"password\"><input type=\"submit\" value=\"Login\">\
                </form></body></html>\n";
    let response = format!(
        "HTTP/1.1 200 OK\r\nServer: GoAhead-Webs\r\nContent-Type: text/html\r\n\
         Content-Length: {}\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    at += rng.range(2, 8) * MILLISECOND;
    flow.send(wire, at, Side::Server, response.as_bytes())?;
    at += rng.range(20, 60);
    flow.ack(wire, at, Side::Client)?;
    // The server closes (Connection: close).
    at += rng.range(1, 3) * MILLISECOND;
    flow.close(wire, at, Side::Server, rtt)
}

/// TLS record content types and versions.
mod tls {
    pub(super) const HANDSHAKE: u8 = 0x16;
    pub(super) const CHANGE_CIPHER_SPEC: u8 = 0x14;
    pub(super) const APPLICATION_DATA: u8 = 0x17;
    pub(super) const VERSION_1_0: u16 = 0x0301;
    pub(super) const VERSION_1_2: u16 = 0x0303;
    pub(super) const VERSION_1_3: u16 = 0x0304;
    pub(super) const CLIENT_HELLO: u8 = 1;
    pub(super) const SERVER_HELLO: u8 = 2;
    pub(super) const EXT_SERVER_NAME: u16 = 0x0000;
    pub(super) const EXT_SUPPORTED_GROUPS: u16 = 0x000A;
    pub(super) const EXT_SIGNATURE_ALGORITHMS: u16 = 0x000D;
    pub(super) const EXT_SUPPORTED_VERSIONS: u16 = 0x002B;
    pub(super) const EXT_KEY_SHARE: u16 = 0x0033;
    pub(super) const GROUP_X25519: u16 = 0x001D;
    pub(super) const TLS_AES_128_GCM_SHA256: u16 = 0x1301;
}

fn u16s(values: &[u16]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_be_bytes()).collect()
}

/// Appends a vector with a big-endian length prefix of `width` bytes.
fn prefixed(out: &mut Vec<u8>, width: usize, data: &[u8]) -> Result<()> {
    let len = u32::try_from(data.len()).context("TLS length")?;
    let bytes = len.to_be_bytes();
    out.extend_from_slice(bytes.get(4 - width..).context("TLS length width")?);
    out.extend_from_slice(data);
    Ok(())
}

fn extension(out: &mut Vec<u8>, kind: u16, data: &[u8]) -> Result<()> {
    out.extend_from_slice(&kind.to_be_bytes());
    prefixed(out, 2, data)
}

fn record(out: &mut Vec<u8>, content_type: u8, version: u16, body: &[u8]) -> Result<()> {
    out.push(content_type);
    out.extend_from_slice(&version.to_be_bytes());
    prefixed(out, 2, body)
}

fn handshake_message(kind: u8, body: &[u8]) -> Result<Vec<u8>> {
    let mut out = vec![kind];
    prefixed(&mut out, 3, body)?;
    Ok(out)
}

fn random_bytes(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut out = vec![0; len];
    rng.fill(&mut out);
    out
}

/// A TLS 1.3 ClientHello with SNI `server_name`.
fn client_hello(server_name: &str, rng: &mut Rng) -> Result<Vec<u8>> {
    let mut body = Vec::with_capacity(512);
    body.extend_from_slice(&tls::VERSION_1_2.to_be_bytes());
    body.extend_from_slice(&random_bytes(rng, 32));
    prefixed(&mut body, 1, &random_bytes(rng, 32))?; // legacy session id
    prefixed(
        &mut body,
        2,
        &u16s(&[0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030]),
    )?;
    prefixed(&mut body, 1, &[0])?; // null compression
    let mut extensions = Vec::new();
    let mut sni = Vec::new();
    let mut entry = vec![0u8]; // host_name
    prefixed(&mut entry, 2, server_name.as_bytes())?;
    prefixed(&mut sni, 2, &entry)?;
    extension(&mut extensions, tls::EXT_SERVER_NAME, &sni)?;
    let mut groups = Vec::new();
    prefixed(&mut groups, 2, &u16s(&[tls::GROUP_X25519, 0x0017, 0x0018]))?;
    extension(&mut extensions, tls::EXT_SUPPORTED_GROUPS, &groups)?;
    let mut algorithms = Vec::new();
    prefixed(&mut algorithms, 2, &u16s(&[0x0403, 0x0804, 0x0401, 0x0503]))?;
    extension(&mut extensions, tls::EXT_SIGNATURE_ALGORITHMS, &algorithms)?;
    let mut versions = Vec::new();
    prefixed(
        &mut versions,
        1,
        &u16s(&[tls::VERSION_1_3, tls::VERSION_1_2]),
    )?;
    extension(&mut extensions, tls::EXT_SUPPORTED_VERSIONS, &versions)?;
    let mut share = tls::GROUP_X25519.to_be_bytes().to_vec();
    prefixed(&mut share, 2, &random_bytes(rng, 32))?;
    let mut shares = Vec::new();
    prefixed(&mut shares, 2, &share)?;
    extension(&mut extensions, tls::EXT_KEY_SHARE, &shares)?;
    prefixed(&mut body, 2, &extensions)?;
    let mut out = Vec::new();
    record(
        &mut out,
        tls::HANDSHAKE,
        tls::VERSION_1_0,
        &handshake_message(tls::CLIENT_HELLO, &body)?,
    )?;
    Ok(out)
}

/// ServerHello, ChangeCipherSpec and the encrypted rest of the server's first flight.
fn server_flight(rng: &mut Rng) -> Result<Vec<u8>> {
    let mut body = Vec::with_capacity(128);
    body.extend_from_slice(&tls::VERSION_1_2.to_be_bytes());
    body.extend_from_slice(&random_bytes(rng, 32));
    prefixed(&mut body, 1, &random_bytes(rng, 32))?;
    body.extend_from_slice(&tls::TLS_AES_128_GCM_SHA256.to_be_bytes());
    body.push(0);
    let mut extensions = Vec::new();
    extension(
        &mut extensions,
        tls::EXT_SUPPORTED_VERSIONS,
        &tls::VERSION_1_3.to_be_bytes(),
    )?;
    let mut share = tls::GROUP_X25519.to_be_bytes().to_vec();
    prefixed(&mut share, 2, &random_bytes(rng, 32))?;
    extension(&mut extensions, tls::EXT_KEY_SHARE, &share)?;
    prefixed(&mut body, 2, &extensions)?;
    let mut out = Vec::new();
    record(
        &mut out,
        tls::HANDSHAKE,
        tls::VERSION_1_2,
        &handshake_message(tls::SERVER_HELLO, &body)?,
    )?;
    record(&mut out, tls::CHANGE_CIPHER_SPEC, tls::VERSION_1_2, &[1])?;
    // EncryptedExtensions, Certificate, CertificateVerify, Finished.
    let flight = random_bytes(rng, 1180);
    record(&mut out, tls::APPLICATION_DATA, tls::VERSION_1_2, &flight)?;
    Ok(out)
}

fn application_data(rng: &mut Rng, len: usize) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    record(
        &mut out,
        tls::APPLICATION_DATA,
        tls::VERSION_1_2,
        &random_bytes(rng, len),
    )?;
    Ok(out)
}

/// Sends `data` from `side` in segments of at most `mss` bytes, `gap` microseconds apart.
fn send_segmented<S: PacketSink>(
    wire: &mut Wire<S>,
    flow: &mut TcpFlow,
    mut at: u64,
    side: Side,
    data: &[u8],
    mss: usize,
    gap: u64,
) -> Result<u64> {
    for chunk in data.chunks(mss) {
        flow.send(wire, at, side, chunk)?;
        at += gap;
    }
    Ok(at)
}

/// An HTTPS session: TLS 1.3 handshake, a request and a page, close. Returns the last time.
pub(crate) fn https_session<S: PacketSink>(
    wire: &mut Wire<S>,
    at: u64,
    client: Host,
    server: Host,
    server_name: &str,
    rng: &mut Rng,
) -> Result<u64> {
    const MSS: usize = 1460;
    let mut flow = TcpFlow::new(
        End::new(client, rng.range_u16(49_152, 65_535), rng).with_ttl(128),
        End::new(server, 443, rng),
    );
    let rtt = rng.range(200, 600);
    let mut at = flow.handshake(wire, at, rtt)?;
    at += 300;
    flow.send(wire, at, Side::Client, &client_hello(server_name, rng)?)?;
    at += rtt / 2 + rng.range(500, 2000);
    at = send_segmented(
        wire,
        &mut flow,
        at,
        Side::Server,
        &server_flight(rng)?,
        MSS,
        15,
    )?;
    at += 40;
    flow.ack(wire, at, Side::Client)?;
    at += rng.range(300, 900);
    let mut finished = Vec::new();
    record(
        &mut finished,
        tls::CHANGE_CIPHER_SPEC,
        tls::VERSION_1_2,
        &[1],
    )?;
    finished.extend_from_slice(&application_data(rng, 53)?);
    flow.send(wire, at, Side::Client, &finished)?;
    at += 200;
    flow.send(wire, at, Side::Client, &application_data(rng, 412)?)?;
    // Session tickets, then the page in several segments.
    at += rtt / 2 + rng.range(200, 600);
    flow.send(wire, at, Side::Server, &application_data(rng, 234)?)?;
    at += rng.range(3, 12) * MILLISECOND;
    let mut page = Vec::new();
    for _ in 0..3 {
        page.extend_from_slice(&application_data(rng, 1400)?);
    }
    at = send_segmented(wire, &mut flow, at, Side::Server, &page, MSS, 12)?;
    at += 40;
    flow.ack(wire, at, Side::Client)?;
    at += rng.range(2, 5) * 1_000 * MILLISECOND;
    // close_notify alert, encrypted.
    flow.send(wire, at, Side::Client, &application_data(rng, 19)?)?;
    at += rtt;
    flow.close(wire, at, Side::Client, rtt)
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    #[test]
    fn dns_answer_layout() {
        let msg = dns_message(
            0x1234,
            "plc.plant.local",
            Some(IpAddr::V4(Ipv4Addr::new(10, 20, 1, 11))),
        )
        .unwrap();
        assert_eq!(&msg[..4], &[0x12, 0x34, 0x81, 0x80]);
        assert_eq!(&msg[6..8], &[0, 1]); // one answer
        assert_eq!(&msg[msg.len() - 4..], &[10, 20, 1, 11]);
    }

    #[test]
    fn client_hello_lengths_agree() {
        let hello = client_hello("historian.plant.local", &mut Rng::new(1)).unwrap();
        assert_eq!(hello[0], tls::HANDSHAKE);
        let record_len = usize::from(u16::from_be_bytes([hello[3], hello[4]]));
        assert_eq!(record_len, hello.len() - 5);
        let handshake_len =
            (usize::from(hello[6]) << 16) | (usize::from(hello[7]) << 8) | usize::from(hello[8]);
        assert_eq!(handshake_len, record_len - 4);
    }
}
