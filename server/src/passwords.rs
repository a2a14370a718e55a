//! argon2id hashing, off the async runtime and bounded (STYLE 14): its own threads, one core
//! fewer than the machine has, a short queue, and past that the server answers 429 at once.
//! The hashing threads run at a lower OS priority (Linux `nice` 10), so a sign-in storm takes
//! the CPU the requests that do not hash leave idle, rather than an equal share of it.

use crate::error::ApiError;
use anyhow::anyhow;
use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString, rand_core::OsRng,
};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use tokio::sync::{Semaphore, oneshot};

type Work = Box<dyn FnOnce() + Send>;

#[derive(Clone)]
pub struct PasswordHasher {
    /// The queue the hashing threads take their work from.
    work: mpsc::Sender<Work>,
    admitted: Arc<Semaphore>,
    /// How many the semaphore admits: the hashes running and waiting, at most.
    limit: usize,
    /// Hashes a hashing thread is working on now.
    running: Arc<AtomicUsize>,
    /// Verified against when the email is unknown, so a miss costs as long as a hit.
    decoy_hash: Arc<String>,
}

const QUEUE_PER_CORE: usize = 16;
const RETRY_AFTER_SECS: u64 = 1;
/// The hashing threads' `nice` value: 10 gives them about a tenth of a core that requests also
/// want, all of an idle one.
const HASHING_NICE: i32 = 10;

impl PasswordHasher {
    pub fn new() -> anyhow::Result<Self> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let decoy_hash = hash_now("decoy password for unknown accounts 4F2A")?;
        // One core is left to the requests that do not hash: a sign-in storm must not starve
        // every signed-in read (measured by `benches/signin_storm.rs`).
        let (work, queue) = mpsc::channel::<Work>();
        let queue = Arc::new(Mutex::new(queue));
        let running = Arc::new(AtomicUsize::new(0));
        for n in 0..cores.saturating_sub(1).max(1) {
            let queue = queue.clone();
            let running = running.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    lower_priority();
                    // The lock is held only while waiting for the next piece of work.
                    while let Ok(next) = queue
                        .lock()
                        .map_err(drop)
                        .and_then(|q| q.recv().map_err(drop))
                    {
                        // A panic ends that piece of work (its caller gets an error), not the
                        // thread: a thread lost for good would shrink hashing until a restart.
                        running.fetch_add(1, Ordering::Relaxed);
                        let ran = std::panic::catch_unwind(AssertUnwindSafe(next));
                        running.fetch_sub(1, Ordering::Relaxed);
                        if ran.is_err() {
                            tracing::error!("a password hash panicked; the hashing thread goes on");
                        }
                    }
                })?;
        }
        let limit = cores * QUEUE_PER_CORE;
        Ok(PasswordHasher {
            work,
            admitted: Arc::new(Semaphore::new(limit)),
            limit,
            running,
            decoy_hash: Arc::new(decoy_hash),
        })
    }

    /// The hashes under way now, for the metrics: a moment's reading of two counters that move
    /// independently, so `waiting` may be off by one or two while hashes start and end.
    pub fn load(&self) -> HashLoad {
        let admitted = self.limit - self.admitted.available_permits();
        let running = self.running.load(Ordering::Relaxed);
        HashLoad {
            running,
            waiting: admitted.saturating_sub(running),
            limit: self.limit,
        }
    }

    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        self.run(move || hash_now(&password))
            .await?
            .map_err(ApiError::Internal)
    }

    /// Checks `password` against `stored`, or against a decoy when there is no account.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, ApiError> {
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| self.decoy_hash.as_ref().clone());
        let matches = self
            .run(move || {
                let parsed =
                    PasswordHash::new(&hash).map_err(|e| anyhow!("stored hash unreadable: {e}"))?;
                Ok::<_, anyhow::Error>(
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok(),
                )
            })
            .await?
            .map_err(ApiError::Internal)?;
        Ok(known && matches)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let _admitted =
            self.admitted
                .clone()
                .try_acquire_owned()
                .map_err(|_| ApiError::ServerBusy {
                    retry_after: RETRY_AFTER_SECS,
                })?;
        let (done, result) = oneshot::channel();
        self.work
            .send(Box::new(move || {
                let _ = done.send(work());
            }))
            .map_err(|_| ApiError::Internal(anyhow!("the hashing threads are gone")))?;
        result
            .await
            .map_err(|_| ApiError::Internal(anyhow!("a hashing thread stopped mid-hash")))
    }
}

