//! A minimal HTTPS client (hyper over tokio-rustls) for tests and the
//! benchmark: one connection, requests in turn.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use axum::body::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// One HTTPS connection to the collector.
pub struct Client {
    sender: SendRequest<Full<Bytes>>,
    token: Option<String>,
}

impl Client {
    /// Connects to `addr`, checking the server's certificate for `localhost`.
    pub async fn connect(addr: SocketAddr, tls: Arc<ClientConfig>) -> Result<Self> {
        let tcp = TcpStream::connect(addr).await.context("connect")?;
        let name = ServerName::try_from("localhost").context("server name")?;
        let stream = TlsConnector::from(tls)
            .connect(name, tcp)
            .await
            .context("TLS handshake")?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .context("HTTP handshake")?;
        tokio::spawn(conn);
        Ok(Self {
            sender,
            token: None,
        })
    }

    /// Sends `Authorization: Bearer TOKEN` with every request from now on.
    pub fn with_token(mut self, token: Option<&str>) -> Self {
        self.token = token.map(str::to_owned);
        self
    }

    /// GETs `path` (with the token); returns the status and the body as JSON (Null if not JSON).
    pub async fn get_json(&mut self, path: &str) -> Result<(u16, serde_json::Value)> {
        let (status, body) = self.request("GET", path, Vec::new()).await?;
        Ok((
            status,
            serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        ))
    }

    /// Sends one request; returns the status and the body.
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        body: Vec<u8>,
    ) -> Result<(u16, Vec<u8>)> {
        let content_type = if path == "/api/v1/summaries" {
            "application/jose"
        } else {
            "application/json"
        };
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "localhost")
            .header("content-type", content_type);
        if let Some(token) = &self.token {
            req = req.header("authorization", format!("Bearer {token}"));
        }
        let req = req.body(Full::new(Bytes::from(body)))?;
        self.sender.ready().await.context("connection")?;
        let resp = self.sender.send_request(req).await.context("request")?;
        let status = resp.status().as_u16();
        let body = resp
            .into_body()
            .collect()
            .await
            .context("response body")?
            .to_bytes();
        Ok((status, body.to_vec()))
    }

    /// Waits, up to `limit`, until `/api/v1/health` says every stored
    /// summary is merged into the inventory (summaries are answered once
    /// stored and merged moments later): a test's reads then see them.
    pub async fn wait_merged(&mut self, limit: std::time::Duration) -> Result<()> {
        let deadline = std::time::Instant::now() + limit;
        loop {
            let (status, health) = self.get_json("/api/v1/health").await?;
            if status == 200 && health.get("unmerged") == Some(&serde_json::Value::from(0)) {
                return Ok(());
            }
            if std::time::Instant::now() > deadline {
                anyhow::bail!("still not merged after {limit:?}: {status} {health}");
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// POSTs a summary's JWS; returns the status and the answer's JSON.
    pub async fn post_summary(&mut self, jws: &[u8]) -> Result<(u16, serde_json::Value)> {
        let (status, body) = self
            .request("POST", "/api/v1/summaries", jws.to_vec())
            .await?;
        let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
        Ok((status, json))
    }
}
