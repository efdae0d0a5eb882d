//! `faro-capgen`: synthetic OT captures made by Faro's own code, deterministic for the same
//! arguments, for the README sample, exact-truth end-to-end fixtures and benchmarks.

mod capture;
mod dnp3;
mod link;
mod modbus;
mod opcua;
#[cfg(test)]
mod reference;
mod rng;
mod s7;
mod scenario;
mod session;
mod szl;
mod tcp;
mod truth;
mod udp;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Result, bail};
use clap::{Parser, Subcommand};

use crate::capture::{PcapOut, Timeline, Wire};
use crate::link::LinkType;
use crate::truth::Truth;

/// Default seed, so a bare command line always writes the same file.
const DEFAULT_SEED: u64 = 0x0FA2_0C49;

#[derive(Debug, Parser)]
#[command(name = "faro-capgen", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// A small plant: HMIs and an engineering station polling, writing and identifying five
    /// PLCs, plus HTTP on port 502, DNS and HTTPS.
    Sample {
        /// Output pcap file.
        #[arg(short, long)]
        output: PathBuf,
        #[arg(long, value_enum, default_value_t = LinkType::Ethernet)]
        linktype: LinkType,
        #[arg(long, default_value_t = DEFAULT_SEED)]
        seed: u64,
        /// Also write the Modbus requests a sensor must count, as JSON.
        #[arg(long)]
        truth: Option<PathBuf>,
    },
    /// A small S7-300/400 plant: an HMI polling three PLCs (one on TCP 10102, one picked up
    /// mid-stream) and an engineering station identifying them and stopping, loading, reading
    /// back and restarting one.
    S7 {
        /// Output pcap file.
        #[arg(short, long)]
        output: PathBuf,
        #[arg(long, value_enum, default_value_t = LinkType::Ethernet)]
        linktype: LinkType,
        #[arg(long, default_value_t = DEFAULT_SEED)]
        seed: u64,
        /// Also write the S7comm requests a sensor must count and the PLC identities, as JSON.
        #[arg(long)]
        truth: Option<PathBuf>,
    },
    /// A substation: a SCADA master polling three RTUs over DNP3/TCP (one on TCP 20100, one
    /// picked up mid-stream) and a recloser over DNP3/UDP, with controls, device attributes,
    /// unsolicited events, a cold restart, Secure Authentication on one RTU, one link frame
    /// with a bad CRC, and IIN2 health flags (the recloser's event buffer overflow, one RTU's
    /// corrupt configuration).
    Dnp3 {
        /// Output pcap file.
        #[arg(short, long)]
        output: PathBuf,
        #[arg(long, value_enum, default_value_t = LinkType::Ethernet)]
        linktype: LinkType,
        #[arg(long, default_value_t = DEFAULT_SEED)]
        seed: u64,
        /// Also write what a sensor must count per edge (requests, objects, Secure
        /// Authentication), the link addresses and the outstation identities, as JSON.
        #[arg(long)]
        truth: Option<PathBuf>,
    },
    /// A plant's OPC UA: an HMI discovering, polling, subscribing, writing and calling on two
    /// servers (one on TCP 48010, one connection picked up mid-stream), an engineering station
    /// with a weak certificate and a cleartext password, a gateway (Basic256Sha256) and a
    /// legacy SCADA (Basic128Rsa15) on encrypted channels, and a client refused for a bad
    /// endpoint URL.
    Opcua {
        /// Output pcap file.
        #[arg(short, long)]
        output: PathBuf,
        #[arg(long, value_enum, default_value_t = LinkType::Ethernet)]
        linktype: LinkType,
        #[arg(long, default_value_t = DEFAULT_SEED)]
        seed: u64,
        /// Also write what a sensor must count (message types, per edge services, policies,
        /// modes, identity tokens, cleartext passwords) and the servers and clients, as JSON.
        #[arg(long)]
        truth: Option<PathBuf>,
    },
    /// Polling over many concurrent sessions, for benchmarks: Modbus/TCP, S7comm for
    /// `--s7-share`, DNP3 for `--dnp3-share` and OPC UA for `--opcua-share` percent of the
    /// sessions.
    Polling {
        /// Output pcap file.
        #[arg(short, long)]
        output: PathBuf,
        /// Exact number of packets to write.
        #[arg(long, default_value_t = 1_000_000)]
        packets: u64,
        /// Concurrent client→server sessions.
        #[arg(long, default_value_t = 1000)]
        flows: u32,
        /// Percentage of the sessions that are S7comm HMI sessions (TCP 102) instead of Modbus.
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=100))]
        s7_share: u8,
        /// Percentage of the sessions that are DNP3 master-outstation sessions (TCP 20000)
        /// instead of Modbus; with `--s7-share`, at most 100 together.
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=100))]
        dnp3_share: u8,
        /// Percentage of the sessions that are OPC UA client sessions (TCP 4840, None channel,
        /// anonymous session, Read polling; encrypted with `--opcua-secure`) instead of Modbus;
        /// with the other shares, at most 100 together.
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=100))]
        opcua_share: u8,
        /// Nothing writes: the Modbus sessions send only reads (FC 1 to 4); the S7, DNP3 and
        /// OPC UA sessions only read anyway (Read Var, class polls, Read).
        #[arg(long)]
        read_only: bool,
        /// The OPC UA sessions open Basic256Sha256 SignAndEncrypt channels (the CA-issued
        /// client chain `certs/client.der` + `certs/ca.der` in both OPNs); everything after
        /// the security headers is ciphertext-like random bytes.
        #[arg(long)]
        opcua_secure: bool,
        #[arg(long, default_value_t = DEFAULT_SEED)]
        seed: u64,
    },
    /// IT conduits into a plant: an office PC reaching the engineering workstation by RDP (TLS)
    /// and SSH, and a cleartext telnet session to a serial gateway.
    Pivots {
        /// Output pcap file.
        #[arg(short, long)]
        output: PathBuf,
        #[arg(long, default_value_t = DEFAULT_SEED)]
        seed: u64,
    },
    /// SYNs from spoofed sources to a few Modbus servers, each a distinct 5-tuple.
    Synflood {
        /// Output pcap file.
        #[arg(short, long)]
        output: PathBuf,
        /// Number of SYNs (= distinct flows).
        #[arg(long, default_value_t = 1_000_000)]
        flows: u64,
        #[arg(long, default_value_t = DEFAULT_SEED)]
        seed: u64,
    },
    /// Exact-truth TCP reassembly fixture: one Modbus flow per reassembly case.
    Reassembly {
        /// Output pcap file.
        #[arg(short, long)]
        output: PathBuf,
        /// Where to write the Modbus requests per edge and function a sensor must count (JSON).
        #[arg(long)]
        truth: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = LinkType::Ethernet)]
        linktype: LinkType,
        /// Use IPv6 addresses instead of IPv4.
        #[arg(long)]
        ipv6: bool,
        #[arg(long, default_value_t = DEFAULT_SEED)]
        seed: u64,
    },
}

