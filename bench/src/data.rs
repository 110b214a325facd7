//! Deterministic test data: row `i` is always the same, whatever order rows are made in and on every run, so
//! the EAV table and the flat table hold identical data and runs are comparable.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use tessera_core::eav::format_timestamp;

/// The logical table.
pub const TABLE: &str = "bench_items";

/// How many distinct categories (`cat-00` … `cat-19`).
pub const CATEGORIES: u64 = 20;

/// The 10 columns of `bench_items`: name and Tessera data type.
pub const COLUMNS: [(&str, &str); 10] = [
    ("sku", "String"),
    ("title", "String"),
    ("description", "Text"),
    ("qty", "Int"),
    ("price", "Decimal"),
    ("weight", "Decimal"),
    ("active", "Boolean"),
    ("released", "Date"),
    ("updated", "DateTime"),
    ("category", "String"),
];

/// 2015-01-01T00:00:00Z: `released` dates fall in the ten years after it.
const RELEASED_FROM: i64 = 1_420_070_400;
/// 2020-01-01T00:00:00Z: `updated` timestamps fall in the five years after it.
const UPDATED_FROM: i64 = 1_577_836_800;
const DAY: u64 = 86_400;

const ADJECTIVES: [&str; 16] = [
    "red", "blue", "quiet", "heavy", "compact", "classic", "smart", "rustic", "modern", "tiny", "large",
    "bright", "silent", "rapid", "sturdy", "golden",
];
const NOUNS: [&str; 16] = [
    "lamp", "chair", "kettle", "drill", "backpack", "monitor", "teapot", "bicycle", "speaker", "jacket",
    "notebook", "clock", "blender", "tent", "keyboard", "mirror",
];
#[rustfmt::skip]
const WORDS: [&str; 32] = [
    "durable", "lightweight", "designed", "for", "everyday", "use", "with", "a", "two", "year", "warranty",
    "and", "easy", "cleaning", "made", "from", "recycled", "materials", "fits", "most", "rooms", "ships",
    "assembled", "in", "the", "box", "includes", "spare", "parts", "manual", "tested", "quality",
];

/// SplitMix64: a tiny, fast generator; plenty for test data, no `rand` crate needed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// A position in `0..len` (`len > 0`).
    pub fn position(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        let i = self.position(words.len());
        words.get(i).copied().unwrap_or_default()
    }
}

/// One row of `bench_items`.
#[derive(Debug, Clone)]
pub struct Item {
    pub sku: String,
    pub title: String,
    pub description: String,
    /// 0 ..= 9,999.
    pub qty: i64,
    /// 0.00 ..= 9,999.99 (two decimals).
    pub price: Decimal,
    /// 0.000 ..= 99.999.
    pub weight: Decimal,
    pub active: bool,
    pub released: NaiveDate,
    pub updated: DateTime<Utc>,
    /// `cat-00` … `cat-19`.
    pub category: String,
}

/// Row number `index` (0-based).
pub fn item(index: u64) -> Item {
    let mut rng = Rng::new(index ^ 0x7E55_E7A0_BE4C_0000);
    let title = format!("{} {} {}", rng.pick(&ADJECTIVES), rng.pick(&NOUNS), rng.below(1000));
    let words = 12 + rng.below(20);
    let mut description = String::with_capacity(200);
    for i in 0..words {
        if i > 0 {
            description.push(' ');
        }
        description.push_str(rng.pick(&WORDS));
    }
    let qty = rng.below(10_000) as i64;
    let price = Decimal::new(rng.below(1_000_000) as i64, 2);
    let weight = Decimal::new(rng.below(100_000) as i64, 3);
    let active = rng.below(10) != 0;
    let released_at = RELEASED_FROM + (rng.below(3_650) * DAY) as i64;
    let released = DateTime::<Utc>::from_timestamp(released_at, 0).unwrap_or_default().date_naive();
    let updated_at = UPDATED_FROM + rng.below(5 * 365 * DAY) as i64;
    let updated = DateTime::<Utc>::from_timestamp(updated_at, 0).unwrap_or_default();
    let category = format!("cat-{:02}", rng.below(CATEGORIES));
    Item {
        sku: format!("SKU-{index:08}"),
        title,
        description,
        qty,
        price,
        weight,
        active,
        released,
        updated,
        category,
    }
}

impl Item {
    /// The `values` object of the EAV API (decimals as exact strings, dates `YYYY-MM-DD`, timestamps RFC 3339).
    pub fn values_json(&self) -> Value {
        json!({
            "sku": self.sku,
            "title": self.title,
            "description": self.description,
            "qty": self.qty,
            "price": self.price.to_string(),
            "weight": self.weight.to_string(),
            "active": self.active,
            "released": self.released.format("%Y-%m-%d").to_string(),
            "updated": format_timestamp(&self.updated),
            "category": self.category,
        })
    }

    /// The body of `POST /data/bench_items` (`Eav::create_row`).
    pub fn row_body(&self) -> Value {
        json!({ "values": self.values_json() })
    }

    /// One `create` operation of a batch.
    pub fn create_op(&self) -> Value {
        json!({ "op": "create", "values": self.values_json() })
    }
}

/// The body of a batch creating rows `from..to`.
pub fn batch_body(from: u64, to: u64) -> Value {
    let operations: Vec<Value> = (from..to).map(|i| item(i).create_op()).collect();
    json!({ "operations": operations })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_deterministic_and_in_range() {
        let a = item(12_345);
        let b = item(12_345);
        assert_eq!(a.values_json(), b.values_json());
        for i in 0..2_000 {
            let it = item(i);
            assert!((0..10_000).contains(&it.qty));
            assert!(it.price >= Decimal::ZERO && it.price < Decimal::new(1_000_000, 2));
            assert!(it.category.starts_with("cat-") && it.category.len() == 6);
            assert!(it.released.format("%Y").to_string().as_str() >= "2015");
        }
    }
}
