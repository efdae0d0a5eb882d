//! The sensor's side of the uplink: HTTPS POST of signed summaries to the
//! collector with mutual TLS (rustls; the sensor's client certificate, the
//! plant's CA as the only trust anchor), and what the collector's answer means
//! for the spooled summary.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use faro_firmware_config::Uplink;

/// Longest wait for one delivery (connect, handshake, answer).
const TIMEOUT: Duration = Duration::from_secs(10);

/// Why a delivery did not happen.
#[derive(Debug, thiserror::Error)]
pub enum UplinkError {
    /// A certificate, key or CA file could not be read.
    #[error("{path}: {reason}")]
    Credentials {
        /// The file.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// The collector URL is not `https://host[:port][/path]`.
    #[error("collector URL `{0}`: expected https://host[:port]")]
    Url(String),
    /// Connecting, the TLS handshake or the HTTP exchange failed.
    #[error("{0}")]
    Transport(String),
}

/// What the collector said of one summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Stored now (201) or already stored with the same bytes (200): remove it from the spool.
    Accepted {
        /// HTTP status.
        status: u16,
    },
    /// Refused for a reason that may pass (not enrolled yet, a gap to fill,
    /// the collector overloaded): keep it and retry later.
    Retry {
        /// HTTP status.
        status: u16,
        /// The collector's reason.
        reason: String,
    },
    /// Refused for good (malformed, wrong sensor id): it can never be stored.
    Rejected {
        /// HTTP status.
        status: u16,
        /// The collector's reason.
        reason: String,
    },
}

/// A client of one collector.
pub struct UplinkClient {
    tls: TlsConnector,
    host: String,
    port: u16,
    path: String,
    server_name: ServerName<'static>,
    runtime: tokio::runtime::Runtime,
}

fn read(path: &Path) -> Result<Vec<u8>, UplinkError> {
    std::fs::read(path).map_err(|e| UplinkError::Credentials {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

fn credentials_error(path: &Path, reason: impl ToString) -> UplinkError {
    UplinkError::Credentials {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// `https://host[:port][/base]` → (host, port, base path without trailing slash).
fn parse_url(url: &str) -> Result<(String, u16, String), UplinkError> {
    let rest = url
        .strip_prefix("https://")
        .ok_or_else(|| UplinkError::Url(url.to_owned()))?;
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or_else(|| UplinkError::Url(url.to_owned()))?;
        let port = after.strip_prefix(':').unwrap_or("443");
        (host.to_owned(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host.to_owned(), port),
            None => (authority.to_owned(), "443"),
        }
    };
    let port = port.parse().map_err(|_| UplinkError::Url(url.to_owned()))?;
    if host.is_empty() {
        return Err(UplinkError::Url(url.to_owned()));
    }
    Ok((host, port, path.trim_end_matches('/').to_owned()))
}

impl UplinkClient {
    /// A client for the collector and credentials of `uplink`.
    pub fn new(uplink: &Uplink) -> Result<Self, UplinkError> {
        let (host, port, path) = parse_url(&uplink.collector_url)?;
        let mut roots = rustls::RootCertStore::empty();
        let ca = read(&uplink.ca)?;
        for cert in CertificateDer::pem_slice_iter(&ca) {
            let cert = cert.map_err(|e| credentials_error(&uplink.ca, e))?;
            roots
                .add(cert)
                .map_err(|e| credentials_error(&uplink.ca, e))?;
        }
        let chain = read(&uplink.client_certificate)?;
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&chain)
            .collect::<Result<_, _>>()
            .map_err(|e| credentials_error(&uplink.client_certificate, e))?;
        let key = read(&uplink.client_key)?;
        let key = PrivateKeyDer::from_pem_slice(&key)
            .map_err(|e| credentials_error(&uplink.client_key, e))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| UplinkError::Transport(e.to_string()))?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .map_err(|e| credentials_error(&uplink.client_key, e))?;
        let server_name = ServerName::try_from(host.clone())
            .map_err(|_| UplinkError::Url(uplink.collector_url.clone()))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| UplinkError::Transport(e.to_string()))?;
        Ok(UplinkClient {
            tls: TlsConnector::from(Arc::new(config)),
            host,
            port,
            path,
            server_name,
            runtime,
        })
    }

    /// Posts one signed summary and says what became of it.
    pub fn deliver(&self, jws: &str) -> Result<Delivery, UplinkError> {
        let exchange = self.post(jws.to_owned());
        let (status, body) = self
            .runtime
            .block_on(async { tokio::time::timeout(TIMEOUT, exchange).await })
            .map_err(|_| UplinkError::Transport("the collector did not answer in time".into()))??;
        let reason = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| {
                let status = v.get("status")?.as_str()?.to_owned();
                Some(match v.get("reason").and_then(|r| r.as_str()) {
                    Some(reason) => format!("{status}: {reason}"),
                    None => status,
                })
            })
            .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
        Ok(match status {
            200 | 201 => Delivery::Accepted { status },
            400 | 403 | 413 => Delivery::Rejected { status, reason },
            _ => Delivery::Retry { status, reason },
        })
    }

    async fn post(&self, jws: String) -> Result<(u16, Bytes), UplinkError> {
        let transport = |e: &dyn std::fmt::Display| UplinkError::Transport(e.to_string());
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| transport(&e))?;
        let tls = self
            .tls
            .connect(self.server_name.clone(), tcp)
            .await
            .map_err(|e| transport(&e))?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls))
                .await
                .map_err(|e| transport(&e))?;
        let driver = tokio::spawn(connection);
        let authority = if self.port == 443 {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        };
        let request = hyper::Request::post(format!("{}/api/v1/summaries", self.path))
            .header(hyper::header::HOST, authority)
            .header(hyper::header::CONTENT_TYPE, "application/jose")
            .body(Full::new(Bytes::from(jws)))
            .map_err(|e| transport(&e))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| transport(&e))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| transport(&e))?
            .to_bytes();
        driver.abort();
        Ok((status, body))
    }
}

