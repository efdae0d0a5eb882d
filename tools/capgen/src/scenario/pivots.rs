//! `pivots`: the IT conduits into a plant. An office PC reaches the engineering workstation by
//! RDP (negotiating TLS and CredSSP) and by SSH, and opens a cleartext telnet session to a
//! serial gateway. No industrial protocol: every conversation is an IT service edge.

use std::net::{IpAddr, Ipv4Addr};

use anyhow::Result;

use crate::capture::{PacketSink, Wire};
use crate::link::Host;
use crate::rng::Rng;
use crate::tcp::{End, Side, TcpFlow};

/// The office PC (level 4).
pub(crate) const OFFICE_PC: Host =
    Host::new([0x3C, 0x52, 0x82, 0x40, 0x00, 0x14], ip(10, 40, 0, 20));
/// The engineering workstation (level 2).
pub(crate) const EWS: Host = Host::new([0x00, 0x1C, 0x06, 0x1E, 0x01, 0x0A], ip(10, 30, 1, 10));
/// A serial-to-Ethernet gateway with a telnet console.
pub(crate) const GATEWAY: Host = Host::new([0x00, 0x90, 0xE8, 0x1E, 0x01, 0x32], ip(10, 30, 1, 50));

const fn ip(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

/// TPKT, X.224 Connection Request (LI 14, CR, dst-ref 0, src-ref 0, class 0), rdpNegReq
/// (type 1, flags 0, length 8) asking for PROTOCOL_SSL | PROTOCOL_HYBRID (MS-RDPBCGR 2.2.1.1).
const RDP_CONNECTION_REQUEST: [u8; 19] = [
    0x03, 0x00, 0x00, 0x13, // TPKT, length 19
    0x0E, 0xE0, 0x00, 0x00, 0x00, 0x00, 0x00, // X.224 CR
    0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00, // rdpNegReq, SSL | HYBRID
];

/// TPKT, X.224 Connection Confirm, rdpNegRsp selecting PROTOCOL_HYBRID.
const RDP_CONNECTION_CONFIRM: [u8; 19] = [
    0x03, 0x00, 0x00, 0x13, // TPKT, length 19
    0x0E, 0xD0, 0x00, 0x00, 0x12, 0x34, 0x00, // X.224 CC
    0x02, 0x00, 0x08, 0x00, 0x02, 0x00, 0x00, 0x00, // rdpNegRsp, HYBRID
];

/// A TLS 1.2 record header carrying a ClientHello, then random-looking bytes.
fn tls_client_hello(rng: &mut Rng) -> Vec<u8> {
    let mut hello = vec![
        0x16, 0x03, 0x01, 0x00, 0x40, 0x01, 0x00, 0x00, 0x3C, 0x03, 0x03,
    ];
    hello.extend((0..0x3C).map(|_| rng.next_u32().to_le_bytes()[0]));
    hello
}

/// Writes the three sessions.
pub(crate) fn generate<S: PacketSink>(wire: &mut Wire<S>, seed: u64) -> Result<()> {
    let mut rng = Rng::new(seed);
    let rtt = 800;
    let mut at = 0u64;

    // RDP, TLS and CredSSP negotiated.
    let mut rdp = TcpFlow::new(
        End::new(OFFICE_PC, rng.range_u16(49_152, 65_535), &mut rng),
        End::new(EWS, 3389, &mut rng),
    );
    at = rdp.handshake(wire, at, rtt)?;
    rdp.send(wire, at + 100, Side::Client, &RDP_CONNECTION_REQUEST)?;
    rdp.send(wire, at + 900, Side::Server, &RDP_CONNECTION_CONFIRM)?;
    let hello = tls_client_hello(&mut rng);
    rdp.send(wire, at + 1_200, Side::Client, &hello)?;
    at += 1_000_000;

    // SSH: the server's banner first, then the client's.
    let mut ssh = TcpFlow::new(
        End::new(OFFICE_PC, rng.range_u16(49_152, 65_535), &mut rng),
        End::new(EWS, 22, &mut rng),
    );
    at = ssh.handshake(wire, at, rtt)?;
    ssh.send(
        wire,
        at + 100,
        Side::Server,
        b"SSH-2.0-OpenSSH_for_Windows_9.5\r\n",
    )?;
    ssh.send(
        wire,
        at + 500,
        Side::Client,
        b"SSH-2.0-PuTTY_Release_0.81\r\n",
    )?;
    at += 1_000_000;

    // Telnet: option negotiation, then a login in the clear.
    let mut telnet = TcpFlow::new(
        End::new(OFFICE_PC, rng.range_u16(49_152, 65_535), &mut rng),
        End::new(GATEWAY, 23, &mut rng),
    );
    at = telnet.handshake(wire, at, rtt)?;
    telnet.send(
        wire,
        at + 100,
        Side::Server,
        &[0xFF, 0xFD, 0x18, 0xFF, 0xFB, 0x01],
    )?;
    telnet.send(
        wire,
        at + 500,
        Side::Client,
        &[0xFF, 0xFB, 0x18, 0xFF, 0xFD, 0x01],
    )?;
    telnet.send(wire, at + 900, Side::Server, b"login: ")?;
    telnet.send(wire, at + 2_000, Side::Client, b"admin\r\n")?;
    Ok(())
}
