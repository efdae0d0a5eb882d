//! The spool: the durable on-disk queue of signed summaries waiting for the
//! collector's acknowledgement, and the home of the summary sequence number.
//!
//! Stored with redb (stable file format, crash-safe commits; sled is beta and
//! says its format will change). Every mutation is one write transaction
//! committed with redb's default durability (fsync before `commit` returns),
//! so what [`Spool::push`] accepted survives a crash or power cut.
//!
//! The spool is bounded by the total size of the envelopes it holds
//! (`max_bytes`, not the file size, which includes redb's pages and free
//! space): a push that would exceed it sheds the oldest summaries first,
//! never the one being pushed, and counts them.

use std::path::Path;

use redb::{Database, ReadableTable as _, ReadableTableMetadata as _, TableDefinition};

/// Sequence → JWS compact envelope.
const SUMMARIES: TableDefinition<'_, u64, &str> = TableDefinition::new("summaries");
/// Counters that must outlive the summaries they describe.
const META: TableDefinition<'_, &str, u64> = TableDefinition::new("meta");
/// The last sequence ever issued + 1.
const NEXT_SEQUENCE: &str = "next_sequence";
/// Summaries shed to keep within the bound, ever.
const SHED: &str = "shed";

/// Why the spool failed.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// The database file could not be opened, read or written (boxed: redb's
    /// error is large and the spool's results are on the sensor's hot path).
    #[error("spool storage: {0}")]
    Storage(Box<redb::Error>),
    /// Sequences are never reused: the collector would take it for a replay.
    #[error("sequence {sequence} was already issued (the next is {next})")]
    SequenceReused {
        /// The sequence pushed.
        sequence: u64,
        /// The smallest sequence the spool accepts.
        next: u64,
    },
    /// One envelope larger than the whole spool can never be stored.
    #[error("summary of {size} bytes is larger than the spool's bound of {max_bytes} bytes")]
    TooLarge {
        /// The envelope's size.
        size: u64,
        /// The spool's bound.
        max_bytes: u64,
    },
}

/// redb has one error type per operation; the spool reports them as one.
macro_rules! storage_error {
    ($($ty:ident),*) => {$(
        impl From<redb::$ty> for SpoolError {
            fn from(e: redb::$ty) -> Self {
                Self::Storage(Box::new(e.into()))
            }
        }
    )*};
}
storage_error!(
    DatabaseError,
    TransactionError,
    TableError,
    StorageError,
    CommitError
);

/// What a push did besides storing the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pushed {
    /// Oldest summaries removed to stay within the bound.
    pub shed: u64,
}

/// The durable queue of signed summaries, oldest first.
pub struct Spool {
    db: Database,
    max_bytes: u64,
    next_sequence: u64,
    shed: u64,
    len: u64,
    bytes: u64,
}

impl Spool {
    /// Opens (or creates) the spool at `path`, holding at most `max_bytes`
    /// of envelopes. Fails if another process has it open.
    pub fn open(path: &Path, max_bytes: u64) -> Result<Spool, SpoolError> {
        let db = Database::create(path)?;
        let txn = db.begin_write()?;
        let (next_sequence, shed, len, bytes) = {
            // Opening the tables creates them, so readers never miss them.
            let meta = txn.open_table(META)?;
            let summaries = txn.open_table(SUMMARIES)?;
            let next_sequence = meta.get(NEXT_SEQUENCE)?.map_or(1, |v| v.value());
            let shed = meta.get(SHED)?.map_or(0, |v| v.value());
            let mut bytes = 0u64;
            for entry in summaries.iter()? {
                let (_, jws) = entry?;
                bytes = bytes.saturating_add(jws.value().len() as u64);
            }
            (next_sequence, shed, summaries.len()?, bytes)
        };
        txn.commit()?;
        Ok(Spool {
            db,
            max_bytes,
            next_sequence,
            shed,
            len,
            bytes,
        })
    }