fn main() -> Result<()> {
    let started = Instant::now();
    let (output, packets) = match Cli::parse().command {
        Command::Sample {
            output,
            linktype,
            seed,
            truth,
        } => {
            let packets = write_timeline(&output, linktype, truth.as_deref(), |wire, truth| {
                scenario::sample::generate(wire, truth, seed)
            })?;
            (output, packets)
        }
        Command::S7 {
            output,
            linktype,
            seed,
            truth,
        } => {
            let packets = write_timeline(&output, linktype, truth.as_deref(), |wire, truth| {
                scenario::s7::generate(wire, truth, seed)
            })?;
            (output, packets)
        }
        Command::Dnp3 {
            output,
            linktype,
            seed,
            truth,
        } => {
            let packets = write_timeline(&output, linktype, truth.as_deref(), |wire, truth| {
                scenario::dnp3::generate(wire, truth, seed)
            })?;
            (output, packets)
        }
        Command::Opcua {
            output,
            linktype,
            seed,
            truth,
        } => {
            let packets = write_timeline(&output, linktype, truth.as_deref(), |wire, truth| {
                scenario::opcua::generate(wire, truth, seed)
            })?;
            (output, packets)
        }
        Command::Polling {
            output,
            packets,
            flows,
            s7_share,
            dnp3_share,
            opcua_share,
            read_only,
            opcua_secure,
            seed,
        } => {
            if flows == 0 {
                bail!("--flows must be at least 1");
            }
            if u16::from(s7_share) + u16::from(dnp3_share) + u16::from(opcua_share) > 100 {
                bail!("--s7-share, --dnp3-share and --opcua-share add up to more than 100");
            }
            let options = scenario::polling::Options {
                shares: scenario::polling::Shares {
                    s7: s7_share,
                    dnp3: dnp3_share,
                    opcua: opcua_share,
                },
                read_only,
                opcua_secure,
            };
            let mut out = PcapOut::create(&output, LinkType::Ethernet.pcap())?;
            scenario::polling::generate(&mut out, packets, flows, options, seed)?;
            (output, out.finish()?)
        }
        Command::Pivots { output, seed } => {
            let mut wire = Wire::new(
                LinkType::Ethernet,
                PcapOut::create(&output, LinkType::Ethernet.pcap())?,
            );
            scenario::pivots::generate(&mut wire, seed)?;
            (output, wire.sink.finish()?)
        }
        Command::Synflood {
            output,
            flows,
            seed,
        } => {
            let mut wire = Wire::new(
                LinkType::Ethernet,
                PcapOut::create(&output, LinkType::Ethernet.pcap())?,
            );
            scenario::synflood::generate(&mut wire, flows, seed)?;
            (output, wire.sink.finish()?)
        }
        Command::Reassembly {
            output,
            truth,
            linktype,
            ipv6,
            seed,
        } => {
            let packets = write_timeline(&output, linktype, truth.as_deref(), |wire, truth| {
                scenario::reassembly::generate(wire, truth, ipv6, seed)
            })?;
            (output, packets)
        }
    };
    eprintln!(
        "faro-capgen: wrote {packets} packets to {} in {:.2?}",
        output.display(),
        started.elapsed()
    );
    Ok(())
}

