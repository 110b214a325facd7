//! Display of values for people: the languages the web app ships, and locale-aware formatting of instants
//! in a time zone. Used by the server functions (the browser receives formatted text, so server and
//! hydrated renders agree and no time-zone database ships in the wasm).

use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, FieldError};

/// The languages of the web app.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    En,
    Es,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::En, Locale::Es];

    pub fn code(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Es => "es",
        }
    }

    /// `en`, `en-GB`, `es-419`, … → a shipped language (by its primary subtag).
    pub fn parse(tag: &str) -> Option<Locale> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Locale::ALL.into_iter().find(|l| l.code() == primary)
    }

    /// The first shipped language of an `Accept-Language` header, by quality.
    pub fn from_accept_language(header: &str) -> Option<Locale> {
        let mut ranked: Vec<(f32, Locale)> = header
            .split(',')
            .filter_map(|part| {
                let mut pieces = part.split(';');
                let locale = Locale::parse(pieces.next()?)?;
                let q = pieces
                    .find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()))
                    .unwrap_or(1.0);
                Some((q, locale))
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        ranked.first().map(|(_, l)| *l)
    }

    /// An instant in `tz`: `Dec 4, 2026, 15:05` / `4 dic 2026, 15:05`.
    pub fn date_time(self, at: DateTime<Utc>, tz: Tz) -> String {
        let local = at.with_timezone(&tz);
        let month = self.month(local.month0());
        let (h, m) = (local.hour(), local.minute());
        match self {
            Locale::En => format!("{month} {}, {}, {h:02}:{m:02}", local.day(), local.year()),
            Locale::Es => format!("{} {month} {}, {h:02}:{m:02}", local.day(), local.year()),
        }
    }

    fn month(self, month0: u32) -> &'static str {
        const EN: [&str; 12] =
            ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        const ES: [&str; 12] =
            ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic"];
        let names = match self {
            Locale::En => &EN,
            Locale::Es => &ES,
        };
        names.get(month0 as usize).copied().unwrap_or("?")
    }
}

/// A valid IANA time-zone name (`Europe/Madrid`), or a field error naming `field`.
pub fn parse_time_zone(field: &str, name: &str) -> Result<Tz, FieldError> {
    name.parse::<Tz>().map_err(|_| {
        FieldError::new(
            field,
            ErrorCode::Enum,
            format!("unknown time zone \"{name}\" (use an IANA name such as Europe/Madrid)"),
        )
    })
}

/// The instant a calendar day (`YYYY-MM-DD`, moved by `plus_days`) begins in `tz`: what a person means by
/// "from 4 Dec" (plus 0) or "until the end of 4 Dec" (plus 1, exclusive). Empty text is `None`.
pub fn day_start(
    field: &str,
    text: &str,
    tz: Tz,
    plus_days: i64,
) -> Result<Option<DateTime<Utc>>, FieldError> {
    use chrono::TimeZone;
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let bad = || FieldError::new(field, ErrorCode::Format, "a date (YYYY-MM-DD)");
    let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| bad())?;
    let midnight = (date + chrono::TimeDelta::days(plus_days)).and_hms_opt(0, 0, 0).ok_or_else(bad)?;
    // A midnight that a daylight-saving jump skips begins the day at the jump.
    let local = tz.from_local_datetime(&midnight);
    let start = local
        .earliest()
        .or_else(|| tz.from_local_datetime(&(midnight + chrono::TimeDelta::hours(1))).earliest());
    Ok(Some(start.map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc))))
}

/// Every IANA time-zone name, for pickers.
pub fn time_zone_names() -> impl Iterator<Item = &'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn instants_are_shown_in_the_time_zone() {
        let at = Utc.with_ymd_and_hms(2026, 12, 31, 23, 30, 0).single().unwrap();
        assert_eq!(Locale::En.date_time(at, Tz::UTC), "Dec 31, 2026, 23:30");
        let madrid = parse_time_zone("tz", "Europe/Madrid").unwrap();
        assert_eq!(Locale::Es.date_time(at, madrid), "1 ene 2027, 00:30");
        assert!(parse_time_zone("tz", "Mars/Olympus").is_err());
    }

    #[test]
    fn days_begin_at_local_midnight() {
        let madrid = parse_time_zone("tz", "Europe/Madrid").unwrap();
        let start = day_start("from", "2026-12-04", madrid, 0).unwrap().unwrap();
        assert_eq!(start.to_rfc3339(), "2026-12-03T23:00:00+00:00");
        let end = day_start("to", "2026-12-31", madrid, 1).unwrap().unwrap();
        assert_eq!(end.to_rfc3339(), "2026-12-31T23:00:00+00:00");
        assert_eq!(day_start("to", " ", Tz::UTC, 1).unwrap(), None);
        assert_eq!(day_start("to", "31/12/2026", Tz::UTC, 0).unwrap_err().field, "to");
    }

    #[test]
    fn accept_language_picks_the_best_shipped_language() {
        assert_eq!(Locale::from_accept_language("fr-FR, es-ES;q=0.8, en;q=0.5"), Some(Locale::Es));
        assert_eq!(Locale::from_accept_language("de"), None);
        assert_eq!(Locale::parse("en-GB"), Some(Locale::En));
    }
}
