//! The cache abstraction: one behaviour, two implementations (in-process and Redis).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use tessera_core::testing::{redis_url, unique_name};
use tessera_core::Cache;

async fn both_caches() -> Vec<Cache> {
    let prefix = format!("{}:", unique_name("tessera-test"));
    vec![Cache::memory(), Cache::redis(&redis_url(), &prefix).await.unwrap()]
}

#[tokio::test]
async fn set_get_delete() {
    for cache in both_caches().await {
        let kind = cache.kind();
        assert_eq!(cache.get("a").await.unwrap(), None, "{kind}");
        cache.set("a", b"one", None).await.unwrap();
        assert_eq!(cache.get("a").await.unwrap().as_deref(), Some(&b"one"[..]), "{kind}");
        cache.set("a", b"two", Some(Duration::from_secs(60))).await.unwrap();
        assert_eq!(cache.get("a").await.unwrap().as_deref(), Some(&b"two"[..]), "{kind}");
        assert!(cache.delete("a").await.unwrap(), "{kind}");
        assert!(!cache.delete("a").await.unwrap(), "{kind}");
        assert_eq!(cache.get("a").await.unwrap(), None, "{kind}");
    }
}

#[tokio::test]
async fn entries_expire() {
    for cache in both_caches().await {
        let kind = cache.kind();
        cache.set("short", b"x", Some(Duration::from_millis(50))).await.unwrap();
        assert!(cache.get("short").await.unwrap().is_some(), "{kind}");
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert_eq!(cache.get("short").await.unwrap(), None, "{kind}: expired entries must be gone");
    }
}

#[tokio::test]
async fn set_if_absent_and_take_are_single_use() {
    for cache in both_caches().await {
        let kind = cache.kind();
        assert!(cache.set_if_absent("lease", b"me", Duration::from_secs(5)).await.unwrap(), "{kind}");
        assert!(!cache.set_if_absent("lease", b"you", Duration::from_secs(5)).await.unwrap(), "{kind}");
        assert_eq!(cache.take("lease").await.unwrap().as_deref(), Some(&b"me"[..]), "{kind}");
        assert_eq!(cache.take("lease").await.unwrap(), None, "{kind}: take is single use");
    }
}

#[tokio::test]
async fn prefixes_isolate_deployments() {
    let a = Cache::redis(&redis_url(), &format!("{}:", unique_name("tessera-a"))).await.unwrap();
    let b = Cache::redis(&redis_url(), &format!("{}:", unique_name("tessera-b"))).await.unwrap();
    a.set("shared-name", b"a", Some(Duration::from_secs(30))).await.unwrap();
    assert_eq!(b.get("shared-name").await.unwrap(), None);
    assert_eq!(a.get("shared-name").await.unwrap().as_deref(), Some(&b"a"[..]));
    assert!(a.delete("shared-name").await.unwrap());
}

#[tokio::test]
async fn unreachable_redis_is_a_one_line_error_naming_the_setting() {
    let err = Cache::redis("redis://:s3cret@127.0.0.1:1", "x:").await.unwrap_err().to_string();
    assert!(err.starts_with("REDIS_URL=redis://:***@127.0.0.1:1: "), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn the_default_prefix_is_stable_and_depends_on_the_database() {
    let a = tessera_core::cache::default_prefix("postgres://db/a");
    assert_eq!(a, tessera_core::cache::default_prefix("postgres://db/a"));
    assert_ne!(a, tessera_core::cache::default_prefix("postgres://db/b"));
    assert!(a.starts_with("tessera:") && a.ends_with(':'));
}

#[tokio::test]
async fn hits_count_within_a_window_and_restart_after_it() {
    for cache in both_caches().await {
        let kind = cache.kind();
        let window = Duration::from_millis(300);
        let (first, left) = cache.hit("rl", window).await.unwrap();
        assert_eq!(first, 1, "{kind}");
        assert!(left <= window && left > Duration::ZERO, "{kind}: {left:?}");
        assert_eq!(cache.hit("rl", window).await.unwrap().0, 2, "{kind}");
        assert_eq!(cache.hit("rl", window).await.unwrap().0, 3, "{kind}");
        assert_eq!(cache.hit("other", window).await.unwrap().0, 1, "{kind}: windows are per key");
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(cache.hit("rl", window).await.unwrap().0, 1, "{kind}: a new window starts at 1");
    }
}