/// What [`PasswordHasher::load`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashLoad {
    /// On a hashing thread now.
    pub running: usize,
    /// Admitted and waiting for a hashing thread.
    pub waiting: usize,
    /// How many may be running and waiting together; past it the server answers 429.
    pub limit: usize,
}

/// Lowers the calling thread's scheduling priority. On Linux `nice` is a per-thread value, so
/// this touches only the hashing thread; elsewhere hashing keeps the normal priority.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority only reads its integer arguments; `who` 0 is the calling thread.
    let changed = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, HASHING_NICE) } == 0;
    #[cfg(not(target_os = "linux"))]
    let changed = false;
    if !changed {
        tracing::debug!("hashing runs at the normal priority");
    }
}

/// argon2id with the crate's defaults (19 MiB, 2 passes, 1 lane: OWASP's first choice).
fn hash_now(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow!("argon2 failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_with_argon2id_and_verifies() {
        let hasher = PasswordHasher::new().unwrap();
        let hash = hasher.hash("Correct7Horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(
            hasher
                .verify("Correct7Horse".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify("Wrong7Horse".into(), Some(hash))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn an_unknown_account_never_verifies_even_with_the_decoy_password() {
        let hasher = PasswordHasher::new().unwrap();
        let decoy = "decoy password for unknown accounts 4F2A".to_owned();
        assert!(!hasher.verify(decoy, None).await.unwrap());
    }

    #[tokio::test]
    async fn a_panic_while_hashing_fails_that_request_and_keeps_every_thread() {
        let hasher = PasswordHasher::new().unwrap();
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        // More panics than there are hashing threads: each would have ended one.
        for _ in 0..=threads {
            let failed = hasher.run::<()>(|| panic!("test panic")).await.unwrap_err();
            assert!(matches!(failed, ApiError::Internal(_)), "{failed:?}");
        }
        assert!(hasher.hash("Correct7Horse".into()).await.is_ok());
    }

    /// Waits, a millisecond at a time, until `hasher`'s load is `wanted`: the hashing threads
    /// change it on their own time.
    async fn load_becomes(hasher: &PasswordHasher, wanted: (usize, usize)) {
        let reached = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            while (hasher.load().running, hasher.load().waiting) != wanted {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
        });
        assert!(reached.await.is_ok(), "{:?}, not {wanted:?}", hasher.load());
    }

    #[tokio::test]
    async fn the_load_counts_a_hash_while_a_thread_works_on_it() {
        let hasher = PasswordHasher::new().unwrap();
        assert_eq!((hasher.load().running, hasher.load().waiting), (0, 0));
        assert_eq!(hasher.load().limit, hasher.admitted.available_permits());
        let (release, held) = mpsc::channel::<()>();
        let busy = tokio::spawn({
            let hasher = hasher.clone();
            async move { hasher.run(move || held.recv().is_ok()).await }
        });
        load_becomes(&hasher, (1, 0)).await;
        release.send(()).unwrap();
        assert!(busy.await.unwrap().unwrap());
        load_becomes(&hasher, (0, 0)).await;
    }

    #[tokio::test]
    async fn past_the_queue_the_hasher_refuses_instead_of_waiting() {
        let hasher = PasswordHasher::new().unwrap();
        let held = hasher
            .admitted
            .clone()
            .acquire_many_owned(hasher.admitted.available_permits() as u32)
            .await
            .unwrap();
        let refused = hasher.hash("Correct7Horse".into()).await.unwrap_err();
        assert!(
            matches!(refused, ApiError::ServerBusy { .. }),
            "{refused:?}"
        );
        let load = hasher.load();
        assert_eq!(load.running + load.waiting, load.limit, "{load:?}");
        drop(held);
        assert!(hasher.hash("Correct7Horse".into()).await.is_ok());
    }
}
