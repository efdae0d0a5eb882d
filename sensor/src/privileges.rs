//! Running without root: the sensor needs privileges only to open its
//! captures, and gives them up right after.
//!
//! Two ways to start it are supported:
//! - as an unprivileged user (systemd `User=faro` with
//!   `AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN`): after opening the
//!   captures it clears every capability set (ambient, inheritable,
//!   effective, permitted) and sets no-new-privileges;
//! - as root: after opening the captures it switches to the sensor's user
//!   (`--user`, default `faro`) — supplementary groups, then group, then user,
//!   real, effective and saved — having emptied the capability bounding set
//!   and set no-new-privileges, then checks that no capability is left and
//!   that root cannot be regained.
//!
//! Capabilities are per thread: [`Plan::apply`] must run before the sensor
//! spawns any thread (the others would keep them).
//!
//! Before capturing, [`check_state_dir`] and [`check_config_file`] refuse
//! unsafe set-ups; the private keys' modes are checked by the configuration's
//! own validation (`faro_firmware_config::load`), which `run` goes through.

use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _};
use std::path::Path;

use caps::CapSet;
use nix::unistd::{Gid, Uid, User};

use crate::run::RunError;

/// The user the sensor runs as once its captures are open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The user name (or the uid, for a uid without a name).
    pub name: String,
    /// Its uid.
    pub uid: Uid,
    /// Its primary group.
    pub gid: Gid,
}

impl Account {
    /// The user the process runs as (effective ids).
    pub fn current() -> Account {
        let uid = Uid::effective();
        Account {
            name: User::from_uid(uid)
                .ok()
                .flatten()
                .map_or_else(|| uid.to_string(), |u| u.name),
            uid,
            gid: Gid::effective(),
        }
    }
}

/// What happens to the process's privileges after the captures are open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Started as root: become this user, with no capability left.
    Switch(Account),
    /// Started as this unprivileged user: stay, clearing every capability.
    Stay(Account),
}

/// The user a live sensor switches to when started as root and not told otherwise.
pub const DEFAULT_USER: &str = "faro";

fn refused(reason: String) -> RunError {
    RunError::Refused(reason)
}

fn privileges(reason: String) -> RunError {
    RunError::Privileges(reason)
}

impl Plan {
    /// The plan for a process started by the current user, asked to run as
    /// `requested` (`--user`). Refuses running as root.
    pub fn for_current_user(requested: Option<&str>) -> Result<Plan, RunError> {
        let euid = Uid::effective();
        if euid.is_root() {
            let name = requested.unwrap_or(DEFAULT_USER);
            let user = User::from_name(name)
                .map_err(|e| privileges(format!("looking up user {name}: {e}")))?
                .ok_or_else(|| {
                    refused(format!(
                        "started as root, the sensor switches to user `{name}` once its captures are open, but there is no such user: create it (useradd --system --no-create-home {name}) or name another with --user"
                    ))
                })?;
            if user.uid.is_root() {
                return Err(refused(format!(
                    "user `{name}` is root (uid 0): the sensor does not capture as root; name an unprivileged user with --user"
                )));
            }
            Ok(Plan::Switch(Account {
                name: user.name,
                uid: user.uid,
                gid: user.gid,
            }))
        } else {
            let current = Account::current();
            if let Some(requested) = requested.filter(|r| *r != current.name) {
                return Err(refused(format!(
                    "--user {requested}: the sensor runs as {} and can switch users only when started as root",
                    current.name
                )));
            }
            Ok(Plan::Stay(current))
        }
    }

    /// The user the sensor runs as after [`Plan::apply`].
    pub fn account(&self) -> &Account {
        match self {
            Plan::Switch(account) | Plan::Stay(account) => account,
        }
    }

