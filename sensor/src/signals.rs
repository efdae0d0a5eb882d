//! The running sensor's signals as events its main loop reads: SIGTERM and
//! SIGINT stop it (a last summary is spooled first), SIGHUP reloads the
//! configuration.
//!
//! The three signals are blocked and read from a signalfd, which the main
//! loop polls beside the capture handles: no handler runs at an arbitrary
//! point, and a signal wakes the loop at once. The mask must be set before
//! any other thread starts, so that every thread inherits it and none takes
//! the default action (termination) instead.

use std::os::fd::{AsFd, BorrowedFd};

use nix::sys::signal::{SigSet, Signal as NixSignal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use crate::run::RunError;

/// What a signal asks of the sensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGTERM or SIGINT (named): spool a last summary and exit.
    Stop(&'static str),
    /// SIGHUP: read the configuration again.
    Reload,
}

/// SIGTERM, SIGINT and SIGHUP, blocked and readable from a descriptor.
#[derive(Debug)]
pub struct Signals {
    fd: SignalFd,
}

impl Signals {
    /// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread and opens a
    /// non-blocking signalfd for them. Call it before spawning any thread.
    pub fn take_over() -> Result<Signals, RunError> {
        let mut mask = SigSet::empty();
        for signal in [NixSignal::SIGTERM, NixSignal::SIGINT, NixSignal::SIGHUP] {
            mask.add(signal);
        }
        mask.thread_block()
            .map_err(|e| RunError::Signals(format!("blocking: {e}")))?;
        let fd = SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
            .map_err(|e| RunError::Signals(format!("signalfd: {e}")))?;
        Ok(Signals { fd })
    }

    /// The next signal received, if any (never blocks).
    pub fn next(&self) -> Option<Signal> {
        loop {
            let info = self.fd.read_signal().ok()??;
            let signal = i32::try_from(info.ssi_signo).ok()?;
            match NixSignal::try_from(signal) {
                Ok(NixSignal::SIGTERM) => return Some(Signal::Stop("SIGTERM")),
                Ok(NixSignal::SIGINT) => return Some(Signal::Stop("SIGINT")),
                Ok(NixSignal::SIGHUP) => return Some(Signal::Reload),
                // Not one of ours: read the next.
                _ => {}
            }
        }
    }

    /// The descriptor to poll for readability.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