/// Exponential backoff with jitter: 0.5 s doubling to 30 s, each wait drawn
/// between half and all of the current step, so many sensors coming back
/// after an outage do not hit the collector in step.
#[derive(Debug)]
pub struct Backoff {
    step: Duration,
    seed: u64,
}

impl Default for Backoff {
    fn default() -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
            | 1;
        Backoff {
            step: Duration::from_millis(500),
            seed,
        }
    }
}

impl Backoff {
    /// The next wait, growing the step.
    pub fn next_wait(&mut self) -> Duration {
        // xorshift64: jitter needs no more than this.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let step = self.step;
        self.step = (self.step * 2).min(Duration::from_secs(30));
        let half = step / 2;
        half + Duration::from_nanos(self.seed % (half.as_nanos().max(1) as u64 + 1))
    }

    /// Back to the first step after a success.
    pub fn reset(&mut self) {
        self.step = Duration::from_millis(500);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            parse_url("https://collector.example:8443").unwrap(),
            ("collector.example".into(), 8443, String::new())
        );
        assert_eq!(
            parse_url("https://[::1]:9000/faro/").unwrap(),
            ("::1".into(), 9000, "/faro".into())
        );
        assert_eq!(
            parse_url("https://10.0.0.5").unwrap(),
            ("10.0.0.5".into(), 443, String::new())
        );
        assert!(parse_url("http://collector").is_err());
        assert!(parse_url("https://:80").is_err());
        assert!(parse_url("https://host:port").is_err());
    }

    #[test]
    fn backoff_grows_to_its_cap_with_jitter() {
        let mut backoff = Backoff::default();
        let waits: Vec<Duration> = (0..12).map(|_| backoff.next_wait()).collect();
        assert!(waits[0] >= Duration::from_millis(250) && waits[0] <= Duration::from_millis(500));
        assert!(waits.iter().all(|w| *w <= Duration::from_secs(30)));
        assert!(waits[11] >= Duration::from_secs(15));
        backoff.reset();
        assert!(backoff.next_wait() <= Duration::from_millis(500));
    }
}