    /// The sequence of the next summary: the last one ever pushed + 1 (1 for
    /// a new spool), across restarts and whatever was removed or shed.
    pub fn next_sequence(&self) -> u64 {
        self.next_sequence
    }

    /// Stores a signed summary; durable when this returns. Sheds the oldest
    /// summaries if the bound would be exceeded.
    pub fn push(&mut self, sequence: u64, jws: &str) -> Result<Pushed, SpoolError> {
        if sequence < self.next_sequence {
            return Err(SpoolError::SequenceReused {
                sequence,
                next: self.next_sequence,
            });
        }
        let size = jws.len() as u64;
        if size > self.max_bytes {
            return Err(SpoolError::TooLarge {
                size,
                max_bytes: self.max_bytes,
            });
        }
        let next_sequence = sequence.saturating_add(1);
        let mut bytes = self.bytes;
        let mut len = self.len;
        let mut shed = 0u64;
        let txn = self.db.begin_write()?;
        {
            let mut summaries = txn.open_table(SUMMARIES)?;
            while bytes.saturating_add(size) > self.max_bytes {
                let Some((_, old)) = summaries.pop_first()? else {
                    break;
                };
                bytes = bytes.saturating_sub(old.value().len() as u64);
                len = len.saturating_sub(1);
                shed += 1;
            }
            summaries.insert(sequence, jws)?;
            let mut meta = txn.open_table(META)?;
            meta.insert(NEXT_SEQUENCE, next_sequence)?;
            meta.insert(SHED, self.shed.saturating_add(shed))?;
        }
        txn.commit()?;
        // Only once committed: a failed push leaves the counters as on disk.
        self.next_sequence = next_sequence;
        self.shed = self.shed.saturating_add(shed);
        self.bytes = bytes.saturating_add(size);
        self.len = len.saturating_add(1);
        Ok(Pushed { shed })
    }

    /// The oldest summary still waiting, with its sequence.
    pub fn oldest(&self) -> Result<Option<(u64, String)>, SpoolError> {
        let txn = self.db.begin_read()?;
        let summaries = txn.open_table(SUMMARIES)?;
        Ok(summaries
            .first()?
            .map(|(sequence, jws)| (sequence.value(), jws.value().to_owned())))
    }

    /// Removes a summary the collector acknowledged; `false` if it was not
    /// there (already removed or shed).
    pub fn remove(&mut self, sequence: u64) -> Result<bool, SpoolError> {
        let txn = self.db.begin_write()?;
        let removed = {
            let mut summaries = txn.open_table(SUMMARIES)?;
            summaries
                .remove(sequence)?
                .map(|jws| jws.value().len() as u64)
        };
        txn.commit()?;
        if let Some(size) = removed {
            self.bytes = self.bytes.saturating_sub(size);
            self.len = self.len.saturating_sub(1);
        }
        Ok(removed.is_some())
    }

