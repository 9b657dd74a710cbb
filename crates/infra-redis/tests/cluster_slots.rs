//! Ready for Redis Cluster: no command the adapters send names keys of two hash slots.
//!
//! A Redis Cluster refuses (`CROSSSLOT`) a command or script whose keys hash to different slots.
//! The lock takes each level's key with its own `SET NX PX` and gives each back with its own
//! one-key script, and the fan-out's `PUBLISH` names a channel, not a key — so no key needs a
//! hash tag, and a multi-variant order's keys spread over the cluster. This test holds that
//! true of what actually reaches Redis: it watches the server with `MONITOR` while the lock takes
//! and releases the keys of a multi-variant order, and computes the slot of every key of every
//! command (CRC16-XMODEM of the key, or of its `{hash tag}`, modulo 16384, as the Redis Cluster
//! specification defines it).

#[allow(dead_code)]
#[path = "redis_adapters/support.rs"]
mod support;

use std::time::Duration;

use domain::ids::{LocationId, TenantId, UserId, VariantId};
use domain::lock::{LockKey, LockManager};
use domain::stock::models::Level;
use infra_redis::{RedisLock, RedisLockConfig, RELEASE_SCRIPT};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::support::{eventually, require_redis};

/// CRC16-XMODEM (polynomial 0x1021, initial value 0, no reflection), the checksum Redis Cluster
/// hashes keys with.
fn crc16(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &byte in bytes {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// The cluster slot of `key`: only the part between the first `{` and the next `}` is hashed,
/// when that part is not empty.
fn hash_slot(key: &[u8]) -> u16 {
    let mut hashed = key;
    if let Some(open) = key.iter().position(|&b| b == b'{') {
        if let Some(len) = key[open + 1..].iter().position(|&b| b == b'}') {
            if len > 0 {
                hashed = &key[open + 1..open + 1 + len];
            }
        }
    }
    crc16(hashed) % 16384
}

#[test]
fn the_slot_function_matches_the_cluster_specification() {
    // The specification's check value, and its hash-tag examples.
    assert_eq!(crc16(b"123456789"), 0x31C3);
    assert_eq!(
        hash_slot(b"{user1000}.following"),
        hash_slot(b"{user1000}.followers")
    );
    assert_eq!(hash_slot(b"{user1000}.following"), hash_slot(b"user1000"));
    assert_eq!(hash_slot(b"foo{}{bar}"), crc16(b"foo{}{bar}") % 16384);
    assert_eq!(hash_slot(b"foo{{bar}}zap"), hash_slot(b"{bar"));
    assert_eq!(hash_slot(b"foo{bar}{zap}"), hash_slot(b"bar"));
    // Slots Redis itself reports (CLUSTER KEYSLOT).
    assert_eq!(hash_slot(b"foo"), 12182);
    assert_eq!(hash_slot(b"bar"), 5061);
}

#[test]
fn the_release_script_touches_one_key() {
    assert!(RELEASE_SCRIPT.contains("KEYS[1]"));
    assert!(
        !RELEASE_SCRIPT.contains("KEYS[2]"),
        "a second key would have to share the first one's slot"
    );
}

/// One command as `MONITOR` prints it: whether a script ran it, and its words.
struct Seen {
    from_script: bool,
    words: Vec<Vec<u8>>,
}

impl std::fmt::Debug for Seen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let words: Vec<_> = self
            .words
            .iter()
            .map(|w| String::from_utf8_lossy(w))
            .collect();
        write!(f, "{}{words:?}", if self.from_script { "lua " } else { "" })
    }
}

/// Parses `1700000000.123456 [0 127.0.0.1:5000] "SET" "k" "v"` (or `[0 lua]` inside a script).
fn parse_monitor_line(line: &str) -> Option<Seen> {
    let line = line.strip_prefix('+')?;
    let open = line.find('[')?;
    let close = open + line[open..].find(']')?;
    let from_script = line[open..close].ends_with(" lua");
    let mut words = Vec::new();
    let mut chars = line[close + 1..].bytes().peekable();
    while let Some(b) = chars.next() {
        if b != b'"' {
            continue;
        }
        let mut word = Vec::new();
        while let Some(b) = chars.next() {
            match b {
                b'"' => break,
                b'\\' => match chars.next()? {
                    b'x' => {
                        let hex = [chars.next()?, chars.next()?];
                        let hex = std::str::from_utf8(&hex).ok()?;
                        word.push(u8::from_str_radix(hex, 16).ok()?);
                    }
                    b'n' => word.push(b'\n'),
                    b'r' => word.push(b'\r'),
                    b't' => word.push(b'\t'),
                    other => word.push(other),
                },
                other => word.push(other),
            }
        }
        words.push(word);
    }
    Some(Seen { from_script, words })
}

