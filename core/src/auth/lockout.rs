//! Account lockout: `threshold` consecutive failures lock the account for `base`, doubling with every
//! further lock up to `max`. Failures are counted per submitted username whether or not the user exists
//! (existing users in `app_users`, unknown names in the cache), so the answers look the same for both.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::AuthSettings;

/// The lockout counters of one login name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockState {
    pub failed_attempts: i64,
    pub locked_until: Option<DateTime<Utc>>,
    pub lockout_count: i64,
}

impl LockState {
    /// The lock in force at `now`, as the time left.
    pub fn remaining(&self, now: DateTime<Utc>) -> Option<Duration> {
        self.locked_until.filter(|until| *until > now).and_then(|until| (until - now).to_std().ok())
    }

    /// The state after one more failure at `now`; `locked` says whether this failure started a lock.
    pub fn after_failure(self, now: DateTime<Utc>, settings: &AuthSettings) -> (LockState, bool) {
        let failed = self.failed_attempts + 1;
        if failed < i64::from(settings.lockout_threshold) {
            return (LockState { failed_attempts: failed, ..self }, false);
        }
        let duration = lock_duration(self.lockout_count, settings);
        let until = now + chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::hours(24));
        (
            LockState {
                failed_attempts: 0,
                locked_until: Some(until),
                lockout_count: self.lockout_count + 1,
            },
            true,
        )
    }

    /// The state after a successful sign-in: the owner is back, so counters and doubling start over.
    pub fn after_success(self) -> LockState {
        LockState::default()
    }
}

/// How long the `n`-th lock (0-based) lasts: base × 2ⁿ, capped.
pub fn lock_duration(previous_locks: i64, settings: &AuthSettings) -> Duration {
    let factor = 2u32.saturating_pow(u32::try_from(previous_locks.clamp(0, 31)).unwrap_or(31));
    settings.lockout_base.saturating_mul(factor).min(settings.lockout_max)
}

/// The message of a locked account (the same for existing and unknown names).
pub fn locked_message(remaining: Duration) -> String {
    let minutes = remaining.as_secs().div_ceil(60).max(1);
    format!("too many failed sign-ins: the account is locked; try again in {minutes} min")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> AuthSettings {
        AuthSettings::default()
    }

    #[test]
    fn five_failures_lock_for_fifteen_minutes_then_doubling_up_to_a_day() {
        let s = settings();
        let now = Utc::now();
        let mut state = LockState::default();
        for i in 1..5 {
            let (next, locked) = state.after_failure(now, &s);
            assert!(!locked, "failure {i} must not lock");
            assert_eq!(next.failed_attempts, i);
            state = next;
        }
        let (state, locked) = state.after_failure(now, &s);
        assert!(locked);
        assert_eq!(state.remaining(now), Some(Duration::from_secs(15 * 60)));
        assert_eq!(state.failed_attempts, 0);
        assert_eq!(state.lockout_count, 1);

        let expected = [30, 60, 120, 240, 480, 960, 1440, 1440];
        let mut state = state;
        for minutes in expected {
            for _ in 0..4 {
                state = state.after_failure(now, &s).0;
            }
            let (next, locked) = state.after_failure(now, &s);
            assert!(locked);
            assert_eq!(next.remaining(now), Some(Duration::from_secs(minutes * 60)), "{next:?}");
            state = next;
        }
    }

    #[test]
    fn success_resets_everything_and_expired_locks_are_not_in_force() {
        let s = settings();
        let now = Utc::now();
        let state = LockState {
            failed_attempts: 3,
            locked_until: Some(now - chrono::Duration::seconds(1)),
            lockout_count: 2,
        };
        assert_eq!(state.remaining(now), None);
        assert_eq!(state.after_success(), LockState::default());
        assert_eq!(lock_duration(0, &s), Duration::from_secs(900));
        assert_eq!(lock_duration(100, &s), Duration::from_secs(86_400));
        assert!(locked_message(Duration::from_secs(61)).contains("2 min"));
    }
}
