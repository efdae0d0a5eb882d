//! API tokens: `faro_<id>_<secret>`, shown once when made; the store keeps
//! only the id, the scope and a SHA-256 of the secret. Scopes nest: `read`
//! lists, `triage` also changes findings' status, `admin` also manages tokens.

use anyhow::{Context, Result, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand_core::{OsRng, RngCore};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::store::{Store, params};

/// What a token may do; each scope includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Read everything.
    Read,
    /// Read, and change findings' status, owner and due date.
    Triage,
    /// Everything, including tokens.
    Admin,
}

impl Scope {
    /// The name stored and shown.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Triage => "triage",
            Scope::Admin => "admin",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        match name {
            "read" => Some(Scope::Read),
            "triage" => Some(Scope::Triage),
            "admin" => Some(Scope::Admin),
            _ => None,
        }
    }
}

/// A token as listed (never its secret).
#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    /// The public part of the token.
    pub id: String,
    /// Who or what it is for.
    pub name: String,
    /// What it may do.
    pub scope: Scope,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339, when revoked.
    pub revoked_at: Option<String>,
}

/// The caller a valid token names.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's id.
    pub token_id: String,
    /// The token's name (recorded in findings' history).
    pub name: String,
    /// What it may do.
    pub scope: Scope,
}

fn digest(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// Makes a token; returns it whole (the only time it is shown) and its id.
pub fn create(store: &Store, name: &str, scope: Scope) -> Result<(String, String)> {
    if name.trim().is_empty() {
        bail!("a token needs a name (who or what it is for)");
    }
    let mut id = [0u8; 6];
    let mut secret = [0u8; 32];
    OsRng.fill_bytes(&mut id);
    OsRng.fill_bytes(&mut secret);
    let id = hex(&id);
    let secret = URL_SAFE_NO_PAD.encode(secret);
    let digest = digest(&secret).to_vec();
    store.write(|db| {
        db.execute(
            "INSERT INTO api_tokens (id, name, scope, secret_sha256, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, name, scope.name(), digest, now()],
        )?;
        Ok(())
    })?;
    Ok((format!("faro_{id}_{secret}"), id))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every token, newest first.
pub fn list(store: &Store) -> Result<Vec<TokenInfo>> {
    store.read(|db| {
        let rows = db.query(
            "SELECT id, name, scope, created_at, revoked_at FROM api_tokens
             ORDER BY created_at DESC, id",
            params![],
        )?;
        let mut out = Vec::new();
        for r in rows {
            let scope: String = r.get(2)?;
            out.push(TokenInfo {
                id: r.get(0)?,
                name: r.get(1)?,
                scope: Scope::parse(&scope).context("a stored token's scope")?,
                created_at: r.get(3)?,
                revoked_at: r.get(4)?,
            });
        }
        Ok(out)
    })
}

/// Revokes a token; false if there is no such token or it was already revoked.
pub fn revoke(store: &Store, id: &str) -> Result<bool> {
    store.write(|db| {
        Ok(db.execute(
            "UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            params![id, now()],
        )? == 1)
    })
}

/// The caller `token` names, if it is well formed, known and not revoked.
pub fn authenticate(store: &Store, token: &str) -> Result<Option<Caller>> {
    let Some((id, secret)) = token
        .strip_prefix("faro_")
        .and_then(|rest| rest.split_once('_'))
    else {
        return Ok(None);
    };
    let row: Option<(String, String, Vec<u8>)> = store.read(|db| {
        db.query_opt(
            "SELECT name, scope, secret_sha256 FROM api_tokens
             WHERE id = ?1 AND revoked_at IS NULL",
            params![id],
        )?
        .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .transpose()
    })?;
    let Some((name, scope, stored)) = row else {
        return Ok(None);
    };
    // Digests of a 256-bit secret: comparing them leaks nothing usable.
    if stored != digest(secret) {
        return Ok(None);
    }
    Ok(Scope::parse(&scope).map(|scope| Caller {
        token_id: id.to_owned(),
        name,
        scope,
    }))
}