/// The keys a command names, for the commands the adapters send. An unknown command fails the
/// test, so a new one is classified here before it can reach a cluster unchecked.
fn keys_of(words: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let name = String::from_utf8_lossy(&words[0]).to_ascii_uppercase();
    match name.as_str() {
        "SET" | "GET" | "PEXPIRE" | "PTTL" => vec![words[1].clone()],
        "DEL" | "UNLINK" | "EXISTS" | "MGET" => words[1..].to_vec(),
        "EVAL" | "EVALSHA" => {
            let count: usize = String::from_utf8_lossy(&words[2]).parse().unwrap();
            words[3..3 + count].to_vec()
        }
        // Keyless: a channel is not a key (classic pub/sub reaches every node of a cluster).
        "PING" | "PUBLISH" | "SCRIPT" | "CLIENT" | "HELLO" | "SELECT" | "INFO" => Vec::new(),
        other => panic!("classify the keys of {other} in this test: {words:?}"),
    }
}

/// The slots of a command's keys when they are not all one slot.
fn cross_slot(seen: &Seen) -> Option<Vec<u16>> {
    let slots: Vec<u16> = keys_of(&seen.words).iter().map(|k| hash_slot(k)).collect();
    (!slots.windows(2).all(|w| w[0] == w[1])).then_some(slots)
}

#[test]
fn a_script_over_keys_of_two_slots_is_caught_and_a_hash_tag_fixes_it() {
    let across = parse_monitor_line(
        r#"+1700000000.000001 [0 127.0.0.1:5000] "EVALSHA" "ab12" "2" "foo" "bar" "tok\x01""#,
    )
    .unwrap();
    assert!(!across.from_script);
    assert_eq!(across.words[5], b"tok\x01".to_vec());
    assert_eq!(cross_slot(&across), Some(vec![12182, 5061]));
    let tagged =
        parse_monitor_line(r#"+1700000000.000002 [0 lua] "DEL" "{t1}:foo" "{t1}:bar""#).unwrap();
    assert!(tagged.from_script);
    assert_eq!(cross_slot(&tagged), None);
}

/// A connection in `MONITOR` mode to the Redis at `url` (`redis://host:port`).
async fn monitor(url: &str) -> BufReader<TcpStream> {
    let address = url
        .trim_start_matches("redis://")
        .trim_end_matches('/')
        .rsplit('@')
        .next()
        .unwrap()
        .to_owned();
    let mut stream = TcpStream::connect(address)
        .await
        .expect("test Redis reachable");
    stream.write_all(b"MONITOR\r\n").await.unwrap();
    let mut reader = BufReader::new(stream);
    let mut ok = String::new();
    reader.read_line(&mut ok).await.unwrap();
    assert_eq!(ok.trim_end(), "+OK");
    reader
}

#[tokio::test]
async fn every_command_of_a_multi_variant_order_names_keys_of_one_slot() {
    let url = require_redis!();
    let mut watch = monitor(&url).await;

    let tenant = TenantId::new();
    let location = LocationId::new();
    let mut keys: Vec<LockKey> = (0..6)
        .map(|_| LockKey::level(&tenant, &Level::new(VariantId::new(), location)))
        .collect();
    keys.push(LockKey::idempotency(&tenant, &UserId::new(), "order-1"));
    keys.sort();
    let lock = RedisLock::connect_with(&url, RedisLockConfig::default()).unwrap();
    let guard = lock
        .acquire(&keys, Duration::from_secs(5))
        .await
        .expect("free keys are taken");
    drop(guard);
    let mut raw = support::raw(&url).await;
    // The guard releases in the background; wait until every key is gone, so every release
    // command reached Redis before the marker below.
    let released = eventually(Duration::from_secs(5), || {
        let mut conn = raw.clone();
        let names: Vec<String> = keys.iter().map(RedisLock::redis_key).collect();
        async move {
            for name in &names {
                if support::get(&mut conn, name).await.is_some() {
                    return false;
                }
            }
            true
        }
    })
    .await;
    assert!(released, "the guard's release did not happen");
    // A marker command of this tenant ends what the monitor has to read.
    let marker = format!("{tenant}:end");
    let _: Option<String> = redis::cmd("GET")
        .arg(&marker)
        .query_async(&mut raw)
        .await
        .unwrap();

    let tenant_text = tenant.to_string();
    let mut commands = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        tokio::time::timeout(Duration::from_secs(5), watch.read_line(&mut line))
            .await
            .expect("the monitor shows the marker")
            .unwrap();
        if !line.contains(&tenant_text) {
            continue;
        }
        if line.contains(&marker) {
            break;
        }
        commands.push(parse_monitor_line(line.trim_end()).expect("a MONITOR line"));
    }

    let (mut sets, mut scripts) = (0, 0);
    for seen in &commands {
        let across = cross_slot(seen);
        assert!(across.is_none(), "{seen:?} names keys of slots {across:?}");
        match (
            seen.from_script,
            seen.words[0].to_ascii_uppercase().as_slice(),
        ) {
            (false, b"SET") => sets += 1,
            (false, b"EVALSHA" | b"EVAL") => scripts += 1,
            _ => {}
        }
    }
    // Not vacuous: every key was taken and given back through the commands checked above.
    assert_eq!(sets, keys.len(), "one SET per key: {commands:?}");
    assert!(scripts >= keys.len(), "one release per key: {commands:?}");

    // The keys themselves spread over slots: nothing ties a tenant's locks to one node.
    let mut slots: Vec<u16> = keys
        .iter()
        .map(|k| hash_slot(RedisLock::redis_key(k).as_bytes()))
        .collect();
    slots.dedup();
    assert!(slots.len() > 1, "{slots:?}");
}