    /// Summaries waiting.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether no summary is waiting.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Total size of the envelopes waiting.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Summaries shed to stay within the bound since the spool was created.
    pub fn shed_count(&self) -> u64 {
        self.shed
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use std::hash::{BuildHasher as _, RandomState};
    use std::io::{BufRead as _, Write as _};
    use std::path::PathBuf;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    fn temp_path(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("faro-spool-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("spool.redb")
    }

    /// A stand-in envelope whose content says its sequence.
    fn jws(sequence: u64, size: usize) -> String {
        let head = format!("jws-{sequence}-");
        format!("{head}{}", "x".repeat(size.saturating_sub(head.len())))
    }

    #[test]
    fn a_new_spool_is_empty_and_starts_at_one() {
        let spool = Spool::open(&temp_path("new"), 1 << 20).unwrap();
        assert_eq!(spool.next_sequence(), 1);
        assert_eq!(spool.oldest().unwrap(), None);
        assert!(spool.is_empty());
        assert_eq!((spool.len(), spool.bytes(), spool.shed_count()), (0, 0, 0));
    }

    #[test]
    fn summaries_come_out_oldest_first() {
        let mut spool = Spool::open(&temp_path("order"), 1 << 20).unwrap();
        for sequence in 1..=5 {
            assert_eq!(
                spool.push(sequence, &jws(sequence, 100)).unwrap(),
                Pushed { shed: 0 }
            );
        }
        assert_eq!((spool.len(), spool.bytes()), (5, 500));
        for sequence in 1..=5 {
            let (oldest, text) = spool.oldest().unwrap().unwrap();
            assert_eq!((oldest, text), (sequence, jws(sequence, 100)));
            assert!(spool.remove(sequence).unwrap());
        }
        assert!(!spool.remove(3).unwrap());
        assert_eq!(spool.oldest().unwrap(), None);
        assert_eq!((spool.len(), spool.bytes()), (0, 0));
        // Removing everything does not reset the sequence.
        assert_eq!(spool.next_sequence(), 6);
    }

    #[test]
    fn sequences_and_contents_survive_reopening() {
        let path = temp_path("reopen");
        {
            let mut spool = Spool::open(&path, 1 << 20).unwrap();
            for sequence in 1..=4 {
                spool.push(sequence, &jws(sequence, 50)).unwrap();
            }
            spool.remove(1).unwrap();
        }
        let mut spool = Spool::open(&path, 1 << 20).unwrap();
        assert_eq!(spool.next_sequence(), 5);
        assert_eq!((spool.len(), spool.bytes()), (3, 150));
        assert_eq!(spool.oldest().unwrap(), Some((2, jws(2, 50))));
        // Everything acknowledged: the sequence still goes on after a restart.
        for sequence in 2..=4 {
            spool.remove(sequence).unwrap();
        }
        drop(spool);
        let spool = Spool::open(&path, 1 << 20).unwrap();
        assert_eq!(spool.next_sequence(), 5);
        assert!(spool.is_empty());
    }

    #[test]
    fn a_sequence_is_never_reused() {
        let mut spool = Spool::open(&temp_path("reuse"), 1 << 20).unwrap();
        spool.push(1, "a").unwrap();
        spool.remove(1).unwrap();
        assert!(matches!(
            spool.push(1, "b"),
            Err(SpoolError::SequenceReused {
                sequence: 1,
                next: 2
            })
        ));
        // A gap is allowed (the caller may have skipped numbers); never back.
        spool.push(7, "c").unwrap();
        assert_eq!(spool.next_sequence(), 8);
    }

    #[test]
    fn the_oldest_are_shed_to_stay_within_the_bound_and_counted() {
        let path = temp_path("bound");
        let mut spool = Spool::open(&path, 1000).unwrap();
        for sequence in 1..=4 {
            assert_eq!(spool.push(sequence, &jws(sequence, 250)).unwrap().shed, 0);
        }
        assert_eq!(spool.bytes(), 1000);
        // One more of 250 bytes: the oldest goes.
        assert_eq!(spool.push(5, &jws(5, 250)).unwrap(), Pushed { shed: 1 });
        assert_eq!(spool.oldest().unwrap().unwrap().0, 2);
        // One of 600 bytes needs three of the oldest gone.
        assert_eq!(spool.push(6, &jws(6, 600)).unwrap(), Pushed { shed: 3 });
        assert_eq!((spool.len(), spool.bytes()), (2, 850));
        assert_eq!(spool.oldest().unwrap().unwrap().0, 5);
        assert_eq!(spool.shed_count(), 4);
        // Larger than the whole bound: refused, nothing shed.
        assert!(matches!(
            spool.push(7, &jws(7, 1001)),
            Err(SpoolError::TooLarge {
                size: 1001,
                max_bytes: 1000
            })
        ));
        assert_eq!((spool.len(), spool.shed_count()), (2, 4));
        drop(spool);
        let spool = Spool::open(&path, 1000).unwrap();
        assert_eq!(spool.shed_count(), 4);
        assert_eq!((spool.len(), spool.bytes()), (2, 850));
        assert_eq!(spool.next_sequence(), 7);
    }

    #[test]
    fn a_spool_open_elsewhere_is_an_error() {
        let path = temp_path("locked");
        let _spool = Spool::open(&path, 1000).unwrap();
        let err = Spool::open(&path, 1000).err().unwrap();
        assert!(err.to_string().starts_with("spool storage:"), "{err}");
    }

    /// Set for the child process of the crash test: the spool to push into.
    const CRASH_CHILD_ENV: &str = "FARO_SPOOL_CRASH_CHILD";

    /// The crash test's child: pushes until killed, printing each sequence
    /// once `push` has returned. Does nothing in a normal test run.
    #[test]
    fn crash_child() {
        let Some(path) = std::env::var_os(CRASH_CHILD_ENV) else {
            return;
        };
        let mut spool = Spool::open(Path::new(&path), 1 << 30).unwrap();
        let mut stdout = std::io::stdout().lock();
        loop {
            let sequence = spool.next_sequence();
            spool.push(sequence, &jws(sequence, 2000)).unwrap();
            writeln!(stdout, "pushed {sequence}").unwrap();
            stdout.flush().unwrap();
        }
    }

    /// Kills a pushing process with SIGKILL at random moments: the spool
    /// always reopens, holds every push reported complete, and never issues
    /// a sequence twice.
    #[test]
    fn every_completed_push_survives_sigkill() {
        let path = temp_path("crash");
        let random = RandomState::new();
        let mut last_reported = 0u64;
        let mut total = 0usize;
        for round in 0..20u64 {
            let mut child = Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "spool::tests::crash_child", "--nocapture"])
                .env(CRASH_CHILD_ENV, &path)
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            // Between 20 and 150 ms: from before the first push to many in.
            let delay = 20 + random.hash_one(round) % 130;
            std::thread::sleep(Duration::from_millis(delay));
            child.kill().unwrap();
            let stdout = child.stdout.take().unwrap();
            child.wait().unwrap();
            let reported: Vec<u64> = std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .filter_map(|line| line.strip_prefix("pushed ")?.parse().ok())
                .collect();
            let spool = Spool::open(&path, 1 << 30).unwrap();
            for &sequence in &reported {
                assert!(sequence > last_reported, "sequence {sequence} issued twice");
                last_reported = sequence;
            }
            assert!(spool.next_sequence() > last_reported);
            let txn = spool.db.begin_read().unwrap();
            let table = txn.open_table(SUMMARIES).unwrap();
            for &sequence in &reported {
                let stored = table.get(sequence).unwrap();
                let stored = stored.unwrap_or_else(|| panic!("push {sequence} lost"));
                assert_eq!(stored.value(), jws(sequence, 2000));
            }
            total += reported.len();
        }
        assert!(total > 0, "the child never pushed");
        println!("{total} completed pushes checked over 20 kills");
    }

    /// Pushes per second of realistic 20 KiB envelopes (bench/spool.sh).
    #[test]
    #[ignore = "a measurement, run by bench/spool.sh"]
    fn push_rate() {
        let path = temp_path("rate");
        let count: u64 = std::env::var("FARO_SPOOL_BENCH_PUSHES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(500);
        let mut spool = Spool::open(&path, 64 << 20).unwrap();
        let start = Instant::now();
        for sequence in 1..=count {
            spool.push(sequence, &jws(sequence, 20 * 1024)).unwrap();
        }
        let elapsed = start.elapsed().as_secs_f64();
        println!(
            "spool: {count} pushes of 20 KiB in {elapsed:.2} s = {:.0} pushes/s ({} shed)",
            count as f64 / elapsed,
            spool.shed_count()
        );
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }
}