/// Runs a scenario that models conversations on their own clocks, then writes them merged by
/// time, and the truth if asked for.
fn write_timeline(
    output: &Path,
    linktype: LinkType,
    truth_path: Option<&Path>,
    scenario: impl FnOnce(&mut Wire<Timeline>, &mut Truth) -> Result<()>,
) -> Result<u64> {
    let mut wire = Wire::new(linktype, Timeline::default());
    let mut truth = Truth::default();
    scenario(&mut wire, &mut truth)?;
    let mut out = PcapOut::create(output, linktype.pcap())?;
    wire.sink.drain_into(&mut out)?;
    if let Some(path) = truth_path {
        truth.write(path)?;
        eprintln!(
            "faro-capgen: truth of {} requests written to {}",
            truth.requests(),
            path.display()
        );
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("faro-capgen-{}-{name}", std::process::id()))
    }

    #[test]
    fn reassembly_files_read_back_on_every_link_type() {
        for link in [
            LinkType::Ethernet,
            LinkType::Sll,
            LinkType::Sll2,
            LinkType::Raw,
        ] {
            for ipv6 in [false, true] {
                let pcap_path = temp(&format!("{link:?}-{ipv6}.pcap"));
                let truth_path = temp(&format!("{link:?}-{ipv6}.json"));
                let written = write_timeline(&pcap_path, link, Some(&truth_path), |wire, truth| {
                    scenario::reassembly::generate(wire, truth, ipv6, DEFAULT_SEED)
                })
                .unwrap();
                let mut capture = pcap::Capture::from_file(&pcap_path).unwrap();
                assert_eq!(capture.get_datalink(), link.pcap());
                let mut read = 0;
                while capture.next_packet().is_ok() {
                    read += 1;
                }
                assert_eq!(read, written);

                let json: serde_json::Value =
                    serde_json::from_str(&std::fs::read_to_string(&truth_path).unwrap()).unwrap();
                let edges = json["edges"].as_array().unwrap();
                assert_eq!(edges.len(), 9);
                for edge in edges {
                    assert_eq!(edge["protocol"], "modbus");
                    let client: std::net::IpAddr =
                        edge["client"].as_str().unwrap().parse().unwrap();
                    assert_eq!(client.is_ipv6(), ipv6);
                    assert!(edge["server_port"].as_u64().is_some());
                    for (function, count) in edge["functions"].as_object().unwrap() {
                        assert!(function.parse::<u8>().is_ok());
                        assert!(count.as_u64().unwrap() > 0);
                    }
                }
                std::fs::remove_file(&pcap_path).unwrap();
                std::fs::remove_file(&truth_path).unwrap();
            }
        }
    }
}