    /// Gives up the privileges: after it returns, the process runs as
    /// [`Plan::account`] with no capability in any set and cannot gain one
    /// again. Must run before any other thread is spawned.
    pub fn apply(&self) -> Result<(), RunError> {
        let threads = std::fs::read_dir("/proc/self/task").map_or(1, Iterator::count);
        if threads > 1 {
            return Err(privileges(format!(
                "{threads} threads already run: capabilities are per thread, so they must be given up before any other thread starts"
            )));
        }
        match self {
            Plan::Switch(account) => switch_user(account)?,
            Plan::Stay(_) => {
                nix::sys::prctl::set_no_new_privs()
                    .map_err(|e| privileges(format!("no-new-privileges: {e}")))?;
                clear_capabilities()?;
            }
        }
        verify(self.account(), matches!(self, Plan::Switch(_)))
    }
}

fn switch_user(account: &Account) -> Result<(), RunError> {
    use nix::unistd::{setgroups, setresgid, setresuid};
    let Account { name, uid, gid } = account;
    setgroups(&[*gid]).map_err(|e| privileges(format!("setgroups({gid}): {e}")))?;
    setresgid(*gid, *gid, *gid).map_err(|e| privileges(format!("setresgid({gid}): {e}")))?;
    // Empty the bounding set while CAP_SETPCAP is still held: nothing run
    // from here on (there is nothing) could ever regain a capability.
    let bounding = caps::read(None, CapSet::Bounding)
        .map_err(|e| privileges(format!("reading the bounding set: {e}")))?;
    for cap in bounding {
        caps::drop(None, CapSet::Bounding, cap)
            .map_err(|e| privileges(format!("dropping {cap} from the bounding set: {e}")))?;
    }
    nix::sys::prctl::set_no_new_privs()
        .map_err(|e| privileges(format!("no-new-privileges: {e}")))?;
    setresuid(*uid, *uid, *uid)
        .map_err(|e| privileges(format!("switching to user {name} ({uid}): {e}")))?;
    // The kernel cleared the permitted and effective sets on leaving uid 0;
    // clear them all anyway, ambient and inheritable included.
    clear_capabilities()
}

fn clear_capabilities() -> Result<(), RunError> {
    for set in [
        CapSet::Ambient,
        CapSet::Inheritable,
        CapSet::Effective,
        CapSet::Permitted,
    ] {
        caps::clear(None, set).map_err(|e| privileges(format!("clearing {set:?}: {e}")))?;
    }
    Ok(())
}

/// Checks that the process holds no capability and, after a switch, that
/// it is `account` in every uid and gid and cannot become root again.
fn verify(account: &Account, switched: bool) -> Result<(), RunError> {
    for set in [CapSet::Effective, CapSet::Permitted, CapSet::Ambient] {
        let held =
            caps::read(None, set).map_err(|e| privileges(format!("reading {set:?}: {e}")))?;
        if !held.is_empty() {
            return Err(privileges(format!("{set:?} capabilities left: {held:?}")));
        }
    }
    if !switched {
        return Ok(());
    }
    let ids = nix::unistd::getresuid().map_err(|e| privileges(format!("getresuid: {e}")))?;
    let gids = nix::unistd::getresgid().map_err(|e| privileges(format!("getresgid: {e}")))?;
    let (uid, gid) = (account.uid, account.gid);
    if [ids.real, ids.effective, ids.saved] != [uid; 3]
        || [gids.real, gids.effective, gids.saved] != [gid; 3]
    {
        return Err(privileges(format!(
            "still running as uids {}/{}/{}, gids {}/{}/{} instead of {uid}/{gid}",
            ids.real, ids.effective, ids.saved, gids.real, gids.effective, gids.saved
        )));
    }
    if nix::unistd::setuid(Uid::from_raw(0)).is_ok() {
        return Err(privileges("root could be regained".into()));
    }
    Ok(())
}

