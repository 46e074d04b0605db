//! Single flight with shared failures: the one way every source of remote state (client
//! credentials from Secrets Manager, a scope set's token, a JWKS) fetches it.
//!
//! One fetch runs at a time. A caller that waited while another fetched learns what that fetch
//! did ([`Meanwhile`]) and uses its outcome instead of fetching again, and the last failure is
//! kept ([`SingleFlight::failure`]) so that callers arriving within a short cooldown get it
//! back at once instead of each paying for a fetch of their own against a server that is down.
//! How long a fetch may take is the fetcher's business (each source bounds its own): waiters
//! wait at most as long as the fetch they wait for, which started before they arrived.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// The fetches of one piece of remote state. `F` describes a failure (an error, with whatever
/// the source needs to tell whether it still applies).
#[derive(Debug)]
pub struct SingleFlight<F> {
    /// Held for the whole of a fetch.
    flight: Arc<AsyncMutex<()>>,
    /// Fetches finished (any outcome), so a caller that waited knows whether one finished.
    completed: AtomicU64,
    /// The last fetch's failure, cleared by a success.
    failure: Mutex<Option<Failure<F>>>,
}

/// A failed fetch.
#[derive(Debug, Clone)]
pub struct Failure<F> {
    /// When it failed (the source's monotonic clock).
    pub at: Instant,
    /// What went wrong.
    pub cause: F,
    /// The `completed` count once it was recorded.
    number: u64,
}

impl<F> Failure<F> {
    /// Whether it is less than `cooldown` old at `now`.
    pub fn is_cooling(&self, now: Instant, cooldown: Duration) -> bool {
        now < self.at + cooldown
    }
}

/// What happened while a caller waited to fetch.
#[derive(Debug)]
pub enum Meanwhile<F> {
    /// No fetch finished: the caller's view of the state is current.
    Nothing,
    /// A fetch succeeded: the state is fresh.
    Succeeded,
    /// A fetch failed: answer with its failure rather than failing the same way again.
    Failed(Failure<F>),
}

/// The right to fetch: held, no other fetch of the same state runs. Outcomes are recorded
/// with [`SingleFlight::succeeded`] and [`SingleFlight::failed`], which take it as proof.
#[derive(Debug)]
pub struct Flight {
    _held: OwnedMutexGuard<()>,
}

impl<F> Default for SingleFlight<F> {
    fn default() -> Self {
        Self {
            flight: Arc::new(AsyncMutex::new(())),
            completed: AtomicU64::new(0),
            failure: Mutex::new(None),
        }
    }
}

impl<F: Clone> SingleFlight<F> {
    /// Waits until no fetch runs, then holds the flight; says what a fetch finished meanwhile
    /// did, so the caller can share its outcome.
    pub async fn enter(&self) -> (Flight, Meanwhile<F>) {
        let seen = self.completed.load(Ordering::SeqCst);
        let flight = Flight {
            _held: self.flight.clone().lock_owned().await,
        };
        let meanwhile = if self.completed.load(Ordering::SeqCst) == seen {
            Meanwhile::Nothing
        } else {
            match self.failure() {
                Some(failure) if failure.number > seen => Meanwhile::Failed(failure),
                _ => Meanwhile::Succeeded,
            }
        };
        (flight, meanwhile)
    }

    /// The flight, if no fetch runs now (for background refreshes, which never wait).
    pub fn try_enter(&self) -> Option<Flight> {
        let held = self.flight.clone().try_lock_owned().ok()?;
        Some(Flight { _held: held })
    }

    /// The last fetch's failure, unless a success came after it.
    pub fn failure(&self) -> Option<Failure<F>> {
        self.failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The last failure if it is less than `cooldown` old at `now`: the answer to give instead
    /// of fetching again.
    pub fn cooling(&self, now: Instant, cooldown: Duration) -> Option<Failure<F>> {
        self.failure().filter(|f| f.is_cooling(now, cooldown))
    }

    /// Records a successful fetch, clearing the failure.
    pub fn succeeded(&self, _flight: &Flight) {
        *self.failure.lock().unwrap_or_else(|e| e.into_inner()) = None;
        self.completed.fetch_add(1, Ordering::SeqCst);
    }

    /// Records a failed fetch at `at`.
    pub fn failed(&self, _flight: &Flight, at: Instant, cause: F) {
        let mut failure = self.failure.lock().unwrap_or_else(|e| e.into_inner());
        let number = self.completed.fetch_add(1, Ordering::SeqCst) + 1;
        *failure = Some(Failure { at, cause, number });
    }

    /// Records a fetch that ended without an outcome worth keeping (the state was not
    /// changed, nor is there a failure to share): waiters see [`Meanwhile::Succeeded`] and
    /// look at the state again.
    pub fn finished(&self, _flight: &Flight) {
        self.completed.fetch_add(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waiters_share_the_outcome_of_the_fetch_they_waited_for() {
        let gate = Arc::new(SingleFlight::<&'static str>::default());
        let (flight, meanwhile) = gate.enter().await;
        assert!(matches!(meanwhile, Meanwhile::Nothing));
        assert!(gate.try_enter().is_none(), "one fetch at a time");
        let waiter = tokio::spawn({
            let gate = gate.clone();
            async move { gate.enter().await.1 }
        });
        tokio::task::yield_now().await;
        let now = Instant::now();
        gate.failed(&flight, now, "down");
        drop(flight);
        match waiter.await.unwrap() {
            Meanwhile::Failed(failure) => assert_eq!(failure.cause, "down"),
            other => panic!("the waiter should get the failure: {other:?}"),
        }
        // Cooling for a while, then not any more; a success clears it.
        assert!(gate.cooling(now, Duration::from_secs(1)).is_some());
        assert!(
            gate.cooling(now + Duration::from_secs(1), Duration::from_secs(1))
                .is_none()
        );
        let (flight, meanwhile) = gate.enter().await;
        assert!(matches!(meanwhile, Meanwhile::Nothing));
        let waiter = tokio::spawn({
            let gate = gate.clone();
            async move { gate.enter().await.1 }
        });
        tokio::task::yield_now().await;
        gate.succeeded(&flight);
        drop(flight);
        assert!(matches!(waiter.await.unwrap(), Meanwhile::Succeeded));
        assert!(gate.failure().is_none());
    }
}
