//! The time zones readers and staff choose from: by city, grouped by region,
//! with the offset each has now, so nobody needs to know IANA names.
use chrono::{DateTime, Offset, Utc};
use chrono_tz::{Tz, TZ_VARIANTS};
use serde::Serialize;

/// The zones most readers want, offered first.
const COMMON: &[&str] = &[
    "UTC",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Moscow",
    "Africa/Johannesburg",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
];

/// The continents and oceans of the IANA database. Other prefixes (`US/`,
/// `Etc/`, `Canada/`...) are old aliases of zones listed under these.
const REGIONS: &[&str] = &[
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
];

#[derive(Debug, Clone, Serialize)]
pub struct ZoneChoice {
    /// The IANA name, the value a form sends.
    pub name: &'static str,
    /// "New York, UTC−05:00 (EST)".
    pub label: String,
    /// The one option a picker starts on (a zone may be listed twice: among
    /// the common ones and in its region).
    pub selected: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ZoneGroup {
    pub region: &'static str,
    pub zones: Vec<ZoneChoice>,
}

/// "New York" for America/New_York, "Buenos Aires (Argentina)" for
/// America/Argentina/Buenos_Aires, "UTC" for UTC.
pub fn city(name: &str) -> String {
    let mut parts = name.split('/').skip(1).collect::<Vec<_>>();
    let Some(last) = parts.pop() else {
        return name.to_owned();
    };
    let last = last.replace('_', " ");
    match parts.last() {
        Some(country) => format!("{last} ({})", country.replace('_', " ")),
        None => last,
    }
}

/// "UTC−05:00", "UTC+05:30", "UTC" for a zone at `now`.
pub fn offset(tz: Tz, now: DateTime<Utc>) -> String {
    let secs = now.with_timezone(&tz).offset().fix().local_minus_utc();
    if secs == 0 {
        return "UTC".to_owned();
    }
    let sign = if secs < 0 { '\u{2212}' } else { '+' };
    let mins = secs.unsigned_abs() / 60;
    format!("UTC{sign}{:02}:{:02}", mins / 60, mins % 60)
}

/// A zone as a picker shows it at `now`.
pub fn choice(tz: Tz, now: DateTime<Utc>) -> ZoneChoice {
    let name = tz.name();
    let abbreviation = now.with_timezone(&tz).format("%Z").to_string();
    let offset = offset(tz, now);
    // Zones without a letter abbreviation print their offset again ("+0530").
    let label = if name == "UTC" {
        "UTC".to_owned()
    } else if abbreviation.starts_with(['+', '-']) || abbreviation == "UTC" {
        format!("{}, {offset}", city(name))
    } else {
        format!("{}, {offset} ({abbreviation})", city(name))
    };
    ZoneChoice {
        name,
        label,
        selected: false,
    }
}

/// Every zone a picker offers at `now`, starting on `chosen`.
pub fn picker(now: DateTime<Utc>, chosen: &str) -> Vec<ZoneGroup> {
    let mut groups = groups(now);
    if let Some(z) = groups
        .iter_mut()
        .flat_map(|g| g.zones.iter_mut())
        .find(|z| z.name == chosen)
    {
        z.selected = true;
    }
    groups
}

/// Every zone a picker offers at `now`: the common ones first, then each
/// region's by city name.
fn groups(now: DateTime<Utc>) -> Vec<ZoneGroup> {
    let common = ZoneGroup {
        region: "Common",
        zones: COMMON
            .iter()
            .filter_map(|n| n.parse::<Tz>().ok())
            .map(|tz| choice(tz, now))
            .collect(),
    };
    let mut out = vec![common];
    for region in REGIONS {
        let mut zones: Vec<ZoneChoice> = TZ_VARIANTS
            .iter()
            .filter(|tz| tz.name().split_once('/').is_some_and(|(r, _)| r == *region))
            .map(|tz| choice(*tz, now))
            .collect();
        zones.sort_by(|a, b| a.label.cmp(&b.label));
        out.push(ZoneGroup { region, zones });
    }
    out
}

/// The page a picker sends the reader back to: a path on this site, never
/// another host, without its query (the picker's own `tz` replaces it).
pub fn back_path(asked: Option<&str>) -> String {
    let path = asked.unwrap_or("/").split(['?', '#']).next().unwrap_or("/");
    let local = path.starts_with('/')
        && !path.starts_with("//")
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/-_.".contains(&b));
    if local {
        path.to_owned()
    } else {
        "/".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn cities_read_as_people_say_them() {
        assert_eq!(city("America/New_York"), "New York");
        assert_eq!(
            city("America/Argentina/Buenos_Aires"),
            "Buenos Aires (Argentina)"
        );
        assert_eq!(city("UTC"), "UTC");
    }

    #[test]
    fn labels_carry_the_offset_of_the_day() {
        let ny: Tz = "America/New_York".parse().unwrap();
        let winter = Utc.with_ymd_and_hms(2008, 2, 28, 17, 38, 0).unwrap();
        let summer = Utc.with_ymd_and_hms(2008, 7, 1, 12, 0, 0).unwrap();
        assert_eq!(choice(ny, winter).label, "New York, UTC\u{2212}05:00 (EST)");
        assert_eq!(choice(ny, summer).label, "New York, UTC\u{2212}04:00 (EDT)");
        let kolkata: Tz = "Asia/Kolkata".parse().unwrap();
        assert_eq!(offset(kolkata, winter), "UTC+05:30");
        assert_eq!(choice(chrono_tz::UTC, winter).label, "UTC");
    }

    #[test]
    fn every_region_is_offered_and_no_alias_prefix() {
        let groups = groups(Utc::now());
        assert_eq!(groups[0].region, "Common");
        let all: Vec<&str> = groups[1..]
            .iter()
            .flat_map(|g| g.zones.iter().map(|z| z.name))
            .collect();
        assert!(all.contains(&"America/New_York"));
        assert!(all.contains(&"Asia/Kathmandu"));
        assert!(!all
            .iter()
            .any(|n| n.starts_with("US/") || n.starts_with("Etc/")));
        assert!(groups.iter().all(|g| !g.zones.is_empty()));
    }

    #[test]
    fn a_picker_starts_on_one_option() {
        let selected = |chosen| {
            picker(Utc::now(), chosen)
                .iter()
                .flat_map(|g| g.zones.iter().filter(|z| z.selected).map(|z| z.name))
                .collect::<Vec<_>>()
        };
        assert_eq!(selected("America/New_York"), ["America/New_York"]);
        assert_eq!(selected("Asia/Kathmandu"), ["Asia/Kathmandu"]);
    }

    #[test]
    fn the_way_back_stays_on_this_site() {
        assert_eq!(back_path(Some("/incidents/3?tz=UTC")), "/incidents/3");
        assert_eq!(back_path(Some("//evil.example/")), "/");
        assert_eq!(back_path(Some("https://evil.example/")), "/");
        assert_eq!(back_path(Some("/\\evil.example")), "/");
        assert_eq!(back_path(None), "/");
    }
}