/// Makes sure the state directory is safe for `account` to keep its spool
/// and status in: created (mode 700, owned by `account`) if missing;
/// otherwise it must be a directory owned by `account` and writable by
/// neither group nor others (anyone who can write there can replace the
/// spool of signed summaries or the status).
pub fn check_state_dir(dir: &Path, account: &Account) -> Result<(), RunError> {
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| RunError::StateDir(format!("{}: {e}", dir.display())))?;
        if Uid::effective() != account.uid {
            nix::unistd::chown(dir, Some(account.uid), Some(account.gid)).map_err(|e| {
                RunError::StateDir(format!(
                    "{}: giving it to {}: {e}",
                    dir.display(),
                    account.name
                ))
            })?;
        }
        return Ok(());
    }
    let meta = std::fs::metadata(dir)
        .map_err(|e| RunError::StateDir(format!("{}: {e}", dir.display())))?;
    if !meta.is_dir() {
        return Err(refused(format!(
            "state directory {} is not a directory",
            dir.display()
        )));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(refused(format!(
            "state directory {} has mode {:03o}: it must not be writable by group or others (chmod 700)",
            dir.display(),
            mode & 0o777
        )));
    }
    if meta.uid() != account.uid.as_raw() {
        return Err(refused(format!(
            "state directory {} belongs to uid {}, but the sensor runs as {} (uid {}): chown {} {}",
            dir.display(),
            meta.uid(),
            account.name,
            account.uid,
            account.name,
            dir.display()
        )));
    }
    Ok(())
}

/// Refuses a configuration file that others may write: whoever can write it
/// can change the collector, the policy and the silenced rules, and reload
/// it with SIGHUP.
pub fn check_config_file(path: &Path) -> Result<(), RunError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| refused(format!("configuration {}: {e}", path.display())))?;
    let mode = meta.mode() & 0o777;
    if mode & 0o002 != 0 {
        return Err(refused(format!(
            "configuration {} has mode {mode:03o}: it must not be writable by others (chmod o-w)",
            path.display()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn me() -> Account {
        Account {
            name: "me".into(),
            uid: Uid::effective(),
            gid: Gid::effective(),
        }
    }

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("faro-privileges-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_missing_state_directory_is_created_private() {
        let dir = scratch("missing");
        check_state_dir(&dir.join("state"), &me()).unwrap();
        let mode = std::fs::metadata(dir.join("state")).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o700);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_state_directory_others_can_write_is_refused() {
        let dir = scratch("writable");
        std::fs::create_dir_all(&dir).unwrap();
        for mode in [0o777, 0o775, 0o1777] {
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode)).unwrap();
            let e = check_state_dir(&dir, &me()).unwrap_err().to_string();
            assert!(e.contains("must not be writable by group or others"), "{e}");
        }
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        check_state_dir(&dir, &me()).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_state_directory_of_another_user_is_refused() {
        let dir = scratch("owner");
        std::fs::create_dir_all(&dir).unwrap();
        let other = Account {
            name: "other".into(),
            uid: Uid::from_raw(Uid::effective().as_raw().wrapping_add(1)),
            gid: Gid::effective(),
        };
        let e = check_state_dir(&dir, &other).unwrap_err().to_string();
        assert!(e.contains("but the sensor runs as other"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_configuration_others_can_write_is_refused() {
        let dir = scratch("config");
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("faro.toml");
        std::fs::write(&file, "").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o646)).unwrap();
        let e = check_config_file(&file).unwrap_err().to_string();
        assert!(e.contains("must not be writable by others"), "{e}");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        check_config_file(&file).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn users_that_cannot_run_the_sensor_are_refused() {
        if Uid::effective().is_root() {
            let e = Plan::for_current_user(Some("root"))
                .unwrap_err()
                .to_string();
            assert!(e.contains("is root"), "{e}");
            let e = Plan::for_current_user(Some("faro-no-such-user"))
                .unwrap_err()
                .to_string();
            assert!(e.contains("there is no such user"), "{e}");
        } else {
            let e = Plan::for_current_user(Some("faro-no-such-user"))
                .unwrap_err()
                .to_string();
            assert!(e.contains("only when started as root"), "{e}");
        }
    }
}
